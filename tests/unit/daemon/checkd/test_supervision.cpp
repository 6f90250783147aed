#include "daemon/checkd/supervision.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <cerrno>

#include <array>
#include <map>
#include <set>
#include <string>

using namespace halo;
using namespace halo::checkd;
using namespace std::chrono_literals;
using app::EngineState;
using E = SupervisionEvent;
using S = EngineState;

namespace {

constexpr std::array k_all_states = {S::stopped,   S::refused,  S::starting, S::loading,  S::ready,
                                     S::unhealthy, S::stopping, S::backoff,  S::given_up, S::failed};
constexpr std::array k_all_events = {
    E::launched,       E::not_launched,      E::stopping_leftover,  E::model_loading,     E::answered,
    E::answers_again,  E::marked_unhealthy,  E::killed_for_restart, E::stop_requested,    E::stopped_idle,
    E::refused,        E::exited_as_planned, E::exited_for_good,    E::restart_scheduled, E::restarts_exhausted,
    E::internal_error, E::killed_for_good,   E::stopped_for_good};

const std::set<S> k_idle = {S::stopped, S::refused, S::backoff, S::given_up, S::failed};
const std::set<S> k_running = {S::starting, S::loading, S::ready, S::unhealthy};

std::set<S> with(std::set<S> a, std::initializer_list<S> more)
{
    a.insert(more);
    return a;
}

std::set<S> any() { return {k_all_states.begin(), k_all_states.end()}; }

struct Row {
    std::set<S> from;
    S to;
};

// The table of supervision.hpp, written out again: a changed transition breaks this test.
const std::map<E, Row>& expected_table()
{
    static const std::map<E, Row> table = {
        {E::launched, {with(k_idle, {S::stopping}), S::starting}},
        {E::not_launched, {with(k_idle, {S::stopping}), S::failed}},
        {E::stopping_leftover, {with(k_idle, {S::stopping}), S::stopping}},
        {E::model_loading, {{S::starting}, S::loading}},
        {E::answered, {{S::starting, S::loading}, S::ready}},
        {E::answers_again, {{S::unhealthy}, S::ready}},
        {E::marked_unhealthy, {{S::ready}, S::unhealthy}},
        {E::killed_for_restart, {k_running, S::unhealthy}},
        {E::stop_requested, {k_running, S::stopping}},
        {E::stopped_idle, {k_idle, S::stopped}},
        {E::refused, {k_idle, S::refused}},
        {E::exited_as_planned, {{S::stopping}, S::stopped}},
        {E::exited_for_good, {k_running, S::failed}},
        {E::restart_scheduled, {any(), S::backoff}},
        {E::restarts_exhausted, {any(), S::given_up}},
        {E::internal_error, {any(), S::failed}},
        {E::killed_for_good, {k_running, S::stopping}},
        {E::stopped_for_good, {{S::stopping}, S::failed}},
    };
    return table;
}

// The state after `event` from `from`, failing the test when the table has no such row.
S after(S from, E event)
{
    const auto next = next_state(from, event);
    INFO(to_string(event) << " from " << app::to_string(from));
    REQUIRE(next.has_value());
    return *next;
}

HealthFacts health(S state, long status, int failures = 0)
{
    HealthFacts f;
    f.state = state;
    f.status = status;
    f.liveness_failures = failures;
    f.liveness_limit = 3;
    f.uptime = 1s;
    f.liveness_interval = 30s;
    if (status == 0) f.error = "Connection refused";
    return f;
}

ExitFacts exit_after(ExitInfo info, SteadyDuration ran)
{
    ExitFacts f;
    f.info = info;
    f.ran = ran;
    f.early_exit = 30s;
    return f;
}

constexpr ExitInfo k_status_0{true, 0, false};
constexpr ExitInfo k_status_1{true, 1, false};
constexpr ExitInfo k_sigkill{false, SIGKILL, false};

app::RestartConfig restart_config(int max = 5, app::Duration window = 10min)
{
    app::RestartConfig r;
    r.max = max;
    r.window = window;
    r.backoff_initial = 200ms;
    r.backoff_max = 60s;
    return r;
}

} // namespace

// ---- the table -------------------------------------------------------------------------------

TEST_CASE("supervision: next_state is exactly the documented table", "[daemon][supervision]")
{
    REQUIRE(expected_table().size() == k_all_events.size());
    for (E event : k_all_events) {
        const Row& row = expected_table().at(event);
        for (S from : k_all_states) {
            INFO(to_string(event) << " from " << app::to_string(from));
            const auto next = next_state(from, event);
            if (row.from.count(from)) {
                REQUIRE(next.has_value());
                CHECK(*next == row.to);
            } else {
                CHECK_FALSE(next.has_value());
            }
        }
    }
}

TEST_CASE("supervision: every event has a name", "[daemon][supervision]")
{
    std::set<std::string_view> names;
    for (E event : k_all_events) names.insert(to_string(event));
    CHECK(names.size() == k_all_events.size());
    CHECK(names.count("unknown") == 0);
    CHECK(to_string(E::killed_for_restart) == "killed_for_restart");
}

// ---- commands --------------------------------------------------------------------------------

TEST_CASE("supervision: start launches from every idle state and becomes starting", "[daemon][supervision]")
{
    for (S s : k_idle) {
        INFO(app::to_string(s));
        CHECK(decide_start(s, false) == StartAction::launch);
        CHECK(after(s, E::launched) == S::starting);
    }
    CHECK(waiting_reason("http://127.0.0.1:8080/health") == "waiting for http://127.0.0.1:8080/health");
}

TEST_CASE("supervision: start during a stop restarts after the exit, start while running does nothing",
          "[daemon][supervision]")
{
    CHECK(decide_start(S::stopping, true) == StartAction::restart_after_stop);
    for (S s : k_running) CHECK(decide_start(s, true) == StartAction::none);
    // The relaunch happens at the exit, still in `stopping`.
    CHECK(after(S::stopping, E::launched) == S::starting);
}

TEST_CASE("supervision: a launch that cannot run fails", "[daemon][supervision]")
{
    CHECK(k_no_command_reason == "no engine command configured");
    CHECK(after(S::stopped, E::not_launched) == S::failed);
    CHECK(after(S::backoff, E::not_launched) == S::failed);
    CHECK(after(S::stopping, E::not_launched) == S::failed);
    CHECK_FALSE(next_state(S::ready, E::not_launched));
}

