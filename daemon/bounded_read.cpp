#include "daemon/bounded_read.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace halo::app {

namespace {

struct Fd {
    int fd = -1;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    explicit Fd(int f) : fd(f) {}
    ~Fd()
    {
        if (fd >= 0) ::close(fd);
    }
};

} // namespace

Result<std::string> read_bounded_file(const std::string& path, std::size_t max_bytes)
{
    const Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY));
    if (f.fd < 0) {
        const int err = errno;
        const char* why = err == ELOOP ? "a symbolic link, which is not followed" : std::strerror(err);
        return Error{fmt::format("Failed to read '{}': {}", path, why), err};
    }
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) {
        const int err = errno;
        return Error{fmt::format("Failed to read '{}': {}", path, std::strerror(err)), err};
    }
    if (!S_ISREG(st.st_mode)) {
        return Error{fmt::format("Failed to read '{}': not a regular file; replace it with one", path), EINVAL};
    }
    if (static_cast<std::size_t>(st.st_size) > max_bytes) {
        return Error{fmt::format("Failed to read '{}': {} bytes, more than the {} this file may hold", path, st.st_size,
                                 max_bytes),
                     EFBIG};
    }
    std::string text;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(f.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int err = errno;
            return Error{fmt::format("Failed to read '{}': {}", path, std::strerror(err)), err};
        }
        if (n == 0) break;
        // The file may grow between fstat and read: the cap holds for what is read, too.
        if (text.size() + static_cast<std::size_t>(n) > max_bytes) {
            return Error{fmt::format("Failed to read '{}': more than the {} bytes this file may hold", path, max_bytes),
                         EFBIG};
        }
        text.append(buf, static_cast<std::size_t>(n));
    }
    return text;
}

} // namespace halo::app
