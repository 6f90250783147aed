#include "daemon/checkd/supervisor.hpp"

#include "daemon/checkd/callback_guard.hpp"
#include "probes/port_owner.hpp"
#include "watch_test_support.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace halo;
using namespace halo::checkd;
using namespace std::chrono_literals;
using app::EngineState;

// The supervisor with a real loop and real processes, for what the pure decisions cannot show:
// an exception inside one of its callbacks leaves it consistent. The fake llama-server's
// integration tests (daemon_supervision, daemon_failures) cover the ordinary runs.

namespace {

std::vector<std::string> g_reports;

void record(std::string_view callback, std::string_view what) noexcept
{
    g_reports.push_back(std::string(callback) + ": " + std::string(what));
}

struct Fixture {
    Fixture()
    {
        g_reports.clear();
        set_callback_error_reporter(&record);
        // sd_event_add_child wants SIGCHLD blocked, as halo-checkd's main has it.
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_BLOCK, &chld, &old_mask);
    }
    ~Fixture()
    {
        set_callback_error_reporter(nullptr);
        sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    }
    sigset_t old_mask{};
    test::EventLoop loop;
};

// Throws once when the engine reaches `throw_on`: the manager's state file write failing.
struct Events : SupervisorEvents {
    std::optional<EngineState> throw_on;
    std::vector<EngineState> states;
    std::vector<std::string> lines;
    void engine_changed(const app::EngineStatus& status) override
    {
        states.push_back(status.state);
        if (throw_on && status.state == *throw_on) {
            throw_on.reset();
            throw std::runtime_error("state file full");
        }
    }
    void engine_line(std::string_view line) override { lines.emplace_back(line); }
};

app::EngineConfig engine(std::vector<std::string> command)
{
    app::EngineConfig c;
    c.name = "test-engine";
    c.command = std::move(command);
    // Nothing listens on port 1: every health check is refused at once.
    c.health_url = "http://127.0.0.1:1/health";
    c.base_url = "http://127.0.0.1:1";
    c.stop_timeout = 2s;
    c.restart.backoff_initial = 50ms;
    return c;
}

// Alive means running or stopped, not a zombie and not gone.
bool alive(pid_t pid)
{
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    const auto paren = text.rfind(')');
    return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] != 'Z';
}

int count(const std::vector<EngineState>& states, EngineState s)
{
    return static_cast<int>(std::count(states.begin(), states.end(), s));
}

} // namespace