TEST_CASE("supervision: stop with no process is stopped at once, with one is stopping", "[daemon][supervision]")
{
    for (S s : k_idle) {
        INFO(app::to_string(s));
        CHECK(decide_stop(s, false) == StopAction::stopped_idle);
        CHECK(after(s, E::stopped_idle) == S::stopped);
    }
    for (S s : k_running) {
        INFO(app::to_string(s));
        CHECK(decide_stop(s, true) == StopAction::begin_stopping);
        CHECK(after(s, E::stop_requested) == S::stopping);
    }
    CHECK(decide_stop(S::stopping, true) == StopAction::already_stopping);
    CHECK_FALSE(next_state(S::stopping, E::stop_requested));
}

TEST_CASE("supervision: refused only while no process runs", "[daemon][supervision]")
{
    for (S s : k_idle) CHECK(after(s, E::refused) == S::refused);
    for (S s : k_running) CHECK_FALSE(next_state(s, E::refused));
    CHECK_FALSE(next_state(S::stopping, E::refused));
}

TEST_CASE("supervision: only a ready, running engine can be marked unhealthy", "[daemon][supervision]")
{
    CHECK(may_mark_unhealthy(S::ready, true));
    CHECK_FALSE(may_mark_unhealthy(S::ready, false));
    CHECK_FALSE(may_mark_unhealthy(S::loading, true));
    CHECK_FALSE(may_mark_unhealthy(S::unhealthy, true));
    CHECK(after(S::ready, E::marked_unhealthy) == S::unhealthy);
}

TEST_CASE("supervision: an on-demand smoke test needs a ready engine and none running", "[daemon][supervision]")
{
    CHECK(smoke_refusal(S::loading, false) == std::optional<std::string>("the engine is loading, not ready"));
    CHECK(smoke_refusal(S::stopped, false) == std::optional<std::string>("the engine is stopped, not ready"));
    CHECK(smoke_refusal(S::ready, true) == std::optional<std::string>("a smoke test is already running"));
    CHECK_FALSE(smoke_refusal(S::ready, false));
}

TEST_CASE("supervision: an internal error fails the engine from any state", "[daemon][supervision]")
{
    for (S s : k_all_states) CHECK(after(s, E::internal_error) == S::failed);
    CHECK(internal_error_reason("on_child", "bad_alloc") == "internal error in on_child: bad_alloc");
}

// ---- exit ------------------------------------------------------------------------------------

TEST_CASE("supervision: exits are described with their status or signal and the uptime", "[daemon][supervision]")
{
    CHECK(describe_exit(k_status_1, 400ms) == "exited with status 1 after 0.4s");
    CHECK(describe_exit(k_sigkill, 2s) == "killed by SIGKILL after 2.0s");
    CHECK(describe_exit({false, SIGABRT, true}, 12s) == "killed by SIGABRT (core dumped) after 12.0s");
}

TEST_CASE("supervision: crash signals are crashes, a kill or an exit status is not", "[daemon][supervision]")
{
    for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP}) {
        INFO(sig);
        CHECK(is_crash({false, sig, false}));
    }
    CHECK_FALSE(is_crash(k_sigkill));
    CHECK_FALSE(is_crash({false, SIGTERM, false}));
    CHECK_FALSE(is_crash({true, SIGABRT, false})); // exit status 6 is no signal
}

TEST_CASE("supervision: exit status 1 within early_exit fails for good, naming the last output",
          "[daemon][supervision]")
{
    ExitFacts f = exit_after(k_status_1, 400ms);
    f.last_output = "error: invalid argument: --frobnicate";
    const ExitDecision d = decide_exit(f);
    CHECK(d.action == ExitAction::fail);
    CHECK(d.reason ==
          "exited with status 1 after 0.4s (last output: error: invalid argument: --frobnicate): restarting "
          "will not help (bad arguments, port in use or the model failed to load); fix the command or "
          "model, then run 'halo-check restart'");
    for (S s : k_running) CHECK(after(s, E::exited_for_good) == S::failed);

    f.last_output.reset();
    CHECK_THAT(decide_exit(f).reason, Catch::StartsWith("exited with status 1 after 0.4s: restarting will not help"));
}

TEST_CASE("supervision: an early exit whose output named its cause fails with that cause", "[daemon][supervision]")
{
    ExitFacts f = exit_after(k_status_1, 20ms);
    f.last_output = "E srv  llama_server: exiting due to model loading error";
    f.crash_pattern = "log.engine-model-not-found";
    f.cause = "model file not found: /x.gguf";
    const ExitDecision d = decide_exit(f);
    CHECK(d.action == ExitAction::fail);
    CHECK(d.reason == "model file not found: /x.gguf; the engine exited with status 1 after 0.0s, and restarting will "
                      "not help: fix it, then run 'halo-check restart'");
    CHECK_THAT(d.reason, !Catch::Contains("exiting due to"));

    // A cause does not make a late exit fail for good, nor a crash anything but a crash.
    f.ran = 31s;
    CHECK(decide_exit(f).action == ExitAction::restart_later);
    f = exit_after({false, SIGABRT, false}, 1s);
    f.crash_pattern = "log.vulkan-device-lost";
    f.cause = "The Vulkan device was lost";
    CHECK(decide_exit(f).reason == "crashed (killed by SIGABRT after 1.0s): log.vulkan-device-lost");
}

TEST_CASE("supervision: a command our exec could not run fails at once, naming it", "[daemon][supervision]")
{
    ExitFacts f = exit_after({true, 127, false}, 2ms);
    f.exec_errno = ENOENT;
    f.program = "/opt/nope/llama-server";
    ExitDecision d = decide_exit(f);
    CHECK(d.action == ExitAction::fail);
    CHECK(d.reason == "command not found: /opt/nope/llama-server; restarting will not help; fix [engine] command, "
                      "then run 'halo-check restart'");
    CHECK(after(S::starting, E::exited_for_good) == S::failed);

    f = exit_after({true, 126, false}, 2ms);
    f.exec_errno = EACCES;
    f.program = "/srv/llama-server";
    d = decide_exit(f);
    CHECK(d.action == ExitAction::fail);
    CHECK_THAT(d.reason, Catch::StartsWith("permission denied: /srv/llama-server is not executable; restarting will "
                                           "not help"));

    f.exec_errno = ENOEXEC;
    d = decide_exit(f);
    CHECK(d.action == ExitAction::fail);
    CHECK_THAT(d.reason, Catch::StartsWith("cannot execute /srv/llama-server: Exec format error; restarting"));

    // The wrapper's name is not what is missing when our exec of it failed.
    f = exit_after({true, 127, false}, 2ms);
    f.exec_errno = ENOENT;
    f.program = "toolbox";
    f.wrapped = "llama-server";
    CHECK_THAT(decide_exit(f).reason, Catch::StartsWith("command not found: toolbox;"));
}

