#pragma once
// Process file descriptors: a signal through one cannot reach a later process that got the same
// pid, which matters for processes that are not our children (an engine inside a container, a
// leftover engine) and so cannot be pinned by waiting for them.

#include <poll.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

namespace halo::checkd {

inline int open_process_fd(pid_t pid) noexcept { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
inline int signal_process_fd(int pidfd, int sig) noexcept
{
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}
// A pidfd becomes readable once its process has exited; `timeout_ms` 0 only asks.
inline bool process_fd_exited(int pidfd, int timeout_ms = 0) noexcept
{
    pollfd p{pidfd, POLLIN, 0};
    return ::poll(&p, 1, timeout_ms) > 0;
}

} // namespace halo::checkd