TEST_CASE("supervisor: an exception in on_child leaves it failed, not stuck", "[daemon][supervisor]")
{
    Fixture f;
    auto http = HttpClient::create(f.loop.e);
    REQUIRE(http.ok());
    LogSink log;
    Events events;
    events.throw_on = EngineState::backoff; // the exit's own transition fails
    Supervisor sup(f.loop.e, **http, log, events);
    sup.configure(engine({"/bin/sh", "-c", "exit 0"}));

    sup.start("test");
    REQUIRE(f.loop.run_until([&] { return sup.status().state == EngineState::failed; }, 5'000'000));
    CHECK_THAT(sup.status().reason, Catch::StartsWith("internal error in on_child: state file full"));
    CHECK_FALSE(sup.process_running());
    CHECK(sup.status().pid == 0);
    REQUIRE_FALSE(g_reports.empty());
    CHECK(g_reports[0] == "supervisor.on_child: state file full");

    // No backoff timer left armed to launch it behind our back.
    f.loop.run_for(300'000);
    CHECK(sup.status().state == EngineState::failed);
    CHECK(count(events.states, EngineState::starting) == 1);

    // And it still obeys: a start launches, a stop stops.
    sup.configure(engine({"/bin/sh", "-c", "exec sleep 30"}));
    sup.start("again");
    CHECK(sup.process_running());
    CHECK(sup.status().state == EngineState::starting);
    sup.stop("test over");
    REQUIRE(f.loop.run_until([&] { return sup.status().state == EngineState::stopped; }, 5'000'000));
    CHECK(sup.status().reason == "test over");
}

TEST_CASE("supervisor: an exception in a timer kills the engine's whole group and reaps it", "[daemon][supervisor]")
{
    Fixture f;
    auto http = HttpClient::create(f.loop.e);
    REQUIRE(http.ok());
    LogSink log;
    Events events;
    // The readiness timeout's kill_for_restart fails on its way to unhealthy.
    events.throw_on = EngineState::unhealthy;
    Supervisor sup(f.loop.e, **http, log, events);
    app::EngineConfig c = engine({"/bin/sh", "-c", "trap '' TERM; sleep 30 & echo $!; wait"});
    c.ready_timeout = 1ms;
    sup.configure(c);

    sup.start("test");
    const pid_t shell = sup.status().pid;
    REQUIRE(shell > 0);
    REQUIRE(f.loop.run_until([&] { return !events.lines.empty(); }, 5'000'000));
    const pid_t helper = std::stoi(events.lines.front());
    REQUIRE(f.loop.run_until([&] { return sup.status().state == EngineState::failed; }, 5'000'000));
    CHECK_THAT(sup.status().reason, Catch::StartsWith("internal error in on_health_timer: state file full"));
    CHECK_FALSE(sup.process_running());
    REQUIRE_FALSE(g_reports.empty());
    CHECK(g_reports[0] == "supervisor.on_health_timer: state file full");

    // SIGKILL went to the group: the shell (which ignores SIGTERM) and the helper it started.
    CHECK(f.loop.run_until([&] { return !alive(helper) && !alive(shell); }, 5'000'000));
    // The loop reaps the shell although the supervisor no longer calls it its engine.
    CHECK(f.loop.run_until([&] { return ::kill(shell, 0) < 0 && errno == ESRCH; }, 5'000'000));
    CHECK(sup.status().state == EngineState::failed);
}

TEST_CASE("supervisor: a changed command restarts a running engine as planned, a timing change does not",
          "[daemon][supervisor]")
{
    Fixture f;
    auto http = HttpClient::create(f.loop.e);
    REQUIRE(http.ok());
    LogSink log;
    Events events;
    Supervisor sup(f.loop.e, **http, log, events);
    const app::EngineConfig first = engine({"/bin/sh", "-c", "exec sleep 30"});
    sup.configure(first);
    sup.start("test");
    const pid_t old_pid = sup.status().pid;
    REQUIRE(old_pid > 0);

    app::EngineConfig timings = first;
    timings.liveness_interval = 5s;
    timings.stop_timeout = 1s;
    CHECK(sup.reconfigure(timings) == ReconfigureAction::apply_now);
    CHECK(sup.status().pid == old_pid);
    CHECK(sup.status().state == EngineState::starting);
    CHECK(sup.config().stop_timeout == 1s);

    const app::EngineConfig second = engine({"/bin/sh", "-c", "exec sleep 31"});
    CHECK(sup.reconfigure(second) == ReconfigureAction::restart_to_apply);
    CHECK(sup.status().state == EngineState::stopping);
    CHECK(sup.status().reason == "restarting to apply the new engine command");
    CHECK(sup.config().command == first.command); // until the old one is gone
    REQUIRE(f.loop.run_until([&] { return sup.status().state == EngineState::starting && sup.status().pid != old_pid; },
                             5'000'000));
    CHECK(sup.config().command == second.command);
    CHECK(sup.status().restarts.empty()); // planned: no restart counted
    CHECK(count(events.states, EngineState::backoff) == 0);
    CHECK(f.loop.run_until([&] { return !alive(old_pid); }, 5'000'000));

    // A new command while nothing runs waits for the next launch, which takes it.
    sup.stop("test over");
    REQUIRE(f.loop.run_until([&] { return sup.status().state == EngineState::stopped; }, 5'000'000));
    const app::EngineConfig third = engine({"/bin/sh", "-c", "exec sleep 32"});
    CHECK(sup.reconfigure(third) == ReconfigureAction::apply_now);
    CHECK(sup.status().state == EngineState::stopped);
    CHECK(sup.config().command == third.command);
}

TEST_CASE("supervisor: a refused command is not applied to the engine that keeps running", "[daemon][supervisor]")
{
    Fixture f;
    auto http = HttpClient::create(f.loop.e);
    REQUIRE(http.ok());
    LogSink log;
    Events events;
    Supervisor sup(f.loop.e, **http, log, events);
    const app::EngineConfig first = engine({"/bin/sh", "-c", "sleep 0.3; exit 3"}); // exits, is restarted
    sup.configure(first);
    sup.start("test");
    const pid_t old_pid = sup.status().pid;
    app::EngineConfig refused = engine({"/bin/sh", "-c", "exec sleep 60"});
    refused.stop_timeout = 1s;
    sup.keep_command(refused);
    CHECK(sup.status().pid == old_pid);
    CHECK(sup.config().command == first.command);
    CHECK(sup.config().stop_timeout == 1s);
    // Its restart runs the command that ran, not the refused one.
    REQUIRE(f.loop.run_until([&] { return sup.status().state == EngineState::starting && sup.status().pid != old_pid; },
                             5'000'000));
    CHECK(sup.config().command == first.command);
    sup.stop("test over");
    REQUIRE(f.loop.run_until([&] { return sup.status().state == EngineState::stopped; }, 5'000'000));
}

namespace {

// A free TCP port on loopback (nothing listens once this returns).
int free_port()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    ::close(fd);
    return ntohs(a.sin_port);
}

// `argv` started in the background as an earlier daemon's engine would be left: not our child
// (the intermediate process exits, so it is reparented), in a session of its own.
pid_t spawn_detached(const std::vector<std::string>& argv)
{
    int pipefd[2];
    REQUIRE(::pipe2(pipefd, O_CLOEXEC) == 0);
    const pid_t child = ::fork();
    if (child == 0) {
        const pid_t grandchild = ::fork();
        if (grandchild == 0) {
            ::setsid();
            sigset_t none;
            sigemptyset(&none);
            sigprocmask(SIG_SETMASK, &none, nullptr);
            std::vector<char*> args;
            args.reserve(argv.size() + 1);
            for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            ::execvp(args[0], args.data());
            ::_exit(127);
        }
        (void)!::write(pipefd[1], &grandchild, sizeof grandchild);
        ::_exit(0);
    }
    ::close(pipefd[1]);
    pid_t grandchild = 0;
    (void)!::read(pipefd[0], &grandchild, sizeof grandchild);
    ::close(pipefd[0]);
    ::waitpid(child, nullptr, 0);
    return grandchild;
}

bool listening(int port, pid_t pid)
{
    auto found = probes::port_listeners(probes::Host("/"), port);
    return found && std::any_of(found->begin(), found->end(), [&](const auto& l) { return l.pid == pid; });
}

struct Killer {
    std::vector<pid_t> pids;
    ~Killer()
    {
        for (pid_t p : pids) ::kill(p, SIGKILL);
    }
};

} // namespace