TEST_CASE("supervision: exit status 127 or 126 from what ran fails at once, naming the engine it wraps",
          "[daemon][supervision]")
{
    ExitFacts f = exit_after({true, 127, false}, 300ms);
    f.program = "toolbox";
    f.wrapped = "/opt/llama/llama-server";
    ExitDecision d = decide_exit(f);
    CHECK(d.action == ExitAction::fail);
    CHECK(d.reason == "command not found: /opt/llama/llama-server (toolbox exited with status 127); restarting will "
                      "not help; fix [engine] command, then run 'halo-check restart'");

    f.info.status = 126;
    CHECK(decide_exit(f).reason == "permission denied: /opt/llama/llama-server is not executable (toolbox exited with "
                                   "status 126); restarting will not help; fix [engine] command, then run 'halo-check "
                                   "restart'");

    // No wrapper: the program itself said it.
    f = exit_after({true, 127, false}, 300ms);
    f.program = "/usr/local/bin/llama-server";
    CHECK_THAT(decide_exit(f).reason, Catch::StartsWith("command not found: /usr/local/bin/llama-server (exit status "
                                                        "127); restarting"));
    // Whenever it comes: no engine exits 127 or 126 of its own.
    f.ran = 2h;
    CHECK(decide_exit(f).action == ExitAction::fail);
    // Killed by signal 127 is not the status.
    CHECK(decide_exit(exit_after({false, 127 - 64, false}, 1s)).action == ExitAction::restart_later);
    // Status 125 (podman's own error) and 128 are other exits.
    CHECK(decide_exit(exit_after({true, 125, false}, 1s)).action == ExitAction::restart_later);
    CHECK(decide_exit(exit_after({true, 128, false}, 1s)).action == ExitAction::restart_later);
}

TEST_CASE("supervision: a planned exit with status 127 still goes as planned", "[daemon][supervision]")
{
    ExitFacts f = exit_after({true, 127, false}, 1s);
    f.exec_errno = ENOENT;
    f.program = "/opt/nope/llama-server";
    f.plan = ExitPlan::stop;
    f.planned_reason = "daemon shutting down: SIGTERM";
    CHECK(decide_exit(f).action == ExitAction::stop);
}

TEST_CASE("supervision: exit status 1 at or after early_exit restarts", "[daemon][supervision]")
{
    ExitDecision d = decide_exit(exit_after(k_status_1, 30s));
    CHECK(d.action == ExitAction::restart_later);
    CHECK(d.reason == "exited with status 1 after 30.0s");
    d = decide_exit(exit_after(k_status_1, 31s));
    CHECK(d.action == ExitAction::restart_later);
}

TEST_CASE("supervision: other early exits restart: status 2, status 0, a signal", "[daemon][supervision]")
{
    CHECK(decide_exit(exit_after({true, 2, false}, 1s)).action == ExitAction::restart_later);
    CHECK(decide_exit(exit_after(k_status_0, 1s)).action == ExitAction::restart_later);
    CHECK(decide_exit(exit_after({false, SIGABRT, false}, 1s)).action == ExitAction::restart_later);
}

TEST_CASE("supervision: exit 0 after a long uptime → restart with backoff", "[daemon][supervision]")
{
    const ExitDecision d = decide_exit(exit_after(k_status_0, 1h));
    CHECK(d.action == ExitAction::restart_later);
    CHECK(d.reason == "exited with status 0 after 3600.0s");
    const RestartDecision r = decide_restart({}, SteadyTime{} + 2h, restart_config(), d.reason);
    CHECK(r.event == E::restart_scheduled);
    CHECK(r.reason == "exited with status 0 after 3600.0s; restart 1 of 5 in 200ms");
    CHECK(after(S::ready, r.event) == S::backoff);
}

TEST_CASE("supervision: a crash signal restarts naming the crash and its log pattern", "[daemon][supervision]")
{
    ExitFacts f = exit_after({false, SIGSEGV, false}, 5s);
    ExitDecision d = decide_exit(f);
    CHECK(d.action == ExitAction::restart_later);
    CHECK(d.reason == "crashed (killed by SIGSEGV after 5.0s)");

    f = exit_after({false, SIGABRT, true}, 5s);
    f.crash_pattern = "log.vulkan-device-lost";
    d = decide_exit(f);
    CHECK(d.action == ExitAction::restart_later);
    CHECK(d.reason == "crashed (killed by SIGABRT (core dumped) after 5.0s): log.vulkan-device-lost");
}

TEST_CASE("supervision: a kill that is no crash restarts with the plain exit", "[daemon][supervision]")
{
    const ExitDecision d = decide_exit(exit_after(k_sigkill, 2s));
    CHECK(d.action == ExitAction::restart_later);
    CHECK(d.reason == "killed by SIGKILL after 2.0s");
}

TEST_CASE("supervision: a planned exit goes where the plan says, whatever the exit", "[daemon][supervision]")
{
    ExitFacts f = exit_after(k_status_1, 100ms); // would fail for good if unplanned
    f.planned_reason = "stopped by halo-check stop";

    f.plan = ExitPlan::stop;
    ExitDecision d = decide_exit(f);
    CHECK(d.action == ExitAction::stop);
    CHECK(d.reason == "stopped by halo-check stop");
    CHECK(after(S::stopping, E::exited_as_planned) == S::stopped);
    CHECK_FALSE(next_state(S::ready, E::exited_as_planned));

    f.plan = ExitPlan::restart_now;
    d = decide_exit(f);
    CHECK(d.action == ExitAction::relaunch);
    CHECK(d.reason == "stopped by halo-check stop");

    f.plan = ExitPlan::restart_backoff;
    f.planned_reason = "3 health checks failed in a row (HTTP 500)";
    d = decide_exit(f);
    CHECK(d.action == ExitAction::restart_later);
    CHECK(d.reason == "3 health checks failed in a row (HTTP 500)");
    CHECK(after(S::unhealthy, E::restart_scheduled) == S::backoff);
}

TEST_CASE("supervision: a crash is recorded for a crash signal or a matched crash line", "[daemon][supervision]")
{
    auto c = crash_to_record({false, SIGABRT, false}, std::nullopt, "killed by SIGABRT after 1.0s", "T1");
    REQUIRE(c);
    CHECK(c->exit == "killed by SIGABRT after 1.0s");
    CHECK(c->at == "T1");
    CHECK(c->pattern_id.empty());

    app::CrashReason match;
    match.pattern_id = "log.memory-access-fault";
    match.line = "Memory access fault by GPU";
    c = crash_to_record(k_status_0, match, "exited with status 0 after 1.0s", "T2");
    REQUIRE(c);
    CHECK(c->pattern_id == "log.memory-access-fault");
    CHECK(c->line == "Memory access fault by GPU");
    CHECK(c->exit == "exited with status 0 after 1.0s");

    CHECK_FALSE(crash_to_record(k_status_0, std::nullopt, "x", "T3"));
    CHECK_FALSE(crash_to_record(k_sigkill, std::nullopt, "x", "T3"));
}

