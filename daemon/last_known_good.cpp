#include "daemon/last_known_good.hpp"

#include "common/bounded_read.hpp"
#include "common/clock.hpp"
#include "daemon/atomic_file.hpp"
#include "daemon/environment.hpp"

#include "rules/facts_io.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace halo::app {

namespace {

// A facts file with its header: tens of KiB.
constexpr std::size_t k_max_bytes = 16U << 20U;

constexpr std::string_view k_header = "# halo-check last known good, recorded ";

Error os_error(const char* what, const std::filesystem::path& path, int err)
{
    return Error{fmt::format("Failed to {} '{}': {}", what, path.string(), std::strerror(err)), err};
}

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
    // In the state directory, written by the daemon: a link there is not ours.
    auto read = read_bounded_file(path.string(), k_max_bytes, Links::refuse, "last known good file");
    if (!read) {
        const int err = read.error().errno_value;
        if (err == ENOENT)
            return Error{fmt::format("No last known good facts recorded yet ('{}' does not exist); the daemon records "
                                     "them once the engine has been healthy for a while",
                                     path.string()),
                         ENOENT};
        return read.error();
    }
    const std::string text = std::move(*read);
    auto facts = rules::parse_facts_toml(text, path.string());
    if (!facts)
        return Error{facts.error().message + "; the last known good file is damaged: delete it, the daemon "
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

} // namespace halo::app
