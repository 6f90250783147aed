#include "daemon/checkd/state_lock.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace halo::checkd {

namespace {

// The holder's pid as it wrote it: digits only, since the file's bytes reach a terminal.
std::string holder_pid(int fd)
{
    char buffer[16] = {};
    const ssize_t n = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
    std::string pid;
    for (ssize_t i = 0; i < n && buffer[i] >= '0' && buffer[i] <= '9'; ++i) pid += buffer[i];
    return pid.empty() ? "unknown" : pid;
}

} // namespace

Result<Fd> lock_state_dir(const std::string& lock_path)
{
    Fd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600));
    if (!fd) {
        return Error{fmt::format("Failed to open the lock file '{}': {}; halo-checkd needs it to make sure it is the "
                                 "only daemon on its state directory",
                                 lock_path, std::strerror(errno)),
                     errno};
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) < 0 || !S_ISREG(st.st_mode)) {
        return Error{fmt::format("Failed to take the lock '{}': not a regular file; remove it", lock_path)};
    }
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) < 0) {
        if (errno == EWOULDBLOCK) {
            return Error{fmt::format("another halo-checkd (pid {}) already runs on this state directory (it holds "
                                     "'{}'); stop it first, or give this one another --state-dir",
                                     holder_pid(fd.get()), lock_path)};
        }
        return Error{fmt::format("Failed to take the lock '{}': {}", lock_path, std::strerror(errno)), errno};
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd.get(), 0) < 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0) {
        return Error{fmt::format("Failed to write the lock '{}': {}", lock_path, std::strerror(errno)), errno};
    }
    return fd;
}

} // namespace halo::checkd
