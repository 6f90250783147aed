#include "daemon/checkd/engine_process.hpp"

#include "probes/host.hpp"
#include "probes/program_lookup.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string_view>

namespace halo::checkd {

namespace {

// What the child executes, all of it made before the fork.
struct ChildExec {
    const char* path; // the program, resolved in the engine's PATH
    char* const* argv;
    char* const* sh_argv; // /bin/sh PATH ARGS…: a file without #! runs as a script, as execvp does it
    char* const* envp;
    int lookup_errno; // not found (ENOENT) or not executable (EACCES): the child only reports it
    int max_fd;       // the descriptor limit, for the close loop's end
};

void write_text(int fd, const char* text) noexcept { (void)!::write(fd, text, std::strlen(text)); }

// Every descriptor from `from` up, with the loop for kernels before 5.9 (ENOSYS) and a seccomp
// filter that refuses the call (EPERM). `max_fd` was taken before the fork: sysconf() is not
// async-signal-safe.
void close_from(unsigned from, unsigned to, int max_fd) noexcept
{
    if (from > to) return;
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, from, to, 0U) == 0) return;
#endif
    for (long fd = from; fd <= static_cast<long>(to) && fd < max_fd; ++fd) ::close(static_cast<int>(fd));
}

// The child between fork and exec: async-signal-safe calls only, everything else was built
// before the fork.
[[noreturn]] void exec_child(pid_t parent, int devnull, int output, int exec_status, const ChildExec& exec) noexcept
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
    // Only 0-2 reach the engine: a descriptor of ours without close-on-exec (a library's
    // socketpair, one inherited from whoever started us) is not the engine's business. The
    // status pipe stays until the exec closes it.
    if (exec_status >= 3) {
        close_from(3, static_cast<unsigned>(exec_status) - 1, exec.max_fd);
        close_from(static_cast<unsigned>(exec_status) + 1, ~0U, exec.max_fd);
    } else {
        close_from(3, ~0U, exec.max_fd);
    }
    int err = exec.lookup_errno;
    if (err == 0) {
        ::execve(exec.path, exec.argv, exec.envp);
        err = errno;
        if (err == ENOEXEC) {
            ::execve("/bin/sh", exec.sh_argv, exec.envp);
            err = errno;
        }
    }
    // Close-on-exec: a successful exec closes it unwritten; the parent reads errno or nothing.
    (void)!::write(exec_status, &err, sizeof err);
    write_text(STDERR_FILENO, "halo-checkd: failed to execute the engine command: ");
    write_text(STDERR_FILENO, strerror(err));
    write_text(STDERR_FILENO, "\n");
    ::_exit(err == ENOENT ? 127 : 126);
}

// Found in PATH as execvp(3) would, but in the engine's PATH: glibc's execvpe searches the
// caller's. Unset, glibc's default, as execvp uses.
std::string engine_path_variable(const std::vector<std::string>& environment)
{
    std::string search = "/bin:/usr/bin";
    for (const std::string& entry : environment) {
        if (entry.starts_with("PATH=")) search = entry.substr(5);
    }
    return search;
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
        if (is_unit_variable(name) || overrides.count(name) != 0) continue;
        out.emplace_back(entry);
    }
    for (const auto& [name, value] : overrides) {
        if (!is_unit_variable(name)) out.push_back(name + "=" + value);
    }
    return out;
}

bool is_unit_variable(std::string_view name) noexcept
{
    for (std::string_view ours : k_unit_variables) {
        if (name == ours) return true;
    }
    return false;
}

std::vector<std::string> ignored_overrides(const std::map<std::string, std::string>& overrides)
{
    std::vector<std::string> out;
    for (const auto& entry : overrides) {
        if (is_unit_variable(entry.first)) out.push_back(entry.first);
    }
    return out;
}

Result<std::string> resolve_engine_program(const std::string& name, const std::vector<std::string>& environment)
{
    if (name.find('/') != std::string::npos) return name;
    probes::Host host("/");
    host.set_env("PATH", engine_path_variable(environment));
    probes::ProgramLookup found = probes::find_program(host, name);
    if (found.outcome == probes::ProgramLookup::Outcome::found) return found.detail;
    // Not executable on PATH: what execvp reports then (EACCES); nowhere on it: ENOENT.
    const int err = found.detail.find("not an executable") != std::string::npos ? EACCES : ENOENT;
    return Error{found.detail, err};
}

Result<EngineProcess> spawn_engine(const std::vector<std::string>& command, const std::vector<std::string>& environment)
{
    std::vector<std::string> env_strings = environment;
    std::vector<std::string> args = command;
    const std::vector<char*> envp = pointers_to(env_strings);
    const std::vector<char*> argv = pointers_to(args);
    auto program = resolve_engine_program(command.empty() ? std::string() : command.front(), environment);
    const std::string program_path = program ? *program : std::string();
    std::vector<std::string> sh_args = {"/bin/sh", program_path};
    if (!args.empty()) sh_args.insert(sh_args.end(), args.begin() + 1, args.end());
    const std::vector<char*> sh_argv = pointers_to(sh_args);
    struct rlimit files {};
    const int max_fd = ::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY
                           ? static_cast<int>(std::min<rlim_t>(files.rlim_cur, 1U << 20))
                           : 1 << 16;
    const ChildExec exec{program_path.c_str(),
                         argv.data(),
                         sh_argv.data(),
                         envp.data(),
                         program ? 0 : program.error().errno_value,
                         max_fd};

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
    if (pid == 0) exec_child(parent, devnull.get(), write_end.get(), status_write.get(), exec);
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
