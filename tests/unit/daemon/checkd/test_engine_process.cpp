#include "daemon/checkd/engine_process.hpp"

#include <catch2/catch.hpp>
#include <fmt/core.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

using namespace halo;
using namespace halo::checkd;

namespace {

// Everything the child wrote, until it closes the pipe.
std::string read_all(const Fd& fd)
{
    std::string out;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return out;
        out.append(buffer, static_cast<std::size_t>(n));
    }
}

int wait_status(pid_t pid)
{
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    return status;
}

} // namespace

TEST_CASE("engine process: our unit's variables are dropped, the rest kept in order", "[daemon][engine_process]")
{
    const char* environ_list[] = {"PATH=/usr/bin",
                                  "NOTIFY_SOCKET=/run/user/1000/systemd/notify",
                                  "WATCHDOG_USEC=30000000",
                                  "HOME=/home/u",
                                  "WATCHDOG_PID=42",
                                  "LISTEN_FDS=1",
                                  "LISTEN_PID=42",
                                  "LISTEN_FDNAMES=control",
                                  "SYSTEMD_EXEC_PID=42",
                                  "NOTIFY_SOCKET_COPY=kept",
                                  "NOEQUALS",
                                  nullptr};
    CHECK(engine_environment(environ_list, {}) ==
          std::vector<std::string>{"PATH=/usr/bin", "HOME=/home/u", "NOTIFY_SOCKET_COPY=kept", "NOEQUALS"});
}

TEST_CASE("engine process: overrides replace the daemon's value and come last", "[daemon][engine_process]")
{
    const char* environ_list[] = {"HSA_OVERRIDE_GFX_VERSION=11.0.0", "PATH=/usr/bin", "RADV_PERFTEST=x", nullptr};
    const std::map<std::string, std::string> overrides = {{"RADV_PERFTEST", "nogttspill"}, {"GGML_VK_DEVICE", "0"}};
    CHECK(engine_environment(environ_list, overrides) == std::vector<std::string>{"HSA_OVERRIDE_GFX_VERSION=11.0.0",
                                                                                  "PATH=/usr/bin", "GGML_VK_DEVICE=0",
                                                                                  "RADV_PERFTEST=nogttspill"});
}

TEST_CASE("engine process: an override cannot bring our unit's variables back", "[daemon][engine_process]")
{
    const char* with_socket[] = {"NOTIFY_SOCKET=/a", "HOME=/h", nullptr};
    const std::map<std::string, std::string> overrides = {
        {"NOTIFY_SOCKET", "/b"}, {"LISTEN_FDNAMES", "x"}, {"WATCHDOG_USEC", "1"}, {"A", "1"}};
    CHECK(engine_environment(with_socket, overrides) == std::vector<std::string>{"HOME=/h", "A=1"});
    CHECK(ignored_overrides(overrides) == std::vector<std::string>{"LISTEN_FDNAMES", "NOTIFY_SOCKET", "WATCHDOG_USEC"});
    CHECK(ignored_overrides({{"PATH", "/bin"}}).empty());
}

TEST_CASE("engine process: the program is found in the engine's PATH, not the daemon's", "[daemon][engine_process]")
{
    const auto dir = std::filesystem::temp_directory_path() / fmt::format("halo-engine-path-{}", ::getpid());
    std::filesystem::create_directories(dir);
    const auto program = dir / "halo-test-engine";
    std::ofstream(program) << "#!/bin/sh\nexit 0\n";
    std::filesystem::permissions(program, std::filesystem::perms::owner_all);
    const auto found = resolve_engine_program("halo-test-engine", {"HOME=/h", "PATH=/nonexistent:" + dir.string()});
    REQUIRE(found);
    CHECK(*found == program.string());
    const auto missing = resolve_engine_program("halo-test-engine", {"PATH=/usr/bin:/bin"});
    REQUIRE_FALSE(missing);
    CHECK(missing.error().errno_value == ENOENT);
    CHECK(*resolve_engine_program("./x/y", {}) == "./x/y");
    std::filesystem::permissions(program, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    const auto denied = resolve_engine_program("halo-test-engine", {"PATH=" + dir.string()});
    REQUIRE_FALSE(denied);
    CHECK(denied.error().errno_value == EACCES);
    std::filesystem::remove_all(dir);
}

TEST_CASE("engine process: no environment at all gives only the overrides", "[daemon][engine_process]")
{
    CHECK(engine_environment(nullptr, {}).empty());
    CHECK(engine_environment(nullptr, {{"A", "1"}}) == std::vector<std::string>{"A=1"});
}

TEST_CASE("engine process: the child runs in its own group with our environment, stdin empty, both streams in the pipe",
          "[daemon][engine_process]")
{
    auto spawned = spawn_engine({"/bin/sh", "-c",
                                 "echo \"$HALO_T $(ps -o pgid= -p $$ | tr -d ' ') $$\"; "
                                 "read line; echo \"stdin:[$line]\"; echo err >&2; exit 3"},
                                {"HALO_T=yes", "PATH=/usr/bin:/bin"});
    REQUIRE(spawned.ok());
    REQUIRE(spawned->pid > 0);
    const std::string out = read_all(spawned->output);
    const int status = wait_status(spawned->pid);
    const std::string pid = std::to_string(spawned->pid);
    CHECK(out == "yes " + pid + " " + pid + "\nstdin:[]\nerr\n");
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 3);
}

