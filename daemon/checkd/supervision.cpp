#include "daemon/checkd/supervision.hpp"

#include "probes/engine_command.hpp"

#include <fmt/core.h>

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace halo::checkd {

using app::EngineState;
using std::chrono::milliseconds;

namespace {

using StateSet = unsigned;

constexpr StateSet bit(EngineState s) noexcept { return 1u << static_cast<unsigned>(s); }

constexpr StateSet k_idle = bit(EngineState::stopped) | bit(EngineState::refused) | bit(EngineState::backoff) |
                            bit(EngineState::given_up) | bit(EngineState::failed);
constexpr StateSet k_running =
    bit(EngineState::starting) | bit(EngineState::loading) | bit(EngineState::ready) | bit(EngineState::unhealthy);
constexpr StateSet k_any = k_idle | k_running | bit(EngineState::stopping);

struct Transition {
    SupervisionEvent event;
    StateSet from;
    EngineState to;
};

// The table of supervision.hpp, row for row.
constexpr Transition k_transitions[] = {
    {SupervisionEvent::launched, k_idle | bit(EngineState::stopping), EngineState::starting},
    {SupervisionEvent::not_launched, k_idle | bit(EngineState::stopping), EngineState::failed},
    {SupervisionEvent::stopping_leftover, k_idle | bit(EngineState::stopping), EngineState::stopping},
    {SupervisionEvent::model_loading, bit(EngineState::starting), EngineState::loading},
    {SupervisionEvent::answered, bit(EngineState::starting) | bit(EngineState::loading), EngineState::ready},
    {SupervisionEvent::answers_again, bit(EngineState::unhealthy), EngineState::ready},
    {SupervisionEvent::marked_unhealthy, bit(EngineState::ready), EngineState::unhealthy},
    {SupervisionEvent::killed_for_restart, k_running, EngineState::unhealthy},
    {SupervisionEvent::killed_for_good, k_running, EngineState::stopping},
    {SupervisionEvent::stop_requested, k_running, EngineState::stopping},
    {SupervisionEvent::stopped_idle, k_idle, EngineState::stopped},
    {SupervisionEvent::refused, k_idle, EngineState::refused},
    {SupervisionEvent::exited_as_planned, bit(EngineState::stopping), EngineState::stopped},
    {SupervisionEvent::stopped_for_good, bit(EngineState::stopping), EngineState::failed},
    {SupervisionEvent::exited_for_good, k_running, EngineState::failed},
    {SupervisionEvent::restart_scheduled, k_any, EngineState::backoff},
    {SupervisionEvent::restarts_exhausted, k_any, EngineState::given_up},
    {SupervisionEvent::internal_error, k_any, EngineState::failed},
};

std::string signal_name(int sig)
{
    const char* abbrev = sigabbrev_np(sig);
    return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

std::string seconds_text(SteadyDuration d) { return fmt::format("{:.1f}s", std::chrono::duration<double>(d).count()); }

std::string answer_text(long status, const std::string& error)
{
    return status ? fmt::format("HTTP {}", status) : error;
}

// nullopt when the exit does not say the command could not be run.
std::optional<std::string> not_executable(const ExitFacts& f)
{
    constexpr std::string_view k_fix =
        "; restarting will not help; fix [engine] command, then run 'halo-check restart'";
    if (f.exec_errno != 0) {
        // Our own exec failed: argv[0] is what could not be run.
        if (f.exec_errno == ENOENT) return fmt::format("command not found: {}{}", f.program, k_fix);
        if (f.exec_errno == EACCES) return fmt::format("permission denied: {} is not executable{}", f.program, k_fix);
        return fmt::format("cannot execute {}: {}{}", f.program, std::strerror(f.exec_errno), k_fix);
    }
    if (!f.info.exited || (f.info.status != 127 && f.info.status != 126)) return std::nullopt;
    // argv[0] ran and says so: what it could not run is the engine it wraps.
    const std::string& what = f.wrapped.empty() ? f.program : f.wrapped;
    const std::string by = f.wrapped.empty() ? fmt::format(" (exit status {})", f.info.status)
                                             : fmt::format(" ({} exited with status {})", f.program, f.info.status);
    if (f.info.status == 127) return fmt::format("command not found: {}{}{}", what, by, k_fix);
    return fmt::format("permission denied: {} is not executable{}{}", what, by, k_fix);
}

} // namespace

std::string_view to_string(SupervisionEvent event) noexcept
{
    switch (event) {
    case SupervisionEvent::launched: return "launched";
    case SupervisionEvent::not_launched: return "not_launched";
    case SupervisionEvent::stopping_leftover: return "stopping_leftover";
    case SupervisionEvent::model_loading: return "model_loading";
    case SupervisionEvent::answered: return "answered";
    case SupervisionEvent::answers_again: return "answers_again";
    case SupervisionEvent::marked_unhealthy: return "marked_unhealthy";
    case SupervisionEvent::killed_for_restart: return "killed_for_restart";
    case SupervisionEvent::killed_for_good: return "killed_for_good";
    case SupervisionEvent::stop_requested: return "stop_requested";
    case SupervisionEvent::stopped_idle: return "stopped_idle";
    case SupervisionEvent::refused: return "refused";
    case SupervisionEvent::exited_as_planned: return "exited_as_planned";
    case SupervisionEvent::stopped_for_good: return "stopped_for_good";
    case SupervisionEvent::exited_for_good: return "exited_for_good";
    case SupervisionEvent::restart_scheduled: return "restart_scheduled";
    case SupervisionEvent::restarts_exhausted: return "restarts_exhausted";
    case SupervisionEvent::internal_error: return "internal_error";
    }
    return "unknown";
}

std::optional<EngineState> next_state(EngineState from, SupervisionEvent event) noexcept
{
    for (const Transition& t : k_transitions) {
        if (t.event == event) return (t.from & bit(from)) ? std::optional(t.to) : std::nullopt;
    }
    return std::nullopt;
}

// ---- commands ----------------------------------------------------------------------------------

StartAction decide_start(EngineState state, bool process_running) noexcept
{
    if (!process_running) return StartAction::launch;
    return state == EngineState::stopping ? StartAction::restart_after_stop : StartAction::none;
}

StopAction decide_stop(EngineState state, bool process_running) noexcept
{
    if (!process_running) return StopAction::stopped_idle;
    return state == EngineState::stopping ? StopAction::already_stopping : StopAction::begin_stopping;
}

bool may_mark_unhealthy(EngineState state, bool process_running) noexcept
{
    return process_running && state == EngineState::ready;
}

std::optional<std::string> smoke_refusal(EngineState state, bool smoke_running)
{
    if (state != EngineState::ready) return fmt::format("the engine is {}, not ready", app::to_string(state));
    if (smoke_running) return std::string("a smoke test is already running");
    return std::nullopt;
}

std::string waiting_reason(std::string_view health_url) { return fmt::format("waiting for {}", health_url); }

std::string internal_error_reason(std::string_view where, std::string_view what)
{
    return fmt::format("internal error in {}: {}", where, what);
}

// ---- a new configuration -----------------------------------------------------------------------

bool changes_process(const app::EngineConfig& running, const app::EngineConfig& next)
{
    return running.command != next.command || running.env != next.env;
}

app::EngineConfig keep_process(const app::EngineConfig& running, app::EngineConfig next)
{
    next.command = running.command;
    next.env = running.env;
    next.health_url = running.health_url;
    next.base_url = running.base_url;
    next.alias = running.alias;
    return next;
}

ReconfigureAction decide_reconfigure(EngineState state, bool process_running, ExitPlan plan, bool process_changes)
{
    if (!process_changes || !process_running) return ReconfigureAction::apply_now;
    // A stop, a restart or a kill for a restart is under way: its own launch (if any) comes next.
    if (state == EngineState::stopping || plan != ExitPlan::classify) return ReconfigureAction::at_next_launch;
    return ReconfigureAction::restart_to_apply;
}

// ---- the engine's port -------------------------------------------------------------------------

namespace {

std::string_view file_name(std::string_view path)
{
    const std::size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// The same arguments, and the same program: argv[0] as written or as a PATH lookup (or a shim
// such as pyenv's) left it, so only its file name has to agree.
bool same_argv(std::span<const std::string> a, std::span<const std::string> b)
{
    if (a.empty() || a.size() != b.size() || file_name(a[0]) != file_name(b[0]) || file_name(a[0]).empty())
        return false;
    return std::equal(a.begin() + 1, a.end(), b.begin() + 1);
}

} // namespace

bool is_leftover_engine(const probes::PortListener& l, std::span<const std::string> command, pid_t self)
{
    if (l.pid <= 0 || l.argv.empty() || command.empty()) return false;
    // Ours, or another daemon's engine: not left over.
    if (l.parent == self || (l.parent_name == "halo-checkd" && l.parent > 1)) return false;
    if (same_argv(l.argv, command)) return true;
    // Inside a container the server's argv is the command after the wrapper's part.
    auto parsed = probes::parse_engine_command(command);
    if (!parsed || parsed->wrapper == "host") return false;
    std::vector<std::string> inner{parsed->binary};
    inner.insert(inner.end(), parsed->args.begin(), parsed->args.end());
    return same_argv(l.argv, inner);
}

std::string leftover_reason(pid_t pid)
{
    return fmt::format("stopping a leftover engine, pid {}, from an earlier run", pid);
}

std::string port_in_use_title(std::string title, std::span<const probes::PortListener> listeners)
{
    if (listeners.empty()) return title;
    const auto seen = std::find_if(listeners.begin(), listeners.end(), [](const auto& l) { return l.pid > 0; });
    return title + " by " + probes::describe_listener(seen != listeners.end() ? *seen : listeners.front());
}

rules::Facts facts_for_engine_lines(rules::Facts facts, std::span<const std::string> command)
{
    auto parsed = probes::parse_engine_command(command);
    if (!parsed) return facts;
    // Every key a command can give, so one this command leaves out (no -c) does not keep another's
    // value.
    probes::EngineCommand every;
    every.container = every.model_path = every.hf_repo = every.ctx_size = every.n_gpu_layers = every.jinja =
        every.reasoning_budget = every.alias = every.load_mode = std::string();
    for (const auto& [key, value] : probes::engine_command_facts(every)) facts.erase(key);
    for (auto& [key, value] : probes::engine_command_facts(*parsed)) facts.set(key, value, "engine command");
    return facts;
}

// ---- an engine inside a container -------------------------------------------------------------

bool launches_in_container(std::span<const std::string> command)
{
    auto parsed = probes::parse_engine_command(command);
    return parsed && parsed->wrapper != "host";
}

std::optional<pid_t> container_engine_pid(std::span<const probes::PortListener> listeners,
                                          std::span<const std::string> command, pid_t self)
{
    if (!launches_in_container(command)) return std::nullopt;
    for (const probes::PortListener& l : listeners) {
        // The whole command is the client itself (or a launcher someone else started): only the
        // inner argv is the engine.
        if (l.pid > 0 && is_leftover_engine(l, command, self) && l.argv.size() != command.size()) return l.pid;
    }
    return std::nullopt;
}

bool container_stop_complete(bool client_running, bool listener_running) noexcept
{
    return !client_running && !listener_running;
}

ExitInfo exit_through_launcher(const ExitInfo& info, bool in_container) noexcept
{
    // Signals are 1..64 (SIGRTMAX); 128 itself and above 192 are plain statuses.
    if (!in_container || !info.exited || info.status <= 128 || info.status > 128 + 64) return info;
    return {false, info.status - 128, false};
}

// ---- exit --------------------------------------------------------------------------------------

std::string describe_exit(const ExitInfo& info, SteadyDuration ran)
{
    std::string text =
        info.exited ? fmt::format("exited with status {}", info.status)
                    : fmt::format("killed by {}{}", signal_name(info.status), info.core_dumped ? " (core dumped)" : "");
    return text + fmt::format(" after {}", seconds_text(ran));
}

bool is_crash(const ExitInfo& info) noexcept
{
    if (info.exited) return false;
    const int sig = info.status;
    return sig == SIGABRT || sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP;
}

ExitDecision decide_exit(const ExitFacts& f)
{
    switch (f.plan) {
    case ExitPlan::stop: return {ExitAction::stop, f.planned_reason};
    case ExitPlan::restart_now: return {ExitAction::relaunch, f.planned_reason};
    case ExitPlan::restart_backoff: return {ExitAction::restart_later, f.planned_reason};
    case ExitPlan::fail: return {ExitAction::fail_as_planned, f.planned_reason};
    case ExitPlan::classify: break;
    }
    if (auto reason = not_executable(f)) return {ExitAction::fail, std::move(*reason)};
    const std::string exit = describe_exit(f.info, f.ran);
    if (f.info.exited && f.info.status == 1 && f.ran < f.early_exit) {
        if (!f.cause.empty()) {
            return {ExitAction::fail, fmt::format("{}; the engine {}, and restarting will not help: fix it, then run "
                                                  "'halo-check restart'",
                                                  f.cause, exit)};
        }
        const std::string last = f.last_output ? fmt::format(" (last output: {})", *f.last_output) : std::string();
        return {ExitAction::fail,
                fmt::format("{}{}: restarting will not help (bad arguments, port in use or the model failed to load); "
                            "fix the command or model, then run 'halo-check restart'",
                            exit, last)};
    }
    if (is_crash(f.info)) {
        return {ExitAction::restart_later, f.crash_pattern.empty()
                                               ? fmt::format("crashed ({})", exit)
                                               : fmt::format("crashed ({}): {}", exit, f.crash_pattern)};
    }
    return {ExitAction::restart_later, exit};
}

std::optional<app::CrashReason> crash_to_record(const ExitInfo& info, const std::optional<app::CrashReason>& run_match,
                                                std::string exit_text, std::string at)
{
    if (!is_crash(info) && !run_match) return std::nullopt;
    app::CrashReason c = run_match.value_or(app::CrashReason{});
    c.exit = std::move(exit_text);
    c.at = std::move(at);
    return c;
}

// ---- restart budget ----------------------------------------------------------------------------

app::Duration backoff_delay(const app::RestartConfig& restart, int recent_restarts)
{
    app::Duration delay = restart.backoff_initial;
    for (int i = 0; i < recent_restarts && delay < restart.backoff_max; ++i) delay *= 2;
    return std::min(delay, restart.backoff_max);
}

RestartDecision decide_restart(std::deque<SteadyTime> history, SteadyTime now, const app::RestartConfig& restart,
                               std::string_view why)
{
    while (!history.empty() && now - history.front() > restart.window) history.pop_front();
    RestartDecision d;
    d.recent = static_cast<int>(history.size());
    if (d.recent >= restart.max) {
        d.event = SupervisionEvent::restarts_exhausted;
        d.reason = fmt::format("gave up after {} restarts within {}: {}; fix the cause, then run 'halo-check restart'",
                               d.recent, app::format_duration(restart.window), why);
        d.history = std::move(history);
        return d;
    }
    d.event = SupervisionEvent::restart_scheduled;
    d.delay = backoff_delay(restart, d.recent);
    d.reason = fmt::format("{}; restart {} of {} in {}", why, d.recent + 1, restart.max, app::format_duration(d.delay));
    history.push_back(now);
    d.history = std::move(history);
    return d;
}

// ---- health ------------------------------------------------------------------------------------

HealthDecision decide_health(const HealthFacts& f)
{
    HealthDecision d;
    d.liveness_failures = f.liveness_failures;
    if (f.state == EngineState::starting || f.state == EngineState::loading) {
        if (f.status == 200) {
            d.outcome = HealthOutcome::ready;
            d.event = SupervisionEvent::answered;
            d.next_poll = f.liveness_interval;
            return d;
        }
        if (f.status == 503 && f.state == EngineState::starting) {
            d.outcome = HealthOutcome::loading;
            d.event = SupervisionEvent::model_loading;
            d.reason = std::string(k_loading_reason);
        } else {
            d.outcome = HealthOutcome::waiting;
        }
        // Fast polls at first (a tiny model is ready in 0.2 s), then once a second for long loads.
        d.next_poll = f.uptime < std::chrono::seconds(10) ? milliseconds(100) : milliseconds(1000);
        return d;
    }
    const bool suspect = f.state == EngineState::unhealthy && f.suspect;
    if (f.state != EngineState::ready && !suspect) return d; // ignored, and no further poll
    if (f.status == 200) {
        d.liveness_failures = 0;
        d.next_poll = f.liveness_interval;
        if (suspect) {
            d.outcome = HealthOutcome::alive_again;
            d.event = SupervisionEvent::answers_again;
        } else {
            d.outcome = HealthOutcome::alive;
        }
        return d;
    }
    d.liveness_failures = f.liveness_failures + 1;
    d.failure = answer_text(f.status, f.error);
    if (d.liveness_failures >= f.liveness_limit) {
        d.outcome = HealthOutcome::exhausted;
        d.event = SupervisionEvent::killed_for_restart;
        d.reason = fmt::format("{} health checks failed in a row ({})", d.liveness_failures, d.failure);
        return d;
    }
    d.outcome = HealthOutcome::failed_check;
    d.next_poll = f.liveness_interval;
    return d;
}

std::optional<std::string> readiness_timeout(EngineState state, SteadyDuration uptime, app::Duration ready_timeout)
{
    const bool readiness = state == EngineState::starting || state == EngineState::loading;
    if (!readiness || uptime <= ready_timeout) return std::nullopt;
    return fmt::format("not ready within ready_timeout {}", app::format_duration(ready_timeout));
}

// ---- smoke test --------------------------------------------------------------------------------

std::optional<std::string> smoke_kill_reason(const app::SmokeFigures& figures, EngineState state, bool process_running,
                                             app::Duration smoke_timeout)
{
    if (figures.ok || !process_running || state != EngineState::ready) return std::nullopt;
    return fmt::format("smoke test failed: {} (no tokens within smoke_timeout {})", figures.error,
                       app::format_duration(smoke_timeout));
}

std::optional<std::string> smoke_refused_reason(long http_status, EngineState state, bool process_running,
                                                std::string_view key_source)
{
    if ((http_status != 401 && http_status != 403) || !process_running || state != EngineState::ready)
        return std::nullopt;
    const std::string sent =
        key_source.empty() ? "halo-checkd sent none" : fmt::format("halo-checkd sent the one from {}", key_source);
    return fmt::format("the engine refused the smoke test with HTTP {}: the API key is missing or wrong ({}); set "
                       "[engine] api_key_file or pass --api-key-file in the command, then run 'halo-check restart'",
                       http_status, sent);
}

} // namespace halo::checkd
