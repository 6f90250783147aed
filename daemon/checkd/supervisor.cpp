#include "daemon/checkd/supervisor.hpp"

#include "common/clock.hpp"
#include "daemon/checkd/callback_guard.hpp"
#include "daemon/checkd/engine_checks.hpp"
#include "daemon/checkd/engine_process.hpp"
#include "daemon/environment.hpp"
#include "probes/engine_command.hpp"
#include "probes/host.hpp"
#include "probes/port_owner.hpp"
#include "rules/log_match.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace halo::checkd {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

constexpr std::size_t k_max_line = 4096;
constexpr std::size_t k_restart_records = 20;

std::string seconds_text(steady_clock::duration d)
{
    return fmt::format("{:.1f}s", std::chrono::duration<double>(d).count());
}

ExitInfo exit_info_of(const siginfo_t& info) noexcept
{
    return {info.si_code == CLD_EXITED, info.si_status, info.si_code == CLD_DUMPED};
}

void disarm(SdEventSource& source) noexcept
{
    if (source) sd_event_source_set_enabled(source.get(), SD_EVENT_OFF);
}

// A pidfd pins the process: a signal through it cannot reach a later process with the same pid.
int open_pidfd(pid_t pid) noexcept { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }
int signal_pidfd(int pidfd, int sig) noexcept
{
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

} // namespace

Supervisor::Supervisor(sd_event* event, HttpClient& http, LogSink& log, SupervisorEvents& events)
    : m_event(event), m_http(http), m_log(log), m_events(events)
{
    m_status.since = now_rfc3339(TimePrecision::milliseconds);
}

Supervisor::~Supervisor()
{
    cancel_checks();
    // The daemon is going away with the engine still running (an exception on the way out):
    // do not leave it behind. The normal path stops it first.
    signal_engine(m_pid, SIGKILL);
    signal_listener(SIGKILL);
}

void Supervisor::configure(const app::EngineConfig& config)
{
    if (!busy()) {
        m_config = config;
        m_next.reset();
        return;
    }
    m_config = keep_process(m_config, config);
    m_next = config;
}

ReconfigureAction Supervisor::reconfigure(const app::EngineConfig& config)
{
    const bool changes = changes_process(m_config, config);
    const bool command_changed = m_config.command != config.command;
    const ReconfigureAction action = decide_reconfigure(m_status.state, busy(), m_after_exit, changes);
    configure(config);
    if (action == ReconfigureAction::restart_to_apply) {
        // Which part, never the values: the command and environment may hold an API key.
        m_log.daemon(LOG_INFO, fmt::format("engine {}: the engine {} changed; {}", m_config.name,
                                           command_changed ? "command" : "environment", k_apply_command_reason));
        stop(std::string(k_apply_command_reason));
        m_after_exit = ExitPlan::restart_now;
    }
    return action;
}

void Supervisor::keep_command(const app::EngineConfig& config)
{
    configure(config);
    m_next.reset();
}

void Supervisor::set_log_patterns(std::vector<rules::LogPattern> patterns, rules::Facts facts)
{
    m_patterns = std::move(patterns); // match_log_line keeps to those for engine lines
    m_facts = std::move(facts);
    m_line_facts = facts_for_engine_lines(m_facts, m_config.command);
}

void Supervisor::set_last_good_smoke(std::optional<app::SmokeFigures> figures)
{
    m_status.smoke_good = std::move(figures);
}

void Supervisor::apply(SupervisionEvent event, std::string reason)
{
    const std::optional<app::EngineState> next = next_state(m_status.state, event);
    if (!next) {
        throw std::logic_error(fmt::format("{} is no transition from {}", to_string(event), to_string(m_status.state)));
    }
    const bool same = *next == m_status.state && reason == m_status.reason;
    m_status.state = *next;
    m_status.reason = std::move(reason);
    m_status.pid = m_pid;
    if (!same) m_status.since = now_rfc3339(TimePrecision::milliseconds);
    publish();
}

void Supervisor::publish() { m_events.engine_changed(m_status); }

steady_clock::duration Supervisor::uptime() const { return steady_clock::now() - m_started; }

void Supervisor::arm_timer(SdEventSource& source, microseconds after, sd_event_time_handler_t handler)
{
    uint64_t now = 0;
    sd_event_now(m_event, CLOCK_MONOTONIC, &now);
    const uint64_t when = now + static_cast<uint64_t>(after.count());
    if (source) {
        sd_event_source_set_time(source.get(), when);
        sd_event_source_set_enabled(source.get(), SD_EVENT_ONESHOT);
        return;
    }
    sd_event_source* s = nullptr;
    // 1 ms accuracy lets the kernel batch our wakeups with others.
    const int r = sd_event_add_time(m_event, &s, CLOCK_MONOTONIC, when, 1000, handler, this);
    if (r < 0) {
        m_log.daemon(LOG_ERR, fmt::format("engine {}: Failed to add a timer to the event loop: {}; it will not be "
                                          "checked or restarted on time",
                                          m_config.name, std::strerror(-r)));
        return;
    }
    source.reset(s);
}

