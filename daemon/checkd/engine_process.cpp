#include "daemon/checkd/engine_process.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace halo::checkd {

namespace {

// The engine must not talk to our systemd: the notify socket, the watchdog and any sockets
// passed to us are ours.
bool belongs_to_our_unit(std::string_view name) noexcept
{
    return name == "NOTIFY_SOCKET" || name == "WATCHDOG_USEC" || name == "WATCHDOG_PID" || name == "LISTEN_FDS" ||
           name == "LISTEN_PID";
}

void write_text(int fd, const char* text) noexcept { (void)!::write(fd, text, std::strlen(text)); }

// The child between fork and exec: async-signal-safe calls only, everything else was built
// before the fork.
[[noreturn]] void exec_child(pid_t parent, int devnull, int output, int exec_status, char* const* argv,
                             char* const* envp) noexcept
{
    ::setpgid(0, 0);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    // The daemon may have died between fork and prctl: then nobody would ever stop us.
    if (::getppid() != parent) ::_exit(1);
    // Handlers first, then the mask: a signal that arrives in between must not run one of the
    // parent's handlers in this copy of it.
    for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD}) ::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
    ::dup2(output, STDOUT_FILENO);
    ::dup2(output, STDERR_FILENO);
    ::execvpe(argv[0], argv, envp);
    const int err = errno;
    // Close-on-exec: a successful exec closes it unwritten; the parent reads errno or nothing.
    (void)!::write(exec_status, &err, sizeof err);
    write_text(STDERR_FILENO, "halo-checkd: failed to execute the engine command: ");
    write_text(STDERR_FILENO, strerror(err));
    write_text(STDERR_FILENO, "\n");
    ::_exit(err == ENOENT ? 127 : 126);
}

std::vector<char*> pointers_to(std::vector<std::string>& strings)
{
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (std::string& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

} // namespace

std::vector<std::string> engine_environment(const char* const* environ_list,
                                            const std::map<std::string, std::string>& overrides)
{
    std::vector<std::string> out;
    for (const char* const* e = environ_list; e && *e; ++e) {
        const std::string_view entry(*e);
        const std::string name(entry.substr(0, entry.find('=')));
        if (belongs_to_our_unit(name) || overrides.count(name) != 0) continue;
        out.emplace_back(entry);
    }
    for (const auto& [name, value] : overrides) out.push_back(name + "=" + value);
    return out;
}

Result<EngineProcess> spawn_engine(const std::vector<std::string>& command, const std::vector<std::string>& environment)
{
    std::vector<std::string> env_strings = environment;
    std::vector<std::string> args = command;
    const std::vector<char*> envp = pointers_to(env_strings);
    const std::vector<char*> argv = pointers_to(args);

    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) < 0) {
        const int err = errno;
        return Error{fmt::format("Failed to create a pipe for the engine's output: {}", std::strerror(err)), err};
    }
    Fd read_end(pipefd[0]);
    Fd write_end(pipefd[1]);
    int statusfd[2];
    if (::pipe2(statusfd, O_CLOEXEC) < 0) {
        const int err = errno;
        return Error{fmt::format("Failed to create a pipe for the engine's start: {}", std::strerror(err)), err};
    }
    const Fd status_read(statusfd[0]);
    Fd status_write(statusfd[1]);
    // Without /dev/null the child keeps our stdin; not worth failing the launch for.
    const Fd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    const pid_t parent = ::getpid();
    // The child starts with every signal blocked until it has reset the handlers it inherits.
    sigset_t all;
    sigset_t old_mask;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old_mask);
    const pid_t pid = ::fork();
    const int fork_errno = errno;
    if (pid == 0) exec_child(parent, devnull.get(), write_end.get(), status_write.get(), argv.data(), envp.data());
    ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
    if (pid < 0) return Error{fmt::format("Failed to fork the engine: {}", std::strerror(fork_errno)), fork_errno};
    // Both sides set the group: whichever runs first wins the race; the other is a no-op.
    ::setpgid(pid, pid);
    // Only the child may hold the write end now, or the read below never sees the end of it.
    status_write.reset();
    // Blocks for as long as the child takes to reach execvpe: a few system calls.
    int exec_errno = 0;
    ssize_t n = 0;
    while ((n = ::read(status_read.get(), &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {}
    if (n != static_cast<ssize_t>(sizeof exec_errno)) exec_errno = 0;
    return EngineProcess{pid, std::move(read_end), exec_errno};
}

void signal_engine(pid_t pid, int sig) noexcept
{
    if (pid <= 0) return;
    if (::kill(-pid, sig) < 0) ::kill(pid, sig);
}

} // namespace halo::checkd