// ---- restart budget --------------------------------------------------------------------------

TEST_CASE("supervision: backoff doubles from backoff_initial and stops at backoff_max", "[daemon][supervision]")
{
    app::RestartConfig r = restart_config();
    r.backoff_max = 3s;
    const std::array<app::Duration, 7> want = {200ms, 400ms, 800ms, 1600ms, 3000ms, 3000ms, 3000ms};
    for (int i = 0; i < static_cast<int>(want.size()); ++i) {
        INFO("restart " << i);
        CHECK(backoff_delay(r, i) == want[static_cast<std::size_t>(i)]);
    }
    r.backoff_initial = 300ms;
    r.backoff_max = 1s;
    CHECK(backoff_delay(r, 0) == 300ms);
    CHECK(backoff_delay(r, 1) == 600ms);
    CHECK(backoff_delay(r, 2) == 1s);
    CHECK(backoff_delay(r, 50) == 1s); // no overflow after many doublings
}

TEST_CASE("supervision: restarts back off 200ms, 400ms, 800ms … then give up at max within the window",
          "[daemon][supervision]")
{
    const app::RestartConfig cfg = restart_config(5);
    std::deque<SteadyTime> history;
    SteadyTime now{};
    const std::array<std::string, 5> delays = {"200ms", "400ms", "800ms", "1600ms", "3200ms"};
    for (int i = 0; i < 5; ++i) {
        now += 1s;
        RestartDecision d = decide_restart(history, now, cfg, "killed by SIGKILL after 1.0s");
        INFO("restart " << i + 1);
        CHECK(d.event == E::restart_scheduled);
        CHECK(d.recent == i);
        CHECK(d.reason == "killed by SIGKILL after 1.0s; restart " + std::to_string(i + 1) + " of 5 in " +
                              delays[static_cast<std::size_t>(i)]);
        REQUIRE(d.history.size() == static_cast<std::size_t>(i + 1));
        CHECK(d.history.back() == now);
        history = d.history;
    }
    now += 1s;
    const RestartDecision d = decide_restart(history, now, cfg, "crashed (killed by SIGABRT after 1.0s)");
    CHECK(d.event == E::restarts_exhausted);
    CHECK(d.recent == 5);
    CHECK(d.reason == "gave up after 5 restarts within 10m: crashed (killed by SIGABRT after 1.0s); fix the cause, "
                      "then run 'halo-check restart'");
    CHECK(d.history.size() == 5); // giving up is no restart
    CHECK(after(S::starting, d.event) == S::given_up);
    CHECK(after(S::unhealthy, d.event) == S::given_up);
}

TEST_CASE("supervision: restarts older than the window no longer count", "[daemon][supervision]")
{
    const app::RestartConfig cfg = restart_config(2, 10min);
    const SteadyTime t0{};
    std::deque<SteadyTime> history = {t0, t0 + 1min};
    // 10 minutes after the first one it still counts (older than the window drops, not as old).
    RestartDecision d = decide_restart(history, t0 + 10min, cfg, "x");
    CHECK(d.event == E::restarts_exhausted);
    d = decide_restart(history, t0 + 10min + 1ms, cfg, "x");
    CHECK(d.event == E::restart_scheduled);
    CHECK(d.recent == 1);
    CHECK(d.reason == "x; restart 2 of 2 in 400ms");
    CHECK(d.history == std::deque<SteadyTime>{t0 + 1min, t0 + 10min + 1ms});
    d = decide_restart(history, t0 + 1h, cfg, "x");
    CHECK(d.recent == 0);
    CHECK(d.history.size() == 1);
}

TEST_CASE("supervision: a launch that cannot fork schedules a restart from where it was", "[daemon][supervision]")
{
    const RestartDecision d = decide_restart({}, SteadyTime{}, restart_config(), "Failed to fork the engine: x");
    CHECK(d.event == E::restart_scheduled);
    for (S s : with(k_idle, {S::stopping})) CHECK(after(s, d.event) == S::backoff);
}

// ---- health ----------------------------------------------------------------------------------

TEST_CASE("supervision: 200 while starting or loading → ready, then liveness polls", "[daemon][supervision]")
{
    for (S s : {S::starting, S::loading}) {
        INFO(app::to_string(s));
        const HealthDecision d = decide_health(health(s, 200));
        CHECK(d.outcome == HealthOutcome::ready);
        REQUIRE(d.event);
        CHECK(*d.event == E::answered);
        CHECK(d.reason.empty());
        CHECK(d.next_poll == std::optional(std::chrono::milliseconds(30s)));
        CHECK(after(s, *d.event) == S::ready);
    }
}

TEST_CASE("supervision: 503 while starting → loading, while loading it keeps polling", "[daemon][supervision]")
{
    HealthDecision d = decide_health(health(S::starting, 503));
    CHECK(d.outcome == HealthOutcome::loading);
    REQUIRE(d.event);
    CHECK(*d.event == E::model_loading);
    CHECK(d.reason == "loading the model");
    CHECK(after(S::starting, *d.event) == S::loading);
    CHECK(d.next_poll == std::optional(100ms));

    d = decide_health(health(S::loading, 503));
    CHECK(d.outcome == HealthOutcome::waiting);
    CHECK_FALSE(d.event);
    CHECK_FALSE(next_state(S::loading, E::model_loading));
}

TEST_CASE("supervision: no answer or an error while starting keeps polling, fast first, then each second",
          "[daemon][supervision]")
{
    for (long status : {0L, 500L, 404L}) {
        INFO(status);
        HealthFacts f = health(S::starting, status);
        HealthDecision d = decide_health(f);
        CHECK(d.outcome == HealthOutcome::waiting);
        CHECK_FALSE(d.event);
        CHECK(d.liveness_failures == 0); // readiness does not count liveness failures
        CHECK(d.next_poll == std::optional(100ms));
        f.uptime = 10s;
        CHECK(decide_health(f).next_poll == std::optional(1000ms));
    }
}

TEST_CASE("supervision: ready and answering resets the failure count", "[daemon][supervision]")
{
    const HealthDecision d = decide_health(health(S::ready, 200, 2));
    CHECK(d.outcome == HealthOutcome::alive);
    CHECK_FALSE(d.event);
    CHECK(d.liveness_failures == 0);
    CHECK(d.next_poll == std::optional(std::chrono::milliseconds(30s)));
}

