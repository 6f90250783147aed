#include "common/bounded_read.hpp"

#include "common/fd.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace halo {

Result<std::string> read_bounded_file(const std::string& path, std::size_t max_bytes, Links links,
                                      std::string_view what)
{
    const std::string label = what.empty() ? fmt::format("'{}'", path) : fmt::format("{} '{}'", what, path);
    const int nofollow = links == Links::refuse ? O_NOFOLLOW : 0;
    const Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | nofollow));
    if (!f) {
        const int err = errno;
        const char* why =
            err == ELOOP && links == Links::refuse ? "a symbolic link, which is not followed" : std::strerror(err);
        return Error{fmt::format("Failed to read {}: {}", label, why), err};
    }
    struct stat st {};
    if (::fstat(f.get(), &st) != 0) {
        const int err = errno;
        return Error{fmt::format("Failed to read {}: {}", label, std::strerror(err)), err};
    }
    if (!S_ISREG(st.st_mode)) {
        return Error{fmt::format("Failed to read {}: not a regular file (a FIFO, a device or a directory); replace it "
                                 "with one",
                                 label),
                     EINVAL};
    }
    if (static_cast<std::size_t>(st.st_size) > max_bytes) {
        return Error{fmt::format("Failed to read {}: {} bytes, more than the {} this file may hold", label, st.st_size,
                                 max_bytes),
                     EFBIG};
    }
    std::string text;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(f.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int err = errno;
            return Error{fmt::format("Failed to read {}: {}", label, std::strerror(err)), err};
        }
        if (n == 0) break;
        // The file may grow between fstat and read: the cap holds for what is read, too.
        if (text.size() + static_cast<std::size_t>(n) > max_bytes) {
            return Error{fmt::format("Failed to read {}: more than the {} bytes this file may hold", label, max_bytes),
                         EFBIG};
        }
        text.append(buf, static_cast<std::size_t>(n));
    }
    return text;
}

} // namespace halo