// ---- commands --------------------------------------------------------------------------------

void Supervisor::start(const std::string& why)
{
    m_restart_times.clear();
    disarm(m_backoff_timer);
    switch (decide_start(m_status.state, busy())) {
    case StartAction::launch:
        m_log.daemon(LOG_INFO, fmt::format("starting engine {}: {}", m_config.name, why));
        launch();
        return;
    case StartAction::restart_after_stop:
        m_after_exit = ExitPlan::restart_now;
        m_after_reason = why;
        return;
    case StartAction::none: return;
    }
}

void Supervisor::stop(const std::string& why, std::function<void()> then)
{
    disarm(m_backoff_timer);
    const StopAction action = decide_stop(m_status.state, busy());
    if (action == StopAction::stopped_idle) {
        apply(SupervisionEvent::stopped_idle, why);
        if (then) then();
        return;
    }
    m_after_exit = ExitPlan::stop;
    m_after_reason = why;
    m_then = std::move(then);
    cancel_checks();
    if (action == StopAction::begin_stopping) {
        m_log.daemon(LOG_INFO, fmt::format("stopping engine {} (pid {}): {}", m_config.name, m_pid, why));
        terminate_engine();
        apply(SupervisionEvent::stop_requested, why);
    }
}

void Supervisor::restart(const std::string& why)
{
    m_restart_times.clear();
    if (!busy()) {
        start(why);
        return;
    }
    stop(why);
    m_after_exit = ExitPlan::restart_now;
}

bool Supervisor::refuse(const std::string& reason)
{
    if (m_pid > 0) return false;
    if (m_leftover_pid > 0) {
        // The launch waiting for the leftover to go must not happen: refused once it is gone.
        m_after_exit = ExitPlan::stop;
        m_after_reason = reason;
        m_then = [this, reason] { refuse(reason); };
        return true;
    }
    disarm(m_backoff_timer);
    apply(SupervisionEvent::refused, reason);
    return true;
}

bool Supervisor::mark_unhealthy(const std::string& reason)
{
    if (!may_mark_unhealthy(m_status.state, process_running())) return false;
    m_log.daemon(LOG_WARNING,
                 fmt::format("engine {} marked unhealthy: {}; checking its health now", m_config.name, reason));
    m_suspect = true;
    apply(SupervisionEvent::marked_unhealthy, reason);
    poll_health();
    return true;
}

void Supervisor::set_api_checks(bool enabled, std::string model, std::chrono::milliseconds cache_interval)
{
    m_api_wanted = enabled;
    m_api_model = std::move(model);
    m_cache_interval = cache_interval;
    if (!m_api_wanted || m_cache_interval.count() <= 0) disarm(m_cache_timer);
}

bool Supervisor::smoke(std::string& why_not)
{
    if (auto refusal = smoke_refusal(m_status.state, m_smoke_request.has_value())) {
        why_not = std::move(*refusal);
        return false;
    }
    run_smoke();
    return true;
}

// ---- launching -------------------------------------------------------------------------------