TEST_CASE("supervision: liveness failures count up, then reaching the limit kills for a restart",
          "[daemon][supervision]")
{
    HealthDecision d = decide_health(health(S::ready, 500, 0));
    CHECK(d.outcome == HealthOutcome::failed_check);
    CHECK_FALSE(d.event);
    CHECK(d.liveness_failures == 1);
    CHECK(d.failure == "HTTP 500");
    CHECK(d.next_poll == std::optional(std::chrono::milliseconds(30s)));

    d = decide_health(health(S::ready, 0, 1));
    CHECK(d.outcome == HealthOutcome::failed_check);
    CHECK(d.liveness_failures == 2);
    CHECK(d.failure == "Connection refused");

    d = decide_health(health(S::ready, 0, 2));
    CHECK(d.outcome == HealthOutcome::exhausted);
    REQUIRE(d.event);
    CHECK(*d.event == E::killed_for_restart);
    CHECK(d.liveness_failures == 3);
    CHECK(d.reason == "3 health checks failed in a row (Connection refused)");
    CHECK_FALSE(d.next_poll); // the restart takes over
    CHECK(after(S::ready, *d.event) == S::unhealthy);

    HealthFacts one = health(S::ready, 503);
    one.liveness_limit = 1;
    d = decide_health(one);
    CHECK(d.outcome == HealthOutcome::exhausted);
    CHECK(d.reason == "1 health checks failed in a row (HTTP 503)");
}

TEST_CASE("supervision: marked unhealthy, a 200 makes it ready again", "[daemon][supervision]")
{
    HealthFacts f = health(S::unhealthy, 200, 1);
    f.suspect = true;
    const HealthDecision d = decide_health(f);
    CHECK(d.outcome == HealthOutcome::alive_again);
    REQUIRE(d.event);
    CHECK(*d.event == E::answers_again);
    CHECK(d.liveness_failures == 0);
    CHECK(d.next_poll == std::optional(std::chrono::milliseconds(30s)));
    CHECK(after(S::unhealthy, *d.event) == S::ready);
}

TEST_CASE("supervision: marked unhealthy and failing counts to the limit, then restarts", "[daemon][supervision]")
{
    HealthFacts f = health(S::unhealthy, 0, 0);
    f.suspect = true;
    HealthDecision d = decide_health(f);
    CHECK(d.outcome == HealthOutcome::failed_check);
    CHECK(d.liveness_failures == 1);
    f.liveness_failures = 2;
    d = decide_health(f);
    CHECK(d.outcome == HealthOutcome::exhausted);
    CHECK(d.reason == "3 health checks failed in a row (Connection refused)");
    CHECK(after(S::unhealthy, E::killed_for_restart) == S::unhealthy);
}

TEST_CASE("supervision: answers are ignored where nothing polls", "[daemon][supervision]")
{
    // Unhealthy on its way to a restart (not suspect), stopping, and any idle state.
    for (S s : with(k_idle, {S::unhealthy, S::stopping})) {
        for (long status : {200L, 503L, 0L}) {
            INFO(app::to_string(s) << " " << status);
            const HealthDecision d = decide_health(health(s, status, 1));
            CHECK(d.outcome == HealthOutcome::ignored);
            CHECK_FALSE(d.event);
            CHECK_FALSE(d.next_poll);
            CHECK(d.liveness_failures == 1);
        }
    }
}

TEST_CASE("supervision: not ready within ready_timeout kills for a restart", "[daemon][supervision]")
{
    for (S s : {S::starting, S::loading}) {
        INFO(app::to_string(s));
        CHECK(readiness_timeout(s, 10min + 1ms, 10min) ==
              std::optional<std::string>("not ready within ready_timeout 10m"));
        CHECK_FALSE(readiness_timeout(s, 10min, 10min));
        CHECK(after(s, E::killed_for_restart) == S::unhealthy);
    }
    CHECK_FALSE(readiness_timeout(S::ready, 1h, 10min));
    CHECK(readiness_timeout(S::starting, 2s, 1500ms) ==
          std::optional<std::string>("not ready within ready_timeout 1500ms"));
}

// ---- smoke test ------------------------------------------------------------------------------

TEST_CASE("supervision: a failed smoke test of a ready engine kills it for a restart", "[daemon][supervision]")
{
    app::SmokeFigures failed;
    failed.error = "Timeout was reached";
    CHECK(smoke_kill_reason(failed, S::ready, true, 60s) ==
          std::optional<std::string>("smoke test failed: Timeout was reached (no tokens within smoke_timeout 1m)"));
    CHECK(after(S::ready, E::killed_for_restart) == S::unhealthy);

    CHECK_FALSE(smoke_kill_reason(failed, S::unhealthy, true, 60s)); // already on its way
    CHECK_FALSE(smoke_kill_reason(failed, S::ready, false, 60s));
    app::SmokeFigures ok;
    ok.ok = true;
    CHECK_FALSE(smoke_kill_reason(ok, S::ready, true, 60s));
}

TEST_CASE("supervision: a ready engine refusing the smoke test with 401 or 403 is a configuration error",
          "[daemon][supervision]")
{
    CHECK(smoke_refused_reason(401, S::ready, true, "") ==
          std::optional<std::string>("the engine refused the smoke test with HTTP 401: the API key is missing or wrong "
                                     "(halo-checkd sent none); set [engine] api_key_file or pass --api-key-file in the "
                                     "command, then run 'halo-check restart'"));
    CHECK(smoke_refused_reason(403, S::ready, true, "[engine] api_key_file") ==
          std::optional<std::string>("the engine refused the smoke test with HTTP 403: the API key is missing or wrong "
                                     "(halo-checkd sent the one from [engine] api_key_file); set [engine] api_key_file "
                                     "or pass --api-key-file in the command, then run 'halo-check restart'"));
    CHECK(after(S::ready, E::killed_for_good) == S::stopping);

    // Any other answer is the smoke test's own failure (restart), or none at all.
    for (long status : {0L, 200L, 400L, 404L, 500L, 503L})
        CHECK_FALSE(smoke_refused_reason(status, S::ready, true, ""));
    CHECK_FALSE(smoke_refused_reason(401, S::ready, false, ""));
    CHECK_FALSE(smoke_refused_reason(401, S::unhealthy, true, "")); // already on its way to a restart
    CHECK_FALSE(smoke_refused_reason(401, S::stopping, true, ""));
}

