#include "daemon/checkd/supervisor.hpp"

#include "daemon/checkd/callback_guard.hpp"
#include "watch_test_support.hpp"

#include <catch2/catch.hpp>

#include <signal.h>

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
