// The systemd side of the sd_notify protocol, for tests: binds an AF_UNIX datagram socket at
// PATH, then runs COMMAND… with NOTIFY_SOCKET=PATH, WATCHDOG_USEC=USEC and WATCHDOG_PID set to
// the child's pid (as systemd does for Type=notify with WatchdogSec=), and prints every message
// it receives as "+MS PID FIELD=VALUE" lines on stdout (one line per field), until the command
// exits. Also prints "+MS exit CODE" at the end, and exits with the command's exit code.
//   notify_listener PATH USEC -- COMMAND...

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int argc, char** argv)
{
    if (argc < 5 || std::strcmp(argv[3], "--") != 0) {
        std::fprintf(stderr, "usage: notify_listener PATH USEC -- COMMAND...\n");
        return 2;
    }
    const std::string path = argv[1];
    const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
    unlink(path.c_str());
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
        std::perror("bind");
        return 2;
    }
    const auto start = std::chrono::steady_clock::now();
    const pid_t pid = fork();
    if (pid == 0) {
        setenv("NOTIFY_SOCKET", path.c_str(), 1);
        setenv("WATCHDOG_USEC", argv[2], 1);
        setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
        execvp(argv[4], argv + 4);
        std::perror("execvp");
        _exit(127);
    }
    auto ms = [&] {
        return static_cast<long>(
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count());
    };
    int status = 0;
    bool exited = false;
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        const int r = poll(&p, 1, 50);
        if (r > 0) {
            char buf[4096];
            char control[CMSG_SPACE(sizeof(ucred))];
            iovec iov{buf, sizeof buf - 1};
            msghdr msg{};
            msg.msg_iov = &iov;
            msg.msg_iovlen = 1;
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            const ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
            if (n > 0) {
                buf[n] = 0;
                long sender = -1;
                for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                        ucred cred{};
                        std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
                        sender = cred.pid;
                    }
                }
                std::string text(buf, static_cast<size_t>(n));
                size_t start_pos = 0;
                while (start_pos < text.size()) {
                    size_t nl = text.find('\n', start_pos);
                    if (nl == std::string::npos) nl = text.size();
                    if (nl > start_pos)
                        std::printf("+%ld %ld %s\n", ms(), sender, text.substr(start_pos, nl - start_pos).c_str());
                    start_pos = nl + 1;
                }
                std::fflush(stdout);
                continue;
            }
        }
        if (exited) break;
        if (waitpid(pid, &status, WNOHANG) == pid) exited = true; // one more drain round
    }
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::printf("+%ld exit %d\n", ms(), code);
    unlink(path.c_str());
    return code;
}