TEST_CASE("supervision: killed for good ends failed, whatever the exit, a stop or restart meanwhile wins",
          "[daemon][supervision]")
{
    const std::string why = "the engine refused the smoke test with HTTP 401: …";
    for (const ExitInfo info :
         {ExitInfo{false, SIGTERM, false}, ExitInfo{true, 0, false}, ExitInfo{false, SIGKILL, false},
          ExitInfo{true, 1, false}, ExitInfo{false, SIGSEGV, false}}) {
        ExitFacts f = exit_after(info, 2s);
        f.plan = ExitPlan::fail;
        f.planned_reason = why;
        const ExitDecision d = decide_exit(f);
        CHECK(d.action == ExitAction::fail_as_planned);
        CHECK(d.reason == why);
    }
    S s = after(S::ready, E::killed_for_good);
    CHECK(after(s, E::stopped_for_good) == S::failed);
    CHECK_FALSE(next_state(S::ready, E::stopped_for_good));
    CHECK_FALSE(next_state(S::failed, E::killed_for_good));
    // Restarting will not help: nothing is scheduled from failed until a start.
    CHECK(decide_start(S::failed, false) == StartAction::launch);
    // During the stop, `halo-check stop` or `restart` changes the plan, as for any stop.
    CHECK(decide_stop(s, true) == StopAction::already_stopping);
    CHECK(decide_start(s, true) == StartAction::restart_after_stop);
}

// ---- whole runs ------------------------------------------------------------------------------

TEST_CASE("supervision: a run from launch through loading, a GPU reset, liveness loss and backoff",
          "[daemon][supervision]")
{
    S s = S::stopped;
    REQUIRE(decide_start(s, false) == StartAction::launch);
    s = after(s, E::launched);
    CHECK(s == S::starting);
    s = after(s, *decide_health(health(s, 503)).event);
    CHECK(s == S::loading);
    CHECK_FALSE(decide_health(health(s, 503)).event);
    s = after(s, *decide_health(health(s, 200)).event);
    CHECK(s == S::ready);
    REQUIRE(may_mark_unhealthy(s, true));
    s = after(s, E::marked_unhealthy);
    HealthFacts suspect = health(s, 200);
    suspect.suspect = true;
    s = after(s, *decide_health(suspect).event);
    CHECK(s == S::ready);
    int failures = 0;
    HealthDecision d;
    do {
        d = decide_health(health(s, 500, failures));
        failures = d.liveness_failures;
    } while (d.outcome == HealthOutcome::failed_check);
    REQUIRE(d.outcome == HealthOutcome::exhausted);
    s = after(s, *d.event);
    CHECK(s == S::unhealthy);
    ExitFacts exit = exit_after({false, SIGTERM, false}, 1min);
    exit.plan = ExitPlan::restart_backoff;
    exit.planned_reason = d.reason;
    const ExitDecision e = decide_exit(exit);
    REQUIRE(e.action == ExitAction::restart_later);
    const RestartDecision r = decide_restart({}, SteadyTime{}, restart_config(), e.reason);
    CHECK(r.reason == "3 health checks failed in a row (HTTP 500); restart 1 of 5 in 200ms");
    s = after(s, r.event);
    CHECK(s == S::backoff);
    s = after(s, E::launched);
    CHECK(s == S::starting);
}

TEST_CASE("supervision: a stop while ready ends stopped, a start during it ends starting", "[daemon][supervision]")
{
    S s = S::ready;
    REQUIRE(decide_stop(s, true) == StopAction::begin_stopping);
    s = after(s, E::stop_requested);
    CHECK(s == S::stopping);
    CHECK(decide_stop(s, true) == StopAction::already_stopping);

    ExitFacts exit = exit_after({false, SIGTERM, false}, 1min);
    exit.plan = ExitPlan::stop;
    exit.planned_reason = "daemon shutting down: SIGTERM";
    ExitDecision e = decide_exit(exit);
    REQUIRE(e.action == ExitAction::stop);
    CHECK(after(s, E::exited_as_planned) == S::stopped);

    REQUIRE(decide_start(s, true) == StartAction::restart_after_stop);
    exit.plan = ExitPlan::restart_now;
    e = decide_exit(exit);
    REQUIRE(e.action == ExitAction::relaunch);
    CHECK(after(s, E::launched) == S::starting);
}

// ---- a new configuration ---------------------------------------------------------------------

namespace {

app::EngineConfig engine_config(std::vector<std::string> command)
{
    app::EngineConfig c;
    c.name = "llama";
    c.command = std::move(command);
    c.health_url = "http://127.0.0.1:8080/health";
    c.base_url = "http://127.0.0.1:8080";
    return c;
}

} // namespace

TEST_CASE("supervision: the command and the environment make the process, timings and labels do not",
          "[daemon][supervision]")
{
    const app::EngineConfig running = engine_config({"llama-server", "--port", "8080", "-c", "512"});
    app::EngineConfig next = running;
    next.liveness_interval = 5s;
    next.ready_timeout = 1min;
    next.stop_timeout = 3s;
    next.restart.max = 9;
    next.name = "renamed";
    next.backend = "vulkan-radv";
    next.health_url = "http://127.0.0.1:8080/v1/health";
    CHECK_FALSE(changes_process(running, next));

    next = running;
    next.command = {"llama-server", "--port", "8081", "-c", "512"};
    CHECK(changes_process(running, next));
    next = running;
    next.command.back() = "4096";
    CHECK(changes_process(running, next));
    next = running;
    next.env["HIP_VISIBLE_DEVICES"] = "0";
    CHECK(changes_process(running, next));
}

TEST_CASE("supervision: a refused configuration keeps the running process, its timings apply", "[daemon][supervision]")
{
    app::EngineConfig running = engine_config({"llama-server", "--port", "8080"});
    running.env["A"] = "1";
    running.alias = "old";
    app::EngineConfig next = engine_config({"llama-server", "--port", "9090", "--alias", "new"});
    next.health_url = "http://127.0.0.1:9090/health";
    next.base_url = "http://127.0.0.1:9090";
    next.alias = "new";
    next.liveness_interval = 7s;
    next.stop_timeout = 2s;
    const app::EngineConfig kept = keep_process(running, next);
    CHECK(kept.command == running.command);
    CHECK(kept.env == running.env);
    CHECK(kept.health_url == "http://127.0.0.1:8080/health");
    CHECK(kept.base_url == "http://127.0.0.1:8080");
    CHECK(kept.alias == std::optional<std::string>("old"));
    CHECK(kept.liveness_interval == 7s);
    CHECK(kept.stop_timeout == 2s);
    CHECK_FALSE(changes_process(running, kept));
}

