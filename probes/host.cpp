#include "probes/host.hpp"

#include "common/fd.hpp"
#include "probes/root_path.hpp"

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

std::filesystem::path lexical(const std::filesystem::path& root, std::string_view absolute)
{
    while (!absolute.empty() && absolute.front() == '/') absolute.remove_prefix(1);
    return root / absolute;
}

} // namespace

Host::Host(std::filesystem::path root) : m_root(std::move(root)), m_live(m_root == "/" || m_root.empty())
{
    if (m_root.empty()) m_root = "/";
}

Result<std::filesystem::path> Host::confined(std::string_view absolute, bool follow_last) const
{
    if (m_live) return std::filesystem::path(absolute);
    return resolve_in_root(m_root, absolute, follow_last);
}

std::filesystem::path Host::path(std::string_view absolute) const
{
    auto p = confined(absolute, true);
    return p ? std::move(*p) : lexical(m_root, absolute);
}

Result<std::string> Host::read_file(std::string_view absolute, std::size_t max_bytes) const
{
    const auto p = m_live ? std::filesystem::path(absolute) : lexical(m_root, absolute);
    constexpr int flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
    Fd f;
    if (m_live) {
        f.reset(::open(p.c_str(), flags));
    } else if (auto opened = open_in_root(m_root, absolute, flags)) {
        f = std::move(*opened);
    } else {
        return os_error("read", p, opened.error().errno_value);
    }
    if (f.get() < 0) return os_error("read", p, errno);
    std::string data;
    struct stat st {};
    if (::fstat(f.get(), &st) != 0) return os_error("read", p, errno);
    // /proc, /sys and debugfs files are regular files too; a FIFO or a device (a fixture's link to
    // /dev/zero) is no file a probe reads, and would only fill the cap.
    if (!S_ISREG(st.st_mode)) {
        return Error{fmt::format("Failed to read '{}': not a regular file", p.string()), EINVAL};
    }
    // Regular files say their size: one allocation. /proc and /sys files report 0 or a page.
    if (st.st_size > 0 && static_cast<std::uint64_t>(st.st_size) <= max_bytes) {
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
    auto confined_path = confined(absolute, true);
    if (!confined_path) return os_error("list directory", lexical(m_root, absolute), confined_path.error().errno_value);
    const auto& p = *confined_path;
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
    auto confined_path = confined(absolute, true);
    if (!confined_path) return os_error("stat", lexical(m_root, absolute), confined_path.error().errno_value);
    const auto& p = *confined_path;
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
    auto p = confined(absolute, false);
    return p && ::lstat(p->c_str(), &st) == 0;
}

bool Host::executable(std::string_view absolute) const
{
    auto p = confined(absolute, true);
    return p && ::access(p->c_str(), X_OK) == 0;
}

Result<std::string> Host::read_link(std::string_view absolute) const
{
    auto confined_path = confined(absolute, false);
    if (!confined_path) return os_error("read link", lexical(m_root, absolute), confined_path.error().errno_value);
    const auto& p = *confined_path;
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
