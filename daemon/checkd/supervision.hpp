#pragma once
// The supervisor's decisions as pure functions: plain values in (the state, what was planned for
// the process's exit, how long it ran, what /health answered, the restart history and "now"),
// the next state, its reason text and what to do out. No sd-event, no clock, no process: the
// Supervisor (supervisor.cpp) gathers the values, asks here and carries the answer out, so
// tests can walk every transition with plain values.
//
// States (app::EngineState) fall in three groups:
//   idle     stopped refused backoff given_up failed    no process
//   running  starting loading ready unhealthy           a process we watch
//   stopping                                            a process we asked to go
//
// The transitions, as next_state() holds them (the supervisor changes state only through it):
//
//   event               from               to         reason, e.g.
//   launched            idle, stopping     starting   "waiting for http://127.0.0.1:8080/health"
//   not_launched        idle, stopping     failed     "no engine command configured"
//   stopping_leftover   idle, stopping     stopping   "stopping a leftover engine, pid 812, from an
//                                                     earlier run" (its exit: launched, or
//                                                     exited_as_planned when a stop came meanwhile)
//   model_loading       starting           loading    "loading the model" (/health said 503)
//   answered            starting, loading  ready      "" (/health said 200)
//   answers_again       unhealthy          ready      "" (200 after mark_unhealthy)
//   marked_unhealthy    ready              unhealthy  "GPU reset in the kernel log: …"
//   killed_for_restart  running            unhealthy  "3 health checks failed in a row (HTTP 500)",
//                                                     "not ready within ready_timeout 10m",
//                                                     "smoke test failed: …"
//   killed_for_good     running            stopping   "the engine refused the smoke test with HTTP
//                                                     401: the API key is missing or wrong …"
//   stop_requested      running            stopping   why; "restarting to apply the new engine
//                                                     command" for a reload that changed it
//   stopped_idle        idle               stopped    why (stop() with no process)
//   refused             idle               refused    the verdict
//   exited_as_planned   stopping           stopped    why the stop was asked
//   stopped_for_good    stopping           failed     why it was killed for good
//   exited_for_good     running            failed     "exited with status 1 after 0.4s: restarting
//                                                     will not help …", "command not found: …"
//   restart_scheduled   any                backoff    "killed by SIGKILL after 2.0s; restart 1 of 5
//                                                     in 200ms"
//   restarts_exhausted  any                given_up   "gave up after 5 restarts within 10m: …"
//   internal_error      any                failed     "internal error in on_child: …"
//
// restart_scheduled and restarts_exhausted come from decide_restart(): an exit that is worth a
// restart (decide_exit()), a kill for restart, or a launch that could not fork. Events that
// change nothing (the third failed liveness check of five, a 503 while loading) are not
// transitions: the decisions below say so by giving no event. A planned restart (a changed
// engine command, halo-check restart) is stop_requested, then launched: no restart_scheduled,
// so it never counts against the restart budget.

