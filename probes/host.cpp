#include "probes/host.hpp"

#include "common/fd.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>

namespace halo::probes {

namespace {

Error os_error(std::string_view verb, const std::filesystem::path& path, int err)
{
    return Error{fmt::format("Failed to {} '{}': {}", verb, path.string(), std::strerror(err)), err};
}

} // namespace

Host::Host(std::filesystem::path root) : m_root(std::move(root)), m_live(m_root == "/" || m_root.empty())
{
    if (m_root.empty()) m_root = "/";
}

std::filesystem::path Host::path(std::string_view absolute) const
{
    if (m_live) return std::filesystem::path(absolute);
    std::string_view relative = absolute;
    while (!relative.empty() && relative.front() == '/') relative.remove_prefix(1);
    return m_root / relative;
}

Result<std::string> Host::read_file(std::string_view absolute, std::size_t max_bytes) const
{
    const auto p = path(absolute);
    Fd f(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (f.get() < 0) return os_error("read", p, errno);
    std::string data;
    // Regular files say their size: one allocation. /proc and /sys files report 0 or a page.
    if (struct stat st{}; ::fstat(f.get(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
                          static_cast<std::uint64_t>(st.st_size) <= max_bytes) {
        data.reserve(static_cast<std::size_t>(st.st_size) + 1);
    }
    char buffer[65536];
    while (true) {
        const ssize_t n = ::read(f.get(), buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) continue;
            return os_error("read", p, errno);
        }
        if (n == 0) break;
        if (data.size() + static_cast<std::size_t>(n) > max_bytes) {
            return Error{fmt::format("Failed to read '{}': larger than {} bytes", p.string(), max_bytes), EFBIG};
        }
        data.append(buffer, static_cast<std::size_t>(n));
    }
    return data;
}

Result<std::vector<std::string>> Host::list_dir(std::string_view absolute) const
{
    const auto p = path(absolute);
    std::error_code ec;
    std::filesystem::directory_iterator it(p, ec);
    if (ec) return os_error("list directory", p, ec.value());
    std::vector<std::string> names;
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
        if (ec) return os_error("list directory", p, ec.value());
        names.push_back(it->path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

Result<FileInfo> Host::stat(std::string_view absolute) const
{
    const auto p = path(absolute);
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return os_error("stat", p, errno);
    FileInfo info;
    info.is_directory = S_ISDIR(st.st_mode);
    info.is_regular = S_ISREG(st.st_mode);
    info.is_char_device = S_ISCHR(st.st_mode);
    info.size = static_cast<std::uint64_t>(st.st_size);
    info.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    info.mode = st.st_mode;
    info.uid = st.st_uid;
    info.gid = st.st_gid;
    return info;
}

bool Host::exists(std::string_view absolute) const
{
    struct stat st {};
    return ::lstat(path(absolute).c_str(), &st) == 0;
}

bool Host::executable(std::string_view absolute) const { return ::access(path(absolute).c_str(), X_OK) == 0; }

Result<std::string> Host::read_link(std::string_view absolute) const
{
    const auto p = path(absolute);
    std::error_code ec;
    auto target = std::filesystem::read_symlink(p, ec);
    if (ec) return os_error("read link", p, ec.value());
    return target.string();
}

std::optional<std::string> Host::env(const std::string& name) const
{
    if (auto it = m_env.find(name); it != m_env.end()) return it->second;
    if (!m_live) return std::nullopt;
    if (const char* value = std::getenv(name.c_str())) return std::string(value);
    return std::nullopt;
}

} // namespace halo::probes