TEST_CASE("supervision: a changed process restarts a running engine as planned, otherwise it waits or applies",
          "[daemon][supervision]")
{
    using R = ReconfigureAction;
    for (S s : k_all_states) {
        INFO(app::to_string(s));
        // Nothing changes the process: it applies, whatever runs.
        CHECK(decide_reconfigure(s, true, ExitPlan::classify, false) == R::apply_now);
        // Nothing runs: the next launch takes it, whenever that is.
        CHECK(decide_reconfigure(s, false, ExitPlan::classify, true) == R::apply_now);
    }
    for (S s : {S::starting, S::loading, S::ready, S::unhealthy}) {
        CHECK(decide_reconfigure(s, true, ExitPlan::classify, true) == R::restart_to_apply);
        // Killed for a restart already, or restarting: that launch takes the new command.
        CHECK(decide_reconfigure(s, true, ExitPlan::restart_backoff, true) == R::at_next_launch);
        CHECK(decide_reconfigure(s, true, ExitPlan::restart_now, true) == R::at_next_launch);
    }
    // A stop (or a leftover engine's) under way: the launch after it, if any, takes it.
    for (ExitPlan plan : {ExitPlan::stop, ExitPlan::restart_now, ExitPlan::classify}) {
        CHECK(decide_reconfigure(S::stopping, true, plan, true) == R::at_next_launch);
    }
}

TEST_CASE("supervision: the planned restart is a stop and a launch, and no restart counts", "[daemon][supervision]")
{
    S s = S::ready;
    REQUIRE(decide_reconfigure(s, true, ExitPlan::classify, true) == ReconfigureAction::restart_to_apply);
    REQUIRE(decide_stop(s, true) == StopAction::begin_stopping);
    s = after(s, E::stop_requested);
    CHECK(s == S::stopping);
    ExitFacts exit = exit_after(k_status_0, 3s); // llama-server's answer to SIGTERM
    exit.plan = ExitPlan::restart_now;
    exit.planned_reason = std::string(k_apply_command_reason);
    const ExitDecision e = decide_exit(exit);
    CHECK(e.action == ExitAction::relaunch);
    CHECK(e.reason == "restarting to apply the new engine command");
    s = after(s, E::launched);
    CHECK(s == S::starting);
    // An early exit status 1 of the old process during the planned stop is no failure either.
    exit.info = k_status_1;
    exit.ran = 10ms;
    CHECK(decide_exit(exit).action == ExitAction::relaunch);
}

// ---- the engine's port -------------------------------------------------------------------------

namespace {

probes::PortListener listener(pid_t pid, std::vector<std::string> argv, pid_t parent = 1,
                              std::string parent_name = "systemd")
{
    probes::PortListener l;
    l.pid = pid;
    l.argv = std::move(argv);
    l.name = l.argv.empty() ? "" : l.argv.front();
    l.parent = parent;
    l.parent_name = std::move(parent_name);
    return l;
}

} // namespace

TEST_CASE("supervision: a listener running the engine's command is a leftover, nothing else is",
          "[daemon][supervision]")
{
    const std::vector<std::string> cmd = {
        "/opt/llama-server", "--host", "127.0.0.1", "--port", "8080", "-m", "/m.gguf"};
    const pid_t self = ::getpid();
    CHECK(is_leftover_engine(listener(812, cmd), cmd, self));
    CHECK(is_leftover_engine(listener(812, cmd, 4242, "bash"), cmd, self));

    // Another program, the same program with other arguments, or a prefix of the command.
    CHECK_FALSE(is_leftover_engine(listener(813, {"python3", "-m", "http.server", "8080"}), cmd, self));
    auto other = cmd;
    other.back() = "/other.gguf";
    CHECK_FALSE(is_leftover_engine(listener(814, other), cmd, self));
    CHECK_FALSE(is_leftover_engine(listener(815, {cmd[0], cmd[1], cmd[2]}), cmd, self));
    auto longer = cmd;
    longer.emplace_back("-c");
    CHECK_FALSE(is_leftover_engine(listener(816, longer), cmd, self));
    // Ours, or another running daemon's engine.
    CHECK_FALSE(is_leftover_engine(listener(817, cmd, self, "halo-checkd"), cmd, self));
    CHECK_FALSE(is_leftover_engine(listener(818, cmd, 999, "halo-checkd"), cmd, self));
    // A socket whose process could not be seen, or read.
    CHECK_FALSE(is_leftover_engine(listener(0, cmd), cmd, self));
    CHECK_FALSE(is_leftover_engine(listener(819, {}), cmd, self));
    CHECK_FALSE(is_leftover_engine(listener(820, cmd), {}, self));

    // In a container the server runs the engine's part of the command.
    const std::vector<std::string> toolbox = {"toolbox",      "run",    "-c",  "llama-vulkan-radv",
                                              "llama-server", "--port", "8080"};
    CHECK(is_leftover_engine(listener(821, {"llama-server", "--port", "8080"}, 77, "conmon"), toolbox, self));
    CHECK(is_leftover_engine(listener(822, toolbox), toolbox, self)); // the client itself
    CHECK_FALSE(is_leftover_engine(listener(823, {"llama-server", "--port", "9090"}), toolbox, self));
    // On the host there is no inner part: the bare binary is not the command.
    CHECK_FALSE(is_leftover_engine(listener(824, {"/opt/llama-server"}), cmd, self));
    // argv[0] as a PATH lookup or a shim left it: the same file name is the same program.
    auto found_in_path = cmd;
    found_in_path[0] = "/usr/local/bin/llama-server";
    CHECK(is_leftover_engine(listener(825, found_in_path), cmd, self));
    found_in_path[0] = "/usr/local/bin/llama-server-old";
    CHECK_FALSE(is_leftover_engine(listener(826, found_in_path), cmd, self));
    found_in_path[0] = "/";
    CHECK_FALSE(is_leftover_engine(listener(827, found_in_path), cmd, self));

    CHECK(leftover_reason(812) == "stopping a leftover engine, pid 812, from an earlier run");
}

TEST_CASE("supervision: a leftover is stopped before the launch, a stop meanwhile ends stopped",
          "[daemon][supervision]")
{
    for (S from : with(k_idle, {S::stopping})) {
        S s = after(from, E::stopping_leftover);
        CHECK(s == S::stopping);
        // A start while it goes is the launch already planned; a stop only changes the plan.
        CHECK(decide_start(s, true) == StartAction::restart_after_stop);
        CHECK(decide_stop(s, true) == StopAction::already_stopping);
        CHECK(after(s, E::launched) == S::starting);
        CHECK(after(s, E::exited_as_planned) == S::stopped);
    }
    for (S s : k_running) CHECK_FALSE(next_state(s, E::stopping_leftover));
}