TEST_CASE("supervisor: a leftover engine on the port is stopped before the launch, another program is left alone",
          "[daemon][supervisor]")
{
    Fixture f;
    test::TempDir dir;
    const std::string script = (dir.path() / "listen.py").string();
    test::write_text(script, "import socket, sys, time\n"
                             "s = socket.socket()\n"
                             "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                             "s.bind(('127.0.0.1', int(sys.argv[sys.argv.index('--port') + 1])))\n"
                             "s.listen()\n"
                             "print('listening', flush=True)\n"
                             "time.sleep(60)\n");
    const int port = free_port();
    const std::vector<std::string> command = {"python3", script, "--port", std::to_string(port)};
    Killer killer;
    const pid_t leftover = spawn_detached(command);
    killer.pids.push_back(leftover);
    REQUIRE(f.loop.run_until([&] { return listening(port, leftover); }, 10'000'000));

    auto http = HttpClient::create(f.loop.e);
    REQUIRE(http.ok());
    LogSink log;
    Events events;
    Supervisor sup(f.loop.e, **http, log, events);
    sup.configure(engine(command));
    sup.start("test");
    CHECK(sup.status().state == EngineState::stopping);
    CHECK(sup.status().reason ==
          "stopping a leftover engine, pid " + std::to_string(leftover) + ", from an earlier run");
    CHECK_FALSE(sup.process_running());
    REQUIRE(f.loop.run_until([&] { return sup.status().state == EngineState::starting; }, 10'000'000));
    const pid_t ours = sup.status().pid;
    CHECK(ours != leftover);
    CHECK_FALSE(alive(leftover));
    killer.pids.push_back(ours);
    REQUIRE(f.loop.run_until([&] { return listening(port, ours); }, 10'000'000)); // it got the port
    sup.stop("leftover done");
    REQUIRE(f.loop.run_until([&] { return sup.status().state == EngineState::stopped; }, 5'000'000));

    // The same program with other arguments on the port is not the engine: never touched.
    std::vector<std::string> other = command;
    other.emplace_back("--other");
    const pid_t stranger = spawn_detached(other);
    killer.pids.push_back(stranger);
    REQUIRE(f.loop.run_until([&] { return listening(port, stranger); }, 10'000'000));
    sup.start("test again");
    CHECK(sup.status().state == EngineState::starting); // launched at once; it finds the port taken
    killer.pids.push_back(sup.status().pid);
    REQUIRE(f.loop.run_until([&] { return sup.status().state == EngineState::failed; }, 10'000'000));
    CHECK(alive(stranger));
    CHECK(listening(port, stranger));
}
