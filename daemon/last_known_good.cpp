#include "daemon/last_known_good.hpp"
#include "daemon/environment.hpp"

#include "rules/facts_io.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

namespace halo::daemon {

namespace {

constexpr std::string_view k_header = "# halo-check last known good, recorded ";

Error os_error(const char* what, const std::filesystem::path& path, int err)
{
    return Error{fmt::format("Failed to {} '{}': {}", what, path.string(), std::strerror(err)), err};
}

class FdGuard {
public:
    explicit FdGuard(int fd) noexcept : m_fd(fd) {}
    FdGuard(const FdGuard&) = delete;
    FdGuard& operator=(const FdGuard&) = delete;
    ~FdGuard()
    {
        if (m_fd >= 0) ::close(m_fd);
    }
    int get() const noexcept { return m_fd; }
    int release() noexcept { return std::exchange(m_fd, -1); }

private:
    int m_fd;
};

} // namespace

std::filesystem::path last_known_good_path(const std::filesystem::path& state_dir)
{
    return state_dir / "last-known-good.toml";
}

std::filesystem::path default_state_dir(bool system_service, const std::optional<std::string>& xdg_state_home,
                                        const std::optional<std::string>& home)
{
    if (system_service) return "/var/lib/halo-check";
    // The XDG base directory spec: a relative value is invalid and must be ignored.
    if (xdg_state_home && !xdg_state_home->empty() && (*xdg_state_home)[0] == '/')
        return std::filesystem::path(*xdg_state_home) / "halo-check";
    if (home && !home->empty()) return std::filesystem::path(*home) / ".local/state/halo-check";
    return {};
}

Result<void> write_file_atomically(const std::filesystem::path& path, std::string_view content, unsigned mode)
{
    const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    std::string temp = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
    FdGuard fd(::mkostemp(temp.data(), O_CLOEXEC));
    if (fd.get() < 0) return os_error("create a temporary file in", dir, errno);
    auto fail = [&](const char* what, int err) {
        ::unlink(temp.c_str());
        return os_error(what, temp, err);
    };
    if (::fchmod(fd.get(), static_cast<mode_t>(mode)) != 0) return fail("set the mode of", errno);
    for (std::size_t done = 0; done < content.size();) {
        const ssize_t n = ::write(fd.get(), content.data() + done, content.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail("write", errno);
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return fail("flush", errno);
    if (::close(fd.release()) != 0) return fail("close", errno);
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        const int err = errno;
        ::unlink(temp.c_str());
        return os_error("replace", path, err);
    }
    // The rename itself lives in the directory: without this a power cut may undo it.
    FdGuard dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dfd.get() >= 0) (void)::fsync(dfd.get());
    return {};
}

Result<void> store_last_known_good(const std::filesystem::path& state_dir, const rules::Facts& facts,
                                   std::chrono::system_clock::time_point when)
{
    if (state_dir.empty())
        return Error{"Failed to record the last known good facts: no state directory (set XDG_STATE_HOME or HOME)"};
    std::error_code ec;
    std::filesystem::create_directories(state_dir, ec);
    if (ec) return os_error("create the state directory", state_dir, ec.value());
    std::string text(k_header);
    text += rfc3339_utc(std::chrono::system_clock::to_time_t(when));
    text += '\n';
    text += rules::serialize_facts(facts, rules::FactsFormat::toml);
    return write_file_atomically(last_known_good_path(state_dir), text, 0600);
}

Result<LastKnownGood> load_last_known_good(const std::filesystem::path& state_dir)
{
    const std::filesystem::path path = last_known_good_path(state_dir);
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        const int err = errno;
        if (err == ENOENT)
            return Error{fmt::format("No last known good facts recorded yet ('{}' does not exist); the daemon records "
                                     "them once the engine has been healthy for a while",
                                     path.string()),
                         ENOENT};
        return os_error("read", path, err);
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    const std::string text = buffer.str();
    auto facts = rules::parse_facts_toml(text, path.string());
    if (!facts) return Error{facts.error().message + "; the last known good file is damaged: delete it, the daemon "
                                                     "records a new one"};
    LastKnownGood good{std::move(*facts), {}, path};
    if (text.rfind(k_header, 0) == 0) {
        good.recorded = text.substr(k_header.size(), text.find('\n') - k_header.size());
    } else {
        struct stat st {};
        if (::stat(path.c_str(), &st) == 0) good.recorded = rfc3339_utc(st.st_mtime);
    }
    return good;
}

} // namespace halo::daemon