#include "daemon/config.hpp"
#include "daemon/engine_status.hpp"
#include "probes/port_owner.hpp"
#include "rules/facts.hpp"

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace halo::checkd {

using SteadyTime = std::chrono::steady_clock::time_point;
using SteadyDuration = std::chrono::steady_clock::duration;

enum class SupervisionEvent {
    launched,
    not_launched,
    stopping_leftover,
    model_loading,
    answered,
    answers_again,
    marked_unhealthy,
    killed_for_restart,
    killed_for_good,
    stop_requested,
    stopped_idle,
    refused,
    exited_as_planned,
    stopped_for_good,
    exited_for_good,
    restart_scheduled,
    restarts_exhausted,
    internal_error,
};
std::string_view to_string(SupervisionEvent event) noexcept;

// The state `event` leads to from `from`; nullopt when the table has no such transition (a
// programming error in the supervisor).
std::optional<app::EngineState> next_state(app::EngineState from, SupervisionEvent event) noexcept;

// ---- commands ----------------------------------------------------------------------------------

// In the decisions below `process_running` means a process we answer for is there: the engine,
// or a leftover engine being stopped before a launch.

enum class StartAction {
    launch,             // nothing runs: launch now
    restart_after_stop, // a stop is under way: launch once the old process is gone
    none,               // it runs already
};
StartAction decide_start(app::EngineState state, bool process_running) noexcept;

enum class StopAction {
    stopped_idle,     // nothing runs: stopped at once
    begin_stopping,   // SIGTERM to the group, SIGKILL after stop_timeout
    already_stopping, // only the plan (what happens after the exit) changes
};
StopAction decide_stop(app::EngineState state, bool process_running) noexcept;

// Only a ready engine can be marked unhealthy.
bool may_mark_unhealthy(app::EngineState state, bool process_running) noexcept;
// Why an on-demand smoke test cannot run now; nullopt when it can.
std::optional<std::string> smoke_refusal(app::EngineState state, bool smoke_running);

// "waiting for <health_url>": the reason of `starting`.
std::string waiting_reason(std::string_view health_url);
inline constexpr std::string_view k_no_command_reason = "no engine command configured";
inline constexpr std::string_view k_loading_reason = "loading the model";
// "internal error in <where>: <what>": the reason of `failed` after an exception in a callback.
std::string internal_error_reason(std::string_view where, std::string_view what);

// What the supervisor planned for the running process's exit.
enum class ExitPlan {
    classify,        // it was not asked to go: decide_exit() reads the exit
    stop,            // stop(): stopped
    restart_now,     // restart() or a start during a stop: launch again at once
    restart_backoff, // killed for a restart (unhealthy): restart within the restart budget
    fail,            // killed because it cannot work as configured: failed, no restart
};

// ---- a new configuration -----------------------------------------------------------------------

// True when `next` would run another process than `running`: another command or environment.
// Timings, the name, the backend label and an explicit health_url leave the process as it is.
bool changes_process(const app::EngineConfig& running, const app::EngineConfig& next);

// `next` with what defines the process taken from `running`: its command and environment, and the
// URLs and alias that come from the command. The settings of a refused configuration apply to
// the engine that keeps running; its command does not.
app::EngineConfig keep_process(const app::EngineConfig& running, app::EngineConfig next);

// What a reload's [engine] table means while the engine is in `state` (`plan`: what was planned
// for the running process's exit).
enum class ReconfigureAction {
    apply_now,        // nothing runs, or the process stays the same: it applies as it is
    restart_to_apply, // a planned restart: SIGTERM, wait, launch the new command
    at_next_launch,   // a stop or restart is under way already: the launch after it takes it
};
ReconfigureAction decide_reconfigure(app::EngineState state, bool process_running, ExitPlan plan, bool changes_process);

inline constexpr std::string_view k_apply_command_reason = "restarting to apply the new engine command";

// ---- the engine's port -------------------------------------------------------------------------

// Whether a listener on the engine's port is a leftover engine from an earlier run of the daemon
// (to stop before the launch): it runs the engine's command (the whole of it, or the engine's
// own part when a wrapper such as toolbox or podman runs it inside a container; argv[0] need
// only name the same file, /usr/bin/llama-server for llama-server), and it is
// neither our own child nor another halo-checkd's (that one supervises it). Anything else on
// the port is never touched.
bool is_leftover_engine(const probes::PortListener& listener, std::span<const std::string> command, pid_t self);

// "stopping a leftover engine, pid 812, from an earlier run"
std::string leftover_reason(pid_t pid);

// llama-server's "couldn't bind" line, as the knowledge base names it: its title gets the port's
// holder.
inline constexpr std::string_view k_port_in_use_pattern = "log.engine-port-in-use";
// `title` + " by pid 1234 (python3)": the first listener the lookup found a process for (else the
// first); the title alone when nothing listens any more.
std::string port_in_use_title(std::string title, std::span<const probes::PortListener> listeners);

// The facts an engine line is matched and its title filled with: `facts` (the daemon's) with the
// engine.* facts of `command`, the process that printed the line, over those of the config file
// or a facts file.
rules::Facts facts_for_engine_lines(rules::Facts facts, std::span<const std::string> command);

// ---- an engine inside a container -------------------------------------------------------------

// Whether `command` starts the engine through a container launcher (toolbox run, podman exec,
// distrobox enter): the process the daemon starts is then only a client, and the engine is a
// process of the container that no signal to the client, its group or PDEATHSIG reaches.
bool launches_in_container(std::span<const std::string> command);

// The real engine of a container launch: the listener on the engine's port that runs the
// engine's inner argv (the leftover matcher's test, so never our own client or another daemon's
// engine); nullopt for a host command or when none matches.
std::optional<pid_t> container_engine_pid(std::span<const probes::PortListener> listeners,
                                          std::span<const std::string> command, pid_t self);

// A stop (or restart) of a container launch is complete only when both processes are gone: the
// client we reap and the engine that listens on the port.
bool container_stop_complete(bool client_running, bool listener_running) noexcept;

// ---- exit --------------------------------------------------------------------------------------

struct ExitInfo {
    bool exited = true; // false: killed by a signal
    int status = 0;     // the exit status, or the signal's number
    bool core_dumped = false;
};

// A container launcher (podman exec, toolbox run) reports its engine's death by signal N as exit
// status 128+N (SIGSEGV: 139). For a container launch such a status reads as "killed by signal
// N", so a crash there counts as one; anything else, and every host launch, is left as it is.
ExitInfo exit_through_launcher(const ExitInfo& info, bool in_container) noexcept;

// "exited with status 1 after 0.4s", "killed by SIGABRT (core dumped) after 12.0s".
std::string describe_exit(const ExitInfo& info, SteadyDuration ran);
// SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP: the engine crashed, it was not stopped.
bool is_crash(const ExitInfo& info) noexcept;

struct ExitFacts {
    ExitInfo info;
    ExitPlan plan = ExitPlan::classify;
    std::string planned_reason;             // why the stop or restart was asked
    SteadyDuration ran{};                   // from launch to exit
    app::Duration early_exit{};             // EngineConfig::early_exit
    std::string crash_pattern;              // the log pattern this run's output matched, if any
    std::string cause;                      // that pattern's filled title, if any
    std::optional<std::string> last_output; // the engine's last line, if any
    int exec_errno = 0;                     // EngineProcess::exec_errno: the command could not be executed
    std::string program;                    // the command's argv[0]
    std::string wrapped;                    // the engine binary when argv[0] runs it (toolbox, podman, env …)
};

enum class ExitAction {
    stop,            // exited_as_planned; then run what stop() was given
    relaunch,        // launch again now
    restart_later,   // decide_restart() with `reason`
    fail,            // exited_for_good
    fail_as_planned, // stopped_for_good
};

struct ExitDecision {
    ExitAction action = ExitAction::fail;
    std::string reason;
};

// A command that could not be executed (exec_errno, or exit status 127 "not found" / 126 "not
// executable", as shells, env, toolbox and podman report it, whenever it comes) fails for good;
// so does status 1 within early_exit (bad arguments, port in use, model failed to load), naming
// the cause its output matched (else quoting its last line); a crash signal restarts naming the
// crash (and its log pattern); any other exit restarts.
ExitDecision decide_exit(const ExitFacts& facts);

// The crash to remember for this exit (a crash signal, or output that matched a crash
// pattern), with its exit text and time filled in; nullopt when the exit was no crash.
std::optional<app::CrashReason> crash_to_record(const ExitInfo& info, const std::optional<app::CrashReason>& run_match,
                                                std::string exit_text, std::string at);

// ---- restart budget ----------------------------------------------------------------------------

// backoff_initial doubled once per recent restart, never above backoff_max.
app::Duration backoff_delay(const app::RestartConfig& restart, int recent_restarts);

struct RestartDecision {
    SupervisionEvent event = SupervisionEvent::restart_scheduled; // or restarts_exhausted
    std::string reason;                                           // the state's reason
    app::Duration delay{0};                                       // until the launch (backoff)
    int recent = 0;                                               // restarts within the window before this one
    std::deque<SteadyTime> history; // restart times to keep: the window's, plus `now` when scheduled
};

// `history` holds the times of earlier restarts, oldest first. Those older than the window are
// dropped; as many as restart.max left within it means give up.
RestartDecision decide_restart(std::deque<SteadyTime> history, SteadyTime now, const app::RestartConfig& restart,
                               std::string_view why);

// ---- health ------------------------------------------------------------------------------------

enum class HealthOutcome {
    ignored,      // not polling in this state (stopping; unhealthy on its way to a restart)
    ready,        // starting/loading answered 200: answered, run the smoke test
    loading,      // starting answered 503: model_loading
    waiting,      // starting/loading, anything else: poll again
    alive,        // ready answered 200
    alive_again,  // unhealthy after mark_unhealthy answered 200: answers_again
    failed_check, // ready (or suspect) did not answer; fewer failures than the limit
    exhausted,    // the failures reached the limit: killed_for_restart
};

struct HealthFacts {
    app::EngineState state = app::EngineState::starting;
    bool suspect = false; // unhealthy by mark_unhealthy(): its health decides
    long status = 0;      // HTTP status, 0 when no answer came
    std::string error;    // why no answer came
    int liveness_failures = 0;
    int liveness_limit = 3;
    SteadyDuration uptime{};
    app::Duration liveness_interval{};
};

struct HealthDecision {
    HealthOutcome outcome = HealthOutcome::ignored;
    std::optional<SupervisionEvent> event;              // the transition, when the answer changes the state
    std::string reason;                                 // the new state's reason
    int liveness_failures = 0;                          // the count after this answer
    std::string failure;                                // "HTTP 500" or the transport error, for failed checks
    std::optional<std::chrono::milliseconds> next_poll; // when to poll again; nullopt: do not
};

HealthDecision decide_health(const HealthFacts& facts);

// The kill reason when a starting or loading engine has had its ready_timeout; nullopt otherwise.
std::optional<std::string> readiness_timeout(app::EngineState state, SteadyDuration uptime,
                                             app::Duration ready_timeout);

// ---- smoke test --------------------------------------------------------------------------------

// The kill reason when a failed smoke test means a restart (the engine was ready and runs);
// nullopt when the figures are only recorded.
std::optional<std::string> smoke_kill_reason(const app::SmokeFigures& figures, app::EngineState state,
                                             bool process_running, app::Duration smoke_timeout);

// The failure reason when a ready engine refused the smoke test with HTTP 401 or 403: the key is
// missing or wrong, which a restart only repeats, so it is killed for good. `key_source` says
// where the key sent came from (ApiKeys::source; empty when none was sent). nullopt otherwise.
std::optional<std::string> smoke_refused_reason(long http_status, app::EngineState state, bool process_running,
                                                std::string_view key_source);

} // namespace halo::checkd