void Supervisor::launch()
{
    if (m_next) m_config = std::move(*std::exchange(m_next, std::nullopt));
    m_line_facts = facts_for_engine_lines(m_facts, m_config.command);
    if (m_config.command.empty()) {
        apply(SupervisionEvent::not_launched, std::string(k_no_command_reason));
        return;
    }
    if (stop_leftover()) return;
    const std::vector<std::string> environment = engine_environment(environ, m_config.env);
    std::optional<std::string> key_file = m_config.api_key_file;
    if (key_file && key_file->starts_with("~/")) key_file = app::env_value("HOME").value_or("") + key_file->substr(1);
    m_keys = find_api_keys(m_config.command, key_file, environment, &read_key_file);
    for (const std::string& problem : m_keys.problems) {
        m_log.daemon(LOG_WARNING, fmt::format("engine {}: {}", m_config.name, problem));
    }
    auto spawned = spawn_engine(m_config.command, environment);
    if (!spawned) {
        schedule_restart(spawned.error().message);
        return;
    }
    const pid_t pid = spawned->pid;
    m_pid = pid;
    m_started = steady_clock::now();
    m_exec_errno = spawned->exec_errno;
    m_program = m_config.command.front();
    m_wrapped.clear();
    if (auto command = probes::parse_engine_command(m_config.command); command && command->binary != m_program) {
        m_wrapped = command->binary;
    }
    m_run_match.reset();
    m_suspect = false;
    m_after_exit = ExitPlan::classify;
    m_status.liveness_failures = 0;
    m_partial.clear();

    sd_event_source* child = nullptr;
    const int r = sd_event_add_child(m_event, &child, pid, WEXITED, &Supervisor::on_child, this);
    if (r < 0) {
        // Without a child source we cannot supervise it; do not leave it unsupervised.
        signal_engine(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        m_pid = 0;
        apply(SupervisionEvent::not_launched, fmt::format("Failed to watch the engine process: {}", std::strerror(-r)));
        return;
    }
    m_child.reset(child);
    Fd output = std::move(spawned->output);
    ::fcntl(output.get(), F_SETFL, O_NONBLOCK);
    sd_event_source* out = nullptr;
    if (sd_event_add_io(m_event, &out, output.get(), EPOLLIN, &Supervisor::on_output, this) >= 0) {
        m_output_source.reset(out);
    }
    m_output = std::move(output);
    m_log.open_engine_stream(m_config.name);
    m_log.daemon(LOG_INFO, fmt::format("engine {} launched as pid {}", m_config.name, pid),
                 {{"HALO_ENGINE_PID", std::to_string(pid)}});
    apply(SupervisionEvent::launched, waiting_reason(m_config.health_url));
    arm_timer(m_health_timer, milliseconds(100), &Supervisor::on_health_timer);
}

bool Supervisor::stop_leftover()
{
    const int port = app::endpoint_from_command(m_config.command).port;
    auto listeners = probes::port_listeners(probes::Host("/"), port);
    if (!listeners) {
        m_log.daemon(LOG_WARNING,
                     fmt::format("engine {}: could not look for a leftover engine on port {}: {}; launching "
                                 "it all the same",
                                 m_config.name, port, listeners.error().message));
        return false;
    }
    for (const probes::PortListener& l : *listeners) {
        if (!is_leftover_engine(l, m_config.command, ::getpid())) continue;
        Fd pidfd(open_pidfd(l.pid));
        if (pidfd.get() < 0) continue; // gone since the look-up
        // The pid may have been reused between the look-up and the pidfd: ask again, now pinned.
        auto again = probes::port_listeners(probes::Host("/"), port);
        const bool same = again && std::any_of(again->begin(), again->end(), [&](const probes::PortListener& a) {
                              return a.pid == l.pid && a.argv == l.argv;
                          });
        if (!same) continue;
        if (signal_pidfd(pidfd.get(), SIGTERM) < 0) {
            m_log.daemon(LOG_WARNING,
                         fmt::format("engine {}: Failed to stop the leftover engine on port {} ({}): {}; "
                                     "launching it all the same",
                                     m_config.name, port, probes::describe_listener(l), std::strerror(errno)));
            continue;
        }
        sd_event_source* source = nullptr;
        const int r = sd_event_add_io(m_event, &source, pidfd.get(), EPOLLIN, &Supervisor::on_leftover_exit, this);
        if (r < 0) {
            // It has SIGTERM; without a way to see it go, launching now is the best left.
            m_log.daemon(LOG_WARNING, fmt::format("engine {}: Failed to watch the leftover engine (pid {}): {}; "
                                                  "launching without waiting for it",
                                                  m_config.name, l.pid, std::strerror(-r)));
            return false;
        }
        m_leftover_source.reset(source);
        m_leftover_fd = std::move(pidfd);
        m_leftover_pid = l.pid;
        m_after_exit = ExitPlan::restart_now;
        m_after_reason = leftover_reason(l.pid);
        m_log.daemon(
            LOG_WARNING,
            fmt::format("engine {}: port {} is held by {} running the engine's command, a leftover engine from "
                        "an earlier run; stopping it (SIGTERM, SIGKILL after {})",
                        m_config.name, port, probes::describe_listener(l), app::format_duration(m_config.stop_timeout)),
            {{"HALO_ENGINE_PID", std::to_string(l.pid)}});
        arm_timer(m_kill_timer, duration_cast<microseconds>(m_config.stop_timeout), &Supervisor::on_kill_timer);
        apply(SupervisionEvent::stopping_leftover, leftover_reason(l.pid));
        return true;
    }
    return false;
}

int Supervisor::on_leftover_exit(sd_event_source*, int, uint32_t, void* userdata) noexcept
{
    auto* self = static_cast<Supervisor*>(userdata);
    return guard_callback(
        "supervisor.on_leftover_exit", 0, [self] { self->leftover_gone(); },
        [self](std::string_view what) { self->fail_internally("on_leftover_exit", what); });
}

void Supervisor::leftover_gone()
{
    const pid_t pid = std::exchange(m_leftover_pid, 0);
    m_leftover_source.reset();
    m_leftover_fd.reset();
    disarm(m_kill_timer);
    m_log.daemon(LOG_INFO,
                 fmt::format("engine {}: stopped a leftover engine, pid {}, from an earlier run", m_config.name, pid),
                 {{"HALO_ENGINE_PID", std::to_string(pid)}});
    if (std::exchange(m_after_exit, ExitPlan::classify) == ExitPlan::stop) {
        apply(SupervisionEvent::exited_as_planned, m_after_reason);
        if (auto then = std::exchange(m_then, nullptr)) then();
        return;
    }
    launch();
}

// ---- stopping and restarting -----------------------------------------------------------------

void Supervisor::kill_for_restart(const std::string& reason)
{
    m_suspect = false;
    m_log.daemon(LOG_WARNING, fmt::format("engine {} unhealthy: {}; restarting it", m_config.name, reason));
    cancel_checks();
    m_after_exit = ExitPlan::restart_backoff;
    m_after_reason = reason;
    apply(SupervisionEvent::killed_for_restart, reason);
    terminate_engine();
}

void Supervisor::kill_for_good(const std::string& reason)
{
    m_suspect = false;
    m_log.daemon(LOG_ERR, fmt::format("engine {}: {}; stopping it", m_config.name, reason));
    cancel_checks();
    m_after_exit = ExitPlan::fail;
    m_after_reason = reason;
    apply(SupervisionEvent::killed_for_good, reason);
    terminate_engine();
}

// SIGTERM to the launched group and to the engine a container launcher runs (its own session,
// out of the group's reach); SIGKILL to both after stop_timeout.
void Supervisor::terminate_engine()
{
    signal_engine(m_pid, SIGTERM);
    signal_listener(SIGTERM);
    arm_timer(m_kill_timer, duration_cast<microseconds>(m_config.stop_timeout), &Supervisor::on_kill_timer);
}

int Supervisor::on_kill_timer(sd_event_source*, uint64_t, void* userdata) noexcept
{
    auto* self = static_cast<Supervisor*>(userdata);
    return guard_callback(
        "supervisor.on_kill_timer", 0,
        [self] {
            if (self->m_leftover_pid > 0) {
                self->m_log.daemon(LOG_WARNING,
                                   fmt::format("engine {}: the leftover engine (pid {}) did not stop within {} of "
                                               "SIGTERM; sending SIGKILL",
                                               self->m_config.name, self->m_leftover_pid,
                                               app::format_duration(self->m_config.stop_timeout)));
                signal_pidfd(self->m_leftover_fd.get(), SIGKILL);
                return 0;
            }
            if (self->m_pid <= 0) return 0;
            self->m_log.daemon(LOG_WARNING,
                               fmt::format("engine {} (pid {}) did not stop within {} of SIGTERM; sending SIGKILL",
                                           self->m_config.name, self->m_pid,
                                           app::format_duration(self->m_config.stop_timeout)));
            signal_engine(self->m_pid, SIGKILL);
            self->signal_listener(SIGKILL);
            return 0;
        },
        // Only the log line failed: the kill is due all the same, and its exit moves the state on.
        [self] {
            if (self->m_leftover_fd) signal_pidfd(self->m_leftover_fd.get(), SIGKILL);
            signal_engine(self->m_pid, SIGKILL);
            self->signal_listener(SIGKILL);
        });
}

void Supervisor::schedule_restart(const std::string& why)
{
    RestartDecision d = decide_restart(std::move(m_restart_times), steady_clock::now(), m_config.restart, why);
    m_restart_times = std::move(d.history);
    if (d.event == SupervisionEvent::restarts_exhausted) {
        apply(d.event, std::move(d.reason));
        m_log.daemon(LOG_ERR, fmt::format("engine {}: {}", m_config.name, m_status.reason));
        return;
    }
    m_status.restarts.push_back({now_rfc3339(TimePrecision::milliseconds), why});
    ++m_status.restarts_total;
    if (m_status.restarts.size() > k_restart_records) m_status.restarts.erase(m_status.restarts.begin());
    apply(d.event, std::move(d.reason));
    arm_timer(m_backoff_timer, duration_cast<microseconds>(d.delay), &Supervisor::on_backoff_timer);
}

int Supervisor::on_backoff_timer(sd_event_source*, uint64_t, void* userdata) noexcept
{
    auto* self = static_cast<Supervisor*>(userdata);
    return guard_callback(
        "supervisor.on_backoff_timer", 0,
        [self] {
            if (self->busy() || self->m_status.state != app::EngineState::backoff) return 0;
            self->m_log.daemon(LOG_INFO, fmt::format("restarting engine {}", self->m_config.name));
            self->launch();
            return 0;
        },
        [self](std::string_view what) { self->fail_internally("on_backoff_timer", what); });
}

// ---- exit ------------------------------------------------------------------------------------

int Supervisor::on_child(sd_event_source* s, const siginfo_t* si, void* userdata) noexcept
{
    auto* self = static_cast<Supervisor*>(userdata);
    return guard_callback(
        "supervisor.on_child", 0, [&] { self->child_exited(s, *si); },
        [&](std::string_view what) {
            // This child is gone (the loop reaps it); one that on_exit launched in its place is not.
            if (self->m_child.get() == s) self->m_child.reset();
            self->fail_internally("on_child", what);
        });
}

void Supervisor::child_exited(sd_event_source* source, const siginfo_t& info)
{
    if (source == m_child.get() && m_pid > 0) {
        on_exit(info);
        return;
    }
    // An engine fail_internally() killed: the loop reaps it once this returns.
    if (source == m_child.get()) m_child.reset();
    std::erase_if(m_orphans, [source](const SdEventSource& o) { return o.get() == source; });
}

void Supervisor::on_exit(const siginfo_t& info)
{
    if (!m_deferred_exit && await_listener()) {
        m_deferred_exit = info; // on_listener_exit comes back here
        return;
    }
    forget_listener();
    const pid_t pid = m_pid;
    read_output(true); // the last lines often say why
    close_output();
    m_child.reset();
    cancel_checks();
    disarm(m_kill_timer);
    // Whatever the engine left in its group (helpers, a toolbox's podman) goes with it.
    signal_engine(pid, SIGKILL);
    m_pid = 0;
    const auto ran = uptime();

    const ExitInfo exit_info = exit_through_launcher(exit_info_of(info), launches_in_container(m_config.command));
    const std::string exit = describe_exit(exit_info, ran);
    m_log.daemon(exit_info.exited && exit_info.status == 0 ? LOG_INFO : LOG_WARNING,
                 fmt::format("engine {} (pid {}) {}", m_config.name, pid, exit),
                 {{"HALO_ENGINE_EXIT", exit}, {"HALO_ENGINE_PID", std::to_string(pid)}});

    if (m_run_match && m_run_match->pattern_id == k_port_in_use_pattern) {
        // Who holds the port now, while it still does: the engine's own line cannot say.
        const int port = app::endpoint_from_command(m_config.command).port;
        if (auto holders = probes::port_listeners(probes::Host("/"), port)) {
            m_run_match->title = port_in_use_title(std::move(m_run_match->title), *holders);
        }
    }
    if (auto crash = crash_to_record(exit_info, m_run_match, exit, now_rfc3339(TimePrecision::milliseconds))) {
        m_status.last_crash = std::move(crash);
        const app::CrashReason& c = *m_status.last_crash;
        if (!c.pattern_id.empty()) {
            m_log.daemon(
                LOG_ERR,
                fmt::format("engine {} crashed: {} ({}); fix: {}", m_config.name, c.title, c.pattern_id, c.fix),
                {{"HALO_LOG_PATTERN", c.pattern_id}});
        }
    }

    ExitFacts facts;
    facts.info = exit_info;
    facts.plan = std::exchange(m_after_exit, ExitPlan::classify);
    facts.planned_reason = m_after_reason;
    facts.ran = ran;
    facts.early_exit = m_config.early_exit;
    if (m_run_match) {
        facts.crash_pattern = m_run_match->pattern_id;
        facts.cause = m_run_match->title;
    }
    if (!m_status.output.empty()) facts.last_output = m_status.output.back();
    facts.exec_errno = m_exec_errno;
    facts.program = m_program;
    facts.wrapped = m_wrapped;
    ExitDecision d = decide_exit(facts);
    switch (d.action) {
    case ExitAction::stop:
        apply(SupervisionEvent::exited_as_planned, std::move(d.reason));
        if (auto then = std::exchange(m_then, nullptr)) then();
        return;
    case ExitAction::relaunch:
        m_log.daemon(LOG_INFO, fmt::format("launching engine {} again: {}", m_config.name, d.reason));
        launch();
        return;
    case ExitAction::restart_later: schedule_restart(d.reason); return;
    case ExitAction::fail: apply(SupervisionEvent::exited_for_good, std::move(d.reason)); return;
    case ExitAction::fail_as_planned: apply(SupervisionEvent::stopped_for_good, std::move(d.reason)); return;
    }
}

void Supervisor::fail_internally(std::string_view where, std::string_view what)
{
    // What cannot fail comes first: whatever else goes wrong, the engine and its group are gone
    // and nothing stays armed to fire into a half-done transition.
    cancel_checks();
    disarm(m_kill_timer);
    disarm(m_backoff_timer);
    close_output();
    signal_engine(m_pid, SIGKILL);
    m_pid = 0;
    if (m_leftover_fd) signal_pidfd(m_leftover_fd.get(), SIGKILL); // we had decided it goes
    signal_listener(SIGKILL);
    forget_listener();
    m_deferred_exit.reset();
    m_leftover_source.reset();
    m_leftover_fd.reset();
    m_leftover_pid = 0;
    m_after_exit = ExitPlan::classify;
    m_suspect = false;
    m_partial.clear();
    auto then = std::exchange(m_then, nullptr);
    if (m_child) m_orphans.push_back(std::move(m_child));
    apply(SupervisionEvent::internal_error, internal_error_reason(where, what));
    // A stop waited for the engine to go; it has.
    if (then) then();
}

// ---- output ----------------------------------------------------------------------------------

int Supervisor::on_output(sd_event_source*, int, uint32_t, void* userdata) noexcept
{
    auto* self = static_cast<Supervisor*>(userdata);
    return guard_callback(
        "supervisor.on_output", 0, [self] { self->read_output(false); },
        // The engine itself is fine; only the line being read is lost, the next one starts clean.
        [self] { self->m_partial.clear(); });
}

void Supervisor::read_output(bool drain_only)
{
    if (!m_output) return;
    char buffer[8192];
    // Bounded per wakeup so a chatty engine cannot starve the loop (the watchdog among others).
    for (int round = 0; round < 16; ++round) {
        const ssize_t n = ::read(m_output.get(), buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (n == 0 && !drain_only) {
                // EOF: everything holding the pipe is gone.
                if (!m_partial.empty()) handle_line(std::exchange(m_partial, {}));
                close_output();
            }
            return;
        }
        m_partial.append(buffer, static_cast<std::size_t>(n));
        std::size_t start = 0;
        for (std::size_t nl; (nl = m_partial.find('\n', start)) != std::string::npos; start = nl + 1) {
            handle_line(m_partial.substr(start, nl - start));
        }
        m_partial.erase(0, start);
        while (m_partial.size() > k_max_line) {
            handle_line(m_partial.substr(0, k_max_line));
            m_partial.erase(0, k_max_line);
        }
    }
    if (drain_only && !m_partial.empty()) handle_line(std::exchange(m_partial, {}));
}

void Supervisor::close_output()
{
    m_output_source.reset();
    m_output.reset();
}

void Supervisor::handle_line(std::string raw)
{
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    // Before anything keeps or shows it: the journal, the ring, the state file, a crash record.
    const std::string line = redact(raw, m_keys.secrets);
    m_log.engine_line(line);
    if (!m_run_match) {
        auto m = rules::explain_log_line(m_patterns, rules::LogSource::engine, line, m_line_facts);
        // An info line (llama-server re-reading a prompt) is no crash cause, and taking it would
        // hide the line that names the real one.
        if (m && m->pattern->severity != rules::Severity::info) {
            const rules::LogPattern& p = *m->pattern;
            m_run_match = app::CrashReason{{},
                                           p.id,
                                           m->title,
                                           std::string(rules::to_string(p.severity)),
                                           p.fix,
                                           line,
                                           now_rfc3339(TimePrecision::milliseconds)};
            m_log.daemon(LOG_WARNING,
                         fmt::format("engine {} printed a known crash line: {} ({})", m_config.name, m->title, p.id),
                         {{"HALO_LOG_PATTERN", p.id}});
        }
    }
    m_status.output.push_back(line);
    if (m_status.output.size() > k_output_lines) m_status.output.pop_front();
    m_events.engine_line(m_status.output.back());
}

// ---- health ----------------------------------------------------------------------------------

void Supervisor::cancel_checks()
{
    if (m_health_request) m_http.cancel(*m_health_request);
    if (m_smoke_request) m_http.cancel(*m_smoke_request);
    if (m_slots_request) m_http.cancel(*m_slots_request);
    m_health_request.reset();
    m_smoke_request.reset();
    m_slots_request.reset();
    m_api_run.reset(); // cancels its request; no results from an engine that is going
    m_api_due = false;
    disarm(m_cache_timer);
    disarm(m_health_timer);
    disarm(m_idle_smoke_timer);
}

int Supervisor::on_health_timer(sd_event_source*, uint64_t, void* userdata) noexcept
{
    auto* self = static_cast<Supervisor*>(userdata);
    return guard_callback(
        "supervisor.on_health_timer", 0, [self] { self->poll_health(); },
        [self](std::string_view what) { self->fail_internally("on_health_timer", what); });
}

void Supervisor::poll_health()
{
    if (m_pid <= 0 || m_health_request) return;
    if (auto reason = readiness_timeout(m_status.state, uptime(), m_config.ready_timeout)) {
        kill_for_restart(*reason);
        return;
    }
    auto id = request_health(m_http, m_config, m_status.state, [this](const HttpResponse& r) {
        (void)guard_callback(
            "supervisor.on_health", 0, [&] { on_health(r); },
            [&](std::string_view what) { fail_internally("on_health", what); });
    });
    if (id) {
        m_health_request = *id;
        return;
    }
    m_log.daemon(LOG_WARNING,
                 fmt::format("engine {}: {}; checking its health again in 1s", m_config.name, id.error().message));
    arm_timer(m_health_timer, microseconds(1'000'000), &Supervisor::on_health_timer);
}

void Supervisor::on_health(const HttpResponse& r)
{
    m_health_request.reset();
    if (m_pid <= 0) return;
    HealthFacts facts;
    facts.state = m_status.state;
    facts.suspect = m_suspect;
    facts.status = r.status;
    facts.error = r.error;
    facts.liveness_failures = m_status.liveness_failures;
    facts.liveness_limit = m_config.liveness_failures;
    facts.uptime = uptime();
    facts.liveness_interval = m_config.liveness_interval;
    HealthDecision d = decide_health(facts);
    if (d.outcome == HealthOutcome::ignored) return;

    const int failures_before = m_status.liveness_failures;
    m_status.liveness_failures = d.liveness_failures;
    switch (d.outcome) {
    case HealthOutcome::ready:
        m_log.daemon(LOG_INFO, fmt::format("engine {} ready after {}", m_config.name, seconds_text(facts.uptime)));
        record_listener();
        break;
    case HealthOutcome::alive_again:
        m_suspect = false;
        m_log.daemon(LOG_INFO, fmt::format("engine {} answers its health check again; keeping it", m_config.name));
        break;
    case HealthOutcome::failed_check:
    case HealthOutcome::exhausted:
        m_log.daemon(LOG_WARNING, fmt::format("engine {} liveness check {} of {} failed: {}", m_config.name,
                                              d.liveness_failures, m_config.liveness_failures, d.failure));
        break;
    default: break;
    }
    if (d.outcome == HealthOutcome::exhausted) {
        kill_for_restart(d.reason);
        return;
    }
    if (d.event) apply(*d.event, std::move(d.reason));
    else if (d.liveness_failures != failures_before) publish();
    if (d.outcome == HealthOutcome::ready) {
        // The API checks wait for the smoke test, so neither's timing includes the other.
        m_api_due = true;
        run_smoke();
    }
    if (d.next_poll) arm_timer(m_health_timer, duration_cast<microseconds>(*d.next_poll), &Supervisor::on_health_timer);
}

// ---- smoke test ------------------------------------------------------------------------------

void Supervisor::run_smoke()
{
    auto id = request_smoke(m_http, m_config, m_keys.send, [this](const HttpResponse& r) {
        (void)guard_callback(
            "supervisor.on_smoke", 0, [&] { on_smoke(r); },
            [&](std::string_view what) { fail_internally("on_smoke", what); });
    });
    if (id) m_smoke_request = *id;
    else m_log.daemon(LOG_WARNING, fmt::format("engine {}: smoke test not run: {}", m_config.name, id.error().message));
}

void Supervisor::arm_idle_smoke()
{
    if (m_config.idle_smoke_interval.count() <= 0 || m_status.state != app::EngineState::ready) return;
    arm_timer(m_idle_smoke_timer, duration_cast<microseconds>(m_config.idle_smoke_interval),
              &Supervisor::on_idle_smoke_timer);
}

int Supervisor::on_idle_smoke_timer(sd_event_source*, uint64_t, void* userdata) noexcept
{
    auto* self = static_cast<Supervisor*>(userdata);
    return guard_callback(
        "supervisor.on_idle_smoke_timer", 0, [self] { self->idle_smoke_due(); },
        [self](std::string_view what) { self->fail_internally("on_idle_smoke_timer", what); });
}

void Supervisor::idle_smoke_due()
{
    if (m_status.state != app::EngineState::ready || m_smoke_request || m_slots_request || m_api_run)
        return arm_idle_smoke();
    auto id = m_http.request(m_config.base_url + "/slots", {}, smoke_request_headers(m_keys.send),
                             std::chrono::milliseconds(5000), [this](const HttpResponse& r) {
                                 (void)guard_callback(
                                     "supervisor.on_slots", 0, [&] { on_slots(r); },
                                     [&](std::string_view what) { fail_internally("on_slots", what); });
                             });
    if (id) m_slots_request = *id;
    else arm_idle_smoke();
}

void Supervisor::on_slots(const HttpResponse& r)
{
    m_slots_request.reset();
    if (m_status.state != app::EngineState::ready) return;
    // Busy, or no answer saying it is not: the smoke test would slow a user's request (or be
    // slowed by it) and measure nothing true. Try again after the next interval.
    if (r.status != 200 || !slots_idle(r.body)) {
        m_log.daemon(LOG_DEBUG, fmt::format("engine {}: periodic smoke test skipped: {}", m_config.name,
                                            r.status == 200 ? "a slot is processing a request"
                                                            : "/slots did not say the engine is idle"));
        return arm_idle_smoke();
    }
    run_smoke();
}

void Supervisor::on_smoke(const HttpResponse& r)
{
    m_smoke_request.reset();
    arm_idle_smoke();
    app::SmokeFigures f = smoke_figures_from_answer(r.status, r.body, r.elapsed, r.error);
    f.at = now_rfc3339(TimePrecision::milliseconds);
    m_status.smoke = f;
    if (f.ok) {
        m_status.smoke_good = f;
        m_log.daemon(
            LOG_INFO,
            fmt::format("engine {} smoke test: {} tokens in {:.1f} ms, prompt {:.1f} t/s, generation {:.1f} t/s",
                        m_config.name, f.completion_tokens, f.latency_ms, f.prompt_per_second, f.predicted_per_second),
            {{"HALO_SMOKE_LATENCY_MS", fmt::format("{:.1f}", f.latency_ms)},
             {"HALO_SMOKE_PREDICTED_PER_SECOND", fmt::format("{:.2f}", f.predicted_per_second)}});
        publish();
        run_api_checks();
        return;
    }
    if (auto refused = smoke_refused_reason(r.status, m_status.state, process_running(), m_keys.source)) {
        kill_for_good(*refused);
    } else if (auto reason = smoke_kill_reason(f, m_status.state, process_running(), m_config.smoke_timeout)) {
        kill_for_restart(*reason);
    } else {
        publish();
        run_api_checks();
    }
}

// ---- engine API checks ------------------------------------------------------------------------

void Supervisor::run_api_checks()
{
    if (!m_api_due || m_status.state != app::EngineState::ready) return;
    m_api_due = false;
    if (!m_api_wanted || m_api_run) return;
    ApiRunTarget target{m_config.base_url, m_api_model, m_keys.send, m_config.smoke_timeout};
    m_api_run = std::make_unique<ApiCheckRun>(m_http, std::move(target), [this](app::ApiResults results) {
        // A throw stops here: the run that calls back is gone by then. The engine serves on;
        // the next ready runs the checks again.
        guard_callback("supervisor.on_api_checks", 0, [&] { on_api_checks(std::move(results)); });
    });
    m_api_run->start();
}

void Supervisor::on_api_checks(app::ApiResults results)
{
    // Destroyed after this returns: the run touches nothing once it has called back.
    auto finished = std::move(m_api_run);
    results.at = now_rfc3339(TimePrecision::milliseconds);
    results = app::merge_api_run(m_status.api ? &*m_status.api : nullptr, std::move(results));
    arm_cache_check();
    const std::string line = app::api_status_line(results);
    m_status.api = std::move(results);
    m_log.daemon(LOG_INFO, fmt::format("engine {} API checks: {}", m_config.name, line), {{"HALO_API_CHECKS", line}});
    publish();
}

void Supervisor::arm_cache_check()
{
    if (!m_api_wanted || m_cache_interval.count() <= 0 || m_status.state != app::EngineState::ready) return;
    arm_timer(m_cache_timer, duration_cast<microseconds>(m_cache_interval), &Supervisor::on_cache_timer);
}

int Supervisor::on_cache_timer(sd_event_source*, uint64_t, void* userdata) noexcept
{
    auto* self = static_cast<Supervisor*>(userdata);
    // A throw leaves the engine alone: the next run of the checks arms the timer again.
    return guard_callback("supervisor.on_cache_timer", 0, [self] { self->cache_check_due(); });
}

void Supervisor::cache_check_due()
{
    if (m_status.state != app::EngineState::ready || !m_api_wanted) return;
    // Another run or a smoke test under way: try again after another interval.
    if (m_api_run || m_smoke_request) return arm_cache_check();
    // Prompt-sized: 8K tokens at a 30B model's ~130 t/s is a minute; a short smoke_timeout would cut it.
    const auto timeout = std::max<std::chrono::milliseconds>(m_config.smoke_timeout, std::chrono::minutes(5));
    ApiRunTarget target{m_config.base_url, m_api_model, m_keys.send, timeout, true};
    m_api_run = std::make_unique<ApiCheckRun>(m_http, std::move(target), [this](app::ApiResults results) {
        guard_callback("supervisor.on_api_checks", 0, [&] { on_api_checks(std::move(results)); });
    });
    m_api_run->start();
}

} // namespace halo::checkd