TEST_CASE("engine process: a bare name runs from the engine's PATH, a file without #! as a script, with fds 0-2 only",
          "[daemon][engine_process]")
{
    const auto dir = std::filesystem::temp_directory_path() / fmt::format("halo-engine-run-{}", ::getpid());
    std::filesystem::create_directories(dir);
    // No #!: execve says ENOEXEC and, as execvp does, /bin/sh runs it.
    // ls's own descriptors: 0-2 and 3, the directory it lists; the shell's script fd is close-on-exec.
    std::ofstream(dir / "halo-test-engine") << "echo \"args:$*\"; /bin/ls /proc/self/fd\n";
    std::filesystem::permissions(dir / "halo-test-engine", std::filesystem::perms::owner_all);
    // Inheritable, as a careless parent leaves a descriptor: it must not reach the engine.
    const int leaked = ::open("/dev/null", O_RDONLY);
    REQUIRE(leaked > 2);
    auto spawned = spawn_engine({"halo-test-engine", "--port", "1"}, {"PATH=/nonexistent:" + dir.string()});
    ::close(leaked);
    REQUIRE(spawned.ok());
    CHECK(spawned->exec_errno == 0);
    const std::string out = read_all(spawned->output);
    const int status = wait_status(spawned->pid);
    CHECK(out == "args:--port 1\n0\n1\n2\n3\n");
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("engine process: a command that cannot run says why and exits 127", "[daemon][engine_process]")
{
    auto spawned = spawn_engine({"/nonexistent/llama-server", "--port", "1"}, {"PATH=/usr/bin:/bin"});
    REQUIRE(spawned.ok());
    const std::string out = read_all(spawned->output);
    const int status = wait_status(spawned->pid);
    CHECK(out == "halo-checkd: failed to execute the engine command: No such file or directory\n");
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 127);
}

TEST_CASE("engine process: why the exec failed comes back with the process", "[daemon][engine_process]")
{
    auto missing = spawn_engine({"/nonexistent/llama-server"}, {"PATH=/usr/bin:/bin"});
    REQUIRE(missing.ok());
    CHECK(missing->exec_errno == ENOENT);
    CHECK(WEXITSTATUS(wait_status(missing->pid)) == 127);

    auto in_path = spawn_engine({"no-such-llama-server-in-path"}, {"PATH=/usr/bin:/bin"});
    REQUIRE(in_path.ok());
    CHECK(in_path->exec_errno == ENOENT);
    wait_status(in_path->pid);

    // A file without the execute bit.
    char path[] = "/tmp/halo-not-executable-XXXXXX";
    const int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    auto denied = spawn_engine({path}, {"PATH=/usr/bin:/bin"});
    ::unlink(path);
    REQUIRE(denied.ok());
    CHECK(denied->exec_errno == EACCES);
    CHECK(read_all(denied->output) == "halo-checkd: failed to execute the engine command: Permission denied\n");
    CHECK(WEXITSTATUS(wait_status(denied->pid)) == 126);

    // A command that ran, even one that then exits 127 itself, leaves it 0.
    auto ran = spawn_engine({"/bin/sh", "-c", "exit 127"}, {"PATH=/usr/bin:/bin"});
    REQUIRE(ran.ok());
    CHECK(ran->exec_errno == 0);
    CHECK(WEXITSTATUS(wait_status(ran->pid)) == 127);
}

TEST_CASE("engine process: signal_engine reaches the whole group", "[daemon][engine_process]")
{
    // The shell's child holds the pipe too: the read ends only when both are gone.
    auto spawned = spawn_engine({"/bin/sh", "-c", "sleep 30 & echo started; wait"}, {"PATH=/usr/bin:/bin"});
    REQUIRE(spawned.ok());
    char c = 0;
    REQUIRE(::read(spawned->output.get(), &c, 1) == 1);
    signal_engine(spawned->pid, SIGTERM);
    const int status = wait_status(spawned->pid);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == SIGTERM);
    CHECK(read_all(spawned->output) == "tarted\n"); // EOF: the sleep went with the group
    signal_engine(0, SIGKILL);                      // no process: nothing happens
}