TEST_CASE("supervision: a port-in-use title names who holds the port", "[daemon][supervision]")
{
    const std::string title = "port 8080 is already in use";
    CHECK(port_in_use_title(title, {}) == title);
    probes::PortListener hidden;
    hidden.socket.inode = 77;
    const std::vector<probes::PortListener> one = {listener(1234, {"/usr/bin/python3", "-m", "http.server"})};
    std::vector<probes::PortListener> both = {hidden, listener(1234, {"python3"})};
    both[1].name = "python3";
    CHECK(port_in_use_title(title, both) == "port 8080 is already in use by pid 1234 (python3)");
    CHECK(port_in_use_title(title, std::vector<probes::PortListener>{hidden}) ==
          "port 8080 is already in use by a process not visible here (socket inode 77)");
    CHECK(port_in_use_title(title, one) == "port 8080 is already in use by pid 1234 (/usr/bin/python3)");
}

TEST_CASE("supervision: engine lines are judged with the running command's engine facts", "[daemon][supervision]")
{
    rules::Facts facts;
    facts.set("kernel.release", "6.18.6");
    facts.set("engine.model.path", "/from/facts/file.gguf");
    facts.set("engine.ctx_size", "131072");
    facts.set("engine.image.tag", "vulkan-radv");
    const rules::Facts line =
        facts_for_engine_lines(facts, std::vector<std::string>{"llama-server", "-m", "/run/m.bin", "--port", "9000"});
    CHECK(line.get("engine.model.path") == "/run/m.bin");
    CHECK(line.get("engine.port") == "9000");
    CHECK_FALSE(line.get("engine.ctx_size")); // this command sets none: not the file's
    CHECK(line.get("kernel.release") == "6.18.6");
    CHECK(line.get("engine.image.tag") == "vulkan-radv"); // not the command's to say
    // A command llama-server would refuse leaves the facts as they were.
    const rules::Facts bad = facts_for_engine_lines(facts, std::vector<std::string>{"llama-server", "-c", "abc"});
    CHECK(bad.get("engine.model.path") == "/from/facts/file.gguf");
}

TEST_CASE("supervision: a container launch's engine is the inner argv listening on the port", "[daemon][supervision]")
{
    const pid_t self = ::getpid();
    const std::vector<std::string> toolbox = {"toolbox",      "run",    "-c",  "llama-vulkan-radv",
                                              "llama-server", "--port", "8080"};
    const std::vector<std::string> podman = {"podman", "exec", "llama-vulkan-radv", "llama-server", "--port", "8080"};
    const std::vector<std::string> distrobox = {"distrobox", "enter", "box", "--", "llama-server", "--port", "8080"};
    const std::vector<std::string> host = {"llama-server", "--port", "8080"};
    CHECK(launches_in_container(toolbox));
    CHECK(launches_in_container(podman));
    CHECK(launches_in_container(distrobox));
    CHECK_FALSE(launches_in_container(host));
    CHECK_FALSE(launches_in_container({}));

    const std::vector<probes::PortListener> listeners = {
        listener(0, {}),                                         // a socket nobody could see
        listener(900, {"python3", "-m", "http.server", "8080"}), // someone else on the port
        listener(901, toolbox),                                  // the client itself: not the engine
        listener(902, {"llama-server", "--port", "8080"}, 77, "conmon"),
    };
    CHECK(container_engine_pid(listeners, toolbox, self) == 902);
    CHECK(container_engine_pid(listeners, podman, self) == 902);
    CHECK(container_engine_pid(listeners, distrobox, self) == 902);
    // A host engine is our own child: nothing else to stop.
    CHECK(container_engine_pid(listeners, host, self) == std::nullopt);
    // Other arguments inside the container are another engine; a nameless socket is none.
    CHECK(container_engine_pid(std::vector{listener(903, {"llama-server", "--port", "9090"})}, toolbox, self) ==
          std::nullopt);
    CHECK(container_engine_pid(std::vector{listener(0, {"llama-server", "--port", "8080"})}, toolbox, self) ==
          std::nullopt);
    CHECK(container_engine_pid(std::vector<probes::PortListener>{}, toolbox, self) == std::nullopt);
    // Another daemon's engine is not ours to stop.
    CHECK(container_engine_pid(std::vector{listener(904, {"llama-server", "--port", "8080"}, 999, "halo-checkd")},
                               toolbox, self) == std::nullopt);
}

TEST_CASE("supervision: a container launch's stop completes when client and engine are both gone",
          "[daemon][supervision]")
{
    CHECK(container_stop_complete(false, false));
    CHECK_FALSE(container_stop_complete(false, true)); // the client went; the engine holds the port
    CHECK_FALSE(container_stop_complete(true, false));
    CHECK_FALSE(container_stop_complete(true, true));
}

TEST_CASE("supervision: a container launcher's status 128+N is the engine killed by signal N", "[daemon][supervision]")
{
    // podman exec and toolbox run exit 139 when the engine inside dies of SIGSEGV.
    const ExitInfo segv = exit_through_launcher({true, 139, false}, true);
    CHECK_FALSE(segv.exited);
    CHECK(segv.status == SIGSEGV);
    CHECK(is_crash(segv));
    CHECK(describe_exit(segv, 2s) == "killed by SIGSEGV after 2.0s");
    CHECK(crash_to_record(segv, std::nullopt, describe_exit(segv, 2s), "2026-01-01T00:00:00Z").has_value());
    const ExitInfo abrt = exit_through_launcher({true, 128 + SIGABRT, false}, true);
    CHECK(is_crash(abrt));
    // A SIGTERM (143) or SIGKILL (137) through the launcher is a kill, no crash.
    const ExitInfo term = exit_through_launcher({true, 143, false}, true);
    CHECK_FALSE(term.exited);
    CHECK(term.status == SIGTERM);
    CHECK_FALSE(is_crash(term));
    // On the host 139 is a status the engine chose; statuses up to 128 and beyond 128+64 stay.
    for (const auto& [status, container] : std::vector<std::pair<int, bool>>{
             {139, false}, {0, true}, {1, true}, {127, true}, {128, true}, {193, true}, {255, true}}) {
        INFO(status << (container ? " through a container" : " on the host"));
        const ExitInfo same = exit_through_launcher({true, status, false}, container);
        CHECK(same.exited);
        CHECK(same.status == status);
        CHECK_FALSE(is_crash(same));
    }
    // A launcher that was itself killed by a signal stays killed by that signal.
    const ExitInfo killed = exit_through_launcher({false, SIGKILL, false}, true);
    CHECK_FALSE(killed.exited);
    CHECK(killed.status == SIGKILL);
}
