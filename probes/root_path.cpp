#include "probes/root_path.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define HALO_HAVE_OPENAT2_HEADER 1
#endif

#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <vector>

namespace halo::probes {

namespace {

void push_components(std::deque<std::string>& todo, std::string_view path)
{
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t slash = path.find('/', start);
        const std::string_view part = path.substr(start, slash == std::string_view::npos ? path.npos : slash - start);
        if (!part.empty() && part != ".") parts.emplace_back(part);
        if (slash == std::string_view::npos) break;
        start = slash + 1;
    }
    // In front of what is left, in order: a link's target replaces the link itself.
    todo.insert(todo.begin(), parts.begin(), parts.end());
}

std::filesystem::path joined(const std::filesystem::path& root, const std::vector<std::string>& parts)
{
    std::filesystem::path out = root;
    for (const std::string& p : parts) out /= p;
    return out;
}

Error failed(const std::filesystem::path& root, std::string_view absolute, int err)
{
    while (!absolute.empty() && absolute.front() == '/') absolute.remove_prefix(1);
    return Error{fmt::format("Failed to read '{}': {}", (root / absolute).string(),
                             err == ELOOP ? "too many symbolic links" : std::strerror(err)),
                 err};
}

Result<Fd> open_walked(const std::filesystem::path& root, std::string_view absolute, int flags)
{
    auto resolved = resolve_in_root(root, absolute);
    if (!resolved) return resolved.error();
    // O_NOFOLLOW: a link put in the resolved place since the walk is refused, not followed.
    Fd fd(::open(resolved->c_str(), flags | O_CLOEXEC | O_NOFOLLOW));
    if (!fd) return failed(root, absolute, errno);
    return fd;
}

} // namespace

Result<std::filesystem::path> resolve_in_root(const std::filesystem::path& root, std::string_view absolute,
                                              bool follow_last)
{
    std::deque<std::string> todo;
    push_components(todo, absolute);
    std::vector<std::string> done;
    int links = 0;
    bool missing = false;
    while (!todo.empty()) {
        std::string part = std::move(todo.front());
        todo.pop_front();
        if (part == "..") {
            // The root is its own parent, as "/" is.
            if (!done.empty()) done.pop_back();
            continue;
        }
        if (missing || (todo.empty() && !follow_last)) {
            done.push_back(std::move(part));
            continue;
        }
        const std::filesystem::path here = joined(root, done) / part;
        struct stat st {};
        if (::lstat(here.c_str(), &st) != 0) {
            const int err = errno;
            if (err != ENOENT && err != ENOTDIR) return failed(root, absolute, err);
            missing = true;
            done.push_back(std::move(part));
            continue;
        }
        if (!S_ISLNK(st.st_mode)) {
            done.push_back(std::move(part));
            continue;
        }
        if (++links > k_max_links_in_root) return failed(root, absolute, ELOOP);
        std::string target(PATH_MAX, '\0');
        const ssize_t n = ::readlink(here.c_str(), target.data(), target.size());
        if (n < 0) return failed(root, absolute, errno);
        target.resize(static_cast<std::size_t>(n));
        if (target.starts_with('/')) done.clear();
        push_components(todo, target);
    }
    return joined(root, done);
}

Result<Fd> open_in_root_walked(const std::filesystem::path& root, std::string_view absolute, int flags)
{
    return open_walked(root, absolute, flags);
}

Result<Fd> open_in_root(const std::filesystem::path& root, std::string_view absolute, int flags)
{
#if defined(HALO_HAVE_OPENAT2_HEADER) && defined(SYS_openat2)
    const Fd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir) return failed(root, absolute, errno);
    std::string_view relative = absolute;
    while (!relative.empty() && relative.front() == '/') relative.remove_prefix(1);
    const std::string name = relative.empty() ? "." : std::string(relative);
    open_how how{};
    how.flags = static_cast<std::uint64_t>(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const long fd = ::syscall(SYS_openat2, dir.get(), name.c_str(), &how, sizeof how);
    if (fd >= 0) return Fd(static_cast<int>(fd));
    // ENOSYS: a kernel before 5.6, or a seccomp filter (a container's) that does not know it.
    if (errno != ENOSYS) return failed(root, absolute, errno);
#endif
    return open_walked(root, absolute, flags);
}

} // namespace halo::probes
