#include "daemon/checkd/supervisor.hpp"

#include "common/clock.hpp"
#include "rules/log_match.hpp"

#include "rules/condition.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

extern char** environ;

namespace halo::checkd {

using std::chrono::duration_cast;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::steady_clock;


namespace {

constexpr std::size_t k_max_line = 4096;
constexpr std::size_t k_restart_records = 20;

std::string signal_name(int sig)
{
    const char* abbrev = sigabbrev_np(sig);
    return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

bool is_crash_signal(int sig)
{
    return sig == SIGABRT || sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE || sig == SIGTRAP;
}

std::string seconds_text(steady_clock::duration d)
{
    return fmt::format("{:.1f}s", std::chrono::duration<double>(d).count());
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
    if (m_pid > 0) {
        ::kill(-m_pid, SIGKILL);
        ::kill(m_pid, SIGKILL);
    }
}

void Supervisor::configure(const app::EngineConfig& config) { m_config = config; }

void Supervisor::set_log_patterns(std::vector<rules::LogPattern> patterns, rules::Facts facts)
{
    m_patterns = std::move(patterns); // match_log_line keeps to those for engine lines
    m_facts = std::move(facts);
}

void Supervisor::set_last_good_smoke(std::optional<app::SmokeFigures> figures) { m_status.smoke_good = std::move(figures); }

void Supervisor::set_state(app::EngineState state, std::string reason)
{
    const bool same = state == m_status.state && reason == m_status.reason;
    m_status.state = state;
    m_status.reason = std::move(reason);
    m_status.pid = m_pid;
    if (!same) m_status.since = now_rfc3339(TimePrecision::milliseconds);
    m_events.engine_changed(m_status);
}

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
    if (sd_event_add_time(m_event, &s, CLOCK_MONOTONIC, when, 1000, handler, this) >= 0) source.reset(s);
}

// ---- launching -------------------------------------------------------------------------------

void Supervisor::start(const std::string& why)
{
    m_restart_times.clear();
    if (m_backoff_timer) sd_event_source_set_enabled(m_backoff_timer.get(), SD_EVENT_OFF);
    if (m_pid > 0) {
        // Already running (or stopping): a start during a stop becomes a restart.
        if (m_status.state == app::EngineState::stopping) {
            m_after_exit = AfterExit::restart_now;
            m_after_reason = why;
        }
        return;
    }
    m_log.daemon(LOG_INFO, fmt::format("starting engine {}: {}", m_config.name, why));
    launch();
}

void Supervisor::launch()
{
    if (m_config.command.empty()) {
        set_state(app::EngineState::failed, "no engine command configured");
        return;
    }
    // Everything the child needs is built before fork: after it only async-signal-safe calls.
    std::vector<std::string> env_strings;
    for (char** e = environ; e && *e; ++e) {
        const std::string_view entry(*e);
        const std::string name(entry.substr(0, entry.find('=')));
        // The engine must not talk to our systemd: the notify socket and watchdog are ours.
        if (name == "NOTIFY_SOCKET" || name == "WATCHDOG_USEC" || name == "WATCHDOG_PID" || name == "LISTEN_FDS" ||
            name == "LISTEN_PID" || m_config.env.count(name) != 0) {
            continue;
        }
        env_strings.emplace_back(entry);
    }
    for (const auto& [k, v] : m_config.env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = m_config.command;
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    int pipefd[2];
    if (::pipe2(pipefd, O_CLOEXEC) < 0) {
        schedule_restart(fmt::format("Failed to create a pipe for the engine's output: {}", std::strerror(errno)));
        return;
    }
    Fd read_end(pipefd[0]);
    Fd write_end(pipefd[1]);
    const int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        if (devnull >= 0) ::close(devnull);
        schedule_restart(fmt::format("Failed to fork the engine: {}", std::strerror(errno)));
        return;
    }
    if (pid == 0) {
        ::setpgid(0, 0);
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        // The daemon may have died between fork and prctl: then nobody would ever stop us.
        if (::getppid() != parent) ::_exit(1);
        sigset_t none;
        sigemptyset(&none);
        ::sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD}) ::signal(sig, SIG_DFL);
        if (devnull >= 0) ::dup2(devnull, STDIN_FILENO);
        ::dup2(write_end.get(), STDOUT_FILENO);
        ::dup2(write_end.get(), STDERR_FILENO);
        ::execvpe(argv[0], argv.data(), envp.data());
        const int err = errno;
        const char* what = "halo-checkd: failed to execute the engine command: ";
        (void)!::write(STDERR_FILENO, what, std::strlen(what));
        const char* reason = strerror(err);
        (void)!::write(STDERR_FILENO, reason, std::strlen(reason));
        (void)!::write(STDERR_FILENO, "\n", 1);
        ::_exit(err == ENOENT ? 127 : 126);
    }
    if (devnull >= 0) ::close(devnull);
    // Both sides set the group: whichever runs first wins the race; the other is a no-op.
    ::setpgid(pid, pid);
    write_end.reset();
    m_pid = pid;
    m_started = steady_clock::now();
    m_run_match.reset();
    m_suspect = false;
    m_after_exit = AfterExit::classify;
    m_status.liveness_failures = 0;
    m_partial.clear();

    sd_event_source* child = nullptr;
    const int r = sd_event_add_child(m_event, &child, pid, WEXITED, &Supervisor::on_child, this);
    if (r < 0) {
        // Without a child source we cannot supervise it; do not leave it unsupervised.
        ::kill(-pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
        m_pid = 0;
        set_state(app::EngineState::failed, fmt::format("Failed to watch the engine process: {}", std::strerror(-r)));
        return;
    }
    m_child.reset(child);
    ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
    sd_event_source* out = nullptr;
    if (sd_event_add_io(m_event, &out, read_end.get(), EPOLLIN, &Supervisor::on_output, this) >= 0) {
        m_output_source.reset(out);
    }
    m_output = std::move(read_end);
    m_log.open_engine_stream(m_config.name);
    m_log.daemon(LOG_INFO, fmt::format("engine {} launched as pid {}", m_config.name, pid),
                 {{"HALO_ENGINE_PID", std::to_string(pid)}});
    set_state(app::EngineState::starting, fmt::format("waiting for {}", m_config.health_url));
    arm_timer(m_health_timer, milliseconds(100), &Supervisor::on_health_timer);
}

// ---- stopping --------------------------------------------------------------------------------

void Supervisor::signal_group(int sig)
{
    if (m_pid <= 0) return;
    if (::kill(-m_pid, sig) < 0) ::kill(m_pid, sig);
}

void Supervisor::stop(const std::string& why, std::function<void()> then)
{
    if (m_backoff_timer) sd_event_source_set_enabled(m_backoff_timer.get(), SD_EVENT_OFF);
    if (m_pid <= 0) {
        set_state(app::EngineState::stopped, why);
        if (then) then();
        return;
    }
    m_after_exit = AfterExit::stop;
    m_after_reason = why;
    m_then = std::move(then);
    cancel_checks();
    if (m_status.state != app::EngineState::stopping) {
        m_log.daemon(LOG_INFO, fmt::format("stopping engine {} (pid {}): {}", m_config.name, m_pid, why));
        signal_group(SIGTERM);
        arm_timer(m_kill_timer, duration_cast<microseconds>(m_config.stop_timeout), &Supervisor::on_kill_timer);
        set_state(app::EngineState::stopping, why);
    }
}

void Supervisor::restart(const std::string& why)
{
    m_restart_times.clear();
    if (m_pid <= 0) {
        start(why);
        return;
    }
    stop(why);
    m_after_exit = AfterExit::restart_now;
}

bool Supervisor::refuse(const std::string& reason)
{
    if (m_pid > 0) return false;
    if (m_backoff_timer) sd_event_source_set_enabled(m_backoff_timer.get(), SD_EVENT_OFF);
    set_state(app::EngineState::refused, reason);
    return true;
}

bool Supervisor::mark_unhealthy(const std::string& reason)
{
    if (m_pid <= 0 || m_status.state != app::EngineState::ready) return false;
    m_log.daemon(LOG_WARNING, fmt::format("engine {} marked unhealthy: {}; checking its health now", m_config.name, reason));
    m_suspect = true;
    set_state(app::EngineState::unhealthy, reason);
    poll_health();
    return true;
}

void Supervisor::kill_for_restart(const std::string& reason)
{
    m_suspect = false;
    m_log.daemon(LOG_WARNING, fmt::format("engine {} unhealthy: {}; restarting it", m_config.name, reason));
    cancel_checks();
    m_after_exit = AfterExit::restart_backoff;
    m_after_reason = reason;
    set_state(app::EngineState::unhealthy, reason);
    signal_group(SIGTERM);
    arm_timer(m_kill_timer, duration_cast<microseconds>(m_config.stop_timeout), &Supervisor::on_kill_timer);
}

int Supervisor::on_kill_timer(sd_event_source*, uint64_t, void* userdata) noexcept
{
    auto* self = static_cast<Supervisor*>(userdata);
    try {
        if (self->m_pid > 0) {
            self->m_log.daemon(LOG_WARNING,
                               fmt::format("engine {} (pid {}) did not stop within {} of SIGTERM; sending SIGKILL",
                                           self->m_config.name, self->m_pid, app::format_duration(self->m_config.stop_timeout)));
            self->signal_group(SIGKILL);
        }
    } catch (...) {
    }
    return 0;
}

// ---- exit ------------------------------------------------------------------------------------

int Supervisor::on_child(sd_event_source*, const siginfo_t* si, void* userdata) noexcept
{
    auto* self = static_cast<Supervisor*>(userdata);
    try {
        self->on_exit(*si);
    } catch (...) {
    }
    return 0;
}

void Supervisor::on_exit(const siginfo_t& info)
{
    const pid_t pid = m_pid;
    read_output(true); // the last lines often say why
    close_output();
    m_child.reset();
    cancel_checks();
    if (m_kill_timer) sd_event_source_set_enabled(m_kill_timer.get(), SD_EVENT_OFF);
    // Whatever the engine left in its group (helpers, a toolbox's podman) goes with it.
    ::kill(-pid, SIGKILL);
    m_pid = 0;
    const auto ran = uptime();

    std::string exit;
    const bool exited = info.si_code == CLD_EXITED;
    if (exited) exit = fmt::format("exited with status {}", info.si_status);
    else exit = fmt::format("killed by {}{}", signal_name(info.si_status), info.si_code == CLD_DUMPED ? " (core dumped)" : "");
    exit += fmt::format(" after {}", seconds_text(ran));
    m_log.daemon(exited && info.si_status == 0 ? LOG_INFO : LOG_WARNING,
                 fmt::format("engine {} (pid {}) {}", m_config.name, pid, exit),
                 {{"HALO_ENGINE_EXIT", exit}, {"HALO_ENGINE_PID", std::to_string(pid)}});

    const bool crashed = !exited && is_crash_signal(info.si_status);
    if (crashed || m_run_match) {
        app::CrashReason c = m_run_match.value_or(app::CrashReason{});
        c.exit = exit;
        c.at = now_rfc3339(TimePrecision::milliseconds);
        m_status.last_crash = c;
        if (!c.pattern_id.empty()) {
            m_log.daemon(LOG_ERR, fmt::format("engine {} crashed: {} ({}); fix: {}", m_config.name, c.title,
                                              c.pattern_id, c.fix),
                         {{"HALO_LOG_PATTERN", c.pattern_id}});
        }
    }

    const AfterExit after = m_after_exit;
    m_after_exit = AfterExit::classify;
    switch (after) {
    case AfterExit::stop: {
        set_state(app::EngineState::stopped, m_after_reason);
        if (auto then = std::move(m_then)) {
            m_then = nullptr;
            then();
        }
        return;
    }
    case AfterExit::restart_now:
        m_log.daemon(LOG_INFO, fmt::format("restarting engine {}: {}", m_config.name, m_after_reason));
        launch();
        return;
    case AfterExit::restart_backoff: schedule_restart(m_after_reason); return;
    case AfterExit::classify: break;
    }
    if (exited && info.si_status == 1 && ran < m_config.early_exit) {
        std::string last;
        if (!m_status.output.empty()) last = fmt::format(" (last output: {})", m_status.output.back());
        set_state(app::EngineState::failed,
                  fmt::format("{}{}: restarting will not help (bad arguments, port in use or the model failed to load); "
                              "fix the command or model, then run 'halo-check restart'",
                              exit, last));
        return;
    }
    if (crashed) {
        const std::string why =
            m_status.last_crash && !m_status.last_crash->pattern_id.empty()
                ? fmt::format("crashed ({}): {}", exit, m_status.last_crash->pattern_id)
                : fmt::format("crashed ({})", exit);
        schedule_restart(why);
        return;
    }
    schedule_restart(exit);
}

void Supervisor::schedule_restart(const std::string& reason)
{
    const auto now = steady_clock::now();
    while (!m_restart_times.empty() && now - m_restart_times.front() > m_config.restart.window) m_restart_times.pop_front();
    const int recent = static_cast<int>(m_restart_times.size());
    if (recent >= m_config.restart.max) {
        set_state(app::EngineState::given_up,
                  fmt::format("gave up after {} restarts within {}: {}; fix the cause, then run 'halo-check restart'",
                              recent, app::format_duration(m_config.restart.window), reason));
        m_log.daemon(LOG_ERR, fmt::format("engine {}: {}", m_config.name, m_status.reason));
        return;
    }
    auto delay = m_config.restart.backoff_initial;
    for (int i = 0; i < recent && delay < m_config.restart.backoff_max; ++i) delay *= 2;
    delay = std::min(delay, m_config.restart.backoff_max);
    m_restart_times.push_back(now);
    m_status.restarts.push_back({now_rfc3339(TimePrecision::milliseconds), reason});
    if (m_status.restarts.size() > k_restart_records) m_status.restarts.erase(m_status.restarts.begin());
    set_state(app::EngineState::backoff, fmt::format("{}; restart {} of {} in {}", reason, recent + 1, m_config.restart.max,
                                                app::format_duration(delay)));
    arm_timer(m_backoff_timer, duration_cast<microseconds>(delay), &Supervisor::on_backoff_timer);
}

int Supervisor::on_backoff_timer(sd_event_source*, uint64_t, void* userdata) noexcept
{
    auto* self = static_cast<Supervisor*>(userdata);
    try {
        if (self->m_pid <= 0 && self->m_status.state == app::EngineState::backoff) {
            self->m_log.daemon(LOG_INFO, fmt::format("restarting engine {}", self->m_config.name));
            self->launch();
        }
    } catch (...) {
    }
    return 0;
}

// ---- output ----------------------------------------------------------------------------------

int Supervisor::on_output(sd_event_source*, int, uint32_t, void* userdata) noexcept
{
    try {
        static_cast<Supervisor*>(userdata)->read_output(false);
    } catch (...) {
    }
    return 0;
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

void Supervisor::handle_line(std::string line)
{
    if (!line.empty() && line.back() == '\r') line.pop_back();
    m_log.engine_line(line);
    if (!m_run_match) {
        if (const rules::LogPattern* p = rules::match_log_line(m_patterns, rules::LogSource::engine, line, m_facts)) {
            m_run_match = app::CrashReason{{}, p->id, p->title, std::string(rules::to_string(p->severity)), p->fix, line, now_rfc3339(TimePrecision::milliseconds)};
            m_log.daemon(LOG_WARNING, fmt::format("engine {} printed a known crash line: {} ({})", m_config.name, p->title, p->id),
                         {{"HALO_LOG_PATTERN", p->id}});
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
    m_health_request.reset();
    m_smoke_request.reset();
    if (m_health_timer) sd_event_source_set_enabled(m_health_timer.get(), SD_EVENT_OFF);
}

int Supervisor::on_health_timer(sd_event_source*, uint64_t, void* userdata) noexcept
{
    try {
        static_cast<Supervisor*>(userdata)->poll_health();
    } catch (...) {
    }
    return 0;
}

void Supervisor::poll_health()
{
    if (m_pid <= 0 || m_health_request) return;
    const bool readiness = m_status.state == app::EngineState::starting || m_status.state == app::EngineState::loading;
    if (readiness && uptime() > m_config.ready_timeout) {
        kill_for_restart(fmt::format("not ready within ready_timeout {}", app::format_duration(m_config.ready_timeout)));
        return;
    }
    const milliseconds timeout =
        readiness ? milliseconds(2000) : std::clamp(m_config.liveness_interval, milliseconds(100), milliseconds(10000));
    auto id = m_http.request(m_config.health_url, {}, timeout, [this](const HttpResponse& r) { on_health(r); });
    if (id) m_health_request = *id;
    else arm_timer(m_health_timer, microseconds(1'000'000), &Supervisor::on_health_timer);
}

void Supervisor::on_health(const HttpResponse& r)
{
    m_health_request.reset();
    if (m_pid <= 0) return;
    const app::EngineState s = m_status.state;
    if (s == app::EngineState::starting || s == app::EngineState::loading) {
        if (r.status == 200) {
            m_log.daemon(LOG_INFO, fmt::format("engine {} ready after {}", m_config.name, seconds_text(uptime())));
            set_state(app::EngineState::ready, {});
            run_smoke();
            arm_timer(m_health_timer, duration_cast<microseconds>(m_config.liveness_interval), &Supervisor::on_health_timer);
            return;
        }
        if (r.status == 503 && s == app::EngineState::starting) set_state(app::EngineState::loading, "loading the model");
        // Fast polls at first (a tiny model is ready in 0.2 s), then once a second for long loads.
        const auto next = uptime() < std::chrono::seconds(10) ? milliseconds(100) : milliseconds(1000);
        arm_timer(m_health_timer, duration_cast<microseconds>(next), &Supervisor::on_health_timer);
        return;
    }
    if (s != app::EngineState::ready && !(s == app::EngineState::unhealthy && m_suspect)) return;
    if (r.status == 200) {
        if (m_suspect) {
            m_suspect = false;
            m_status.liveness_failures = 0;
            m_log.daemon(LOG_INFO, fmt::format("engine {} answers its health check again; keeping it", m_config.name));
            set_state(app::EngineState::ready, {});
        } else if (m_status.liveness_failures != 0) {
            m_status.liveness_failures = 0;
            m_events.engine_changed(m_status);
        }
    } else {
        ++m_status.liveness_failures;
        const std::string what = r.status ? fmt::format("HTTP {}", r.status) : r.error;
        m_log.daemon(LOG_WARNING, fmt::format("engine {} liveness check {} of {} failed: {}", m_config.name,
                                              m_status.liveness_failures, m_config.liveness_failures, what));
        if (m_status.liveness_failures >= m_config.liveness_failures) {
            kill_for_restart(fmt::format("{} health checks failed in a row ({})", m_status.liveness_failures, what));
            return;
        }
        m_events.engine_changed(m_status);
    }
    arm_timer(m_health_timer, duration_cast<microseconds>(m_config.liveness_interval), &Supervisor::on_health_timer);
}

// ---- smoke test ------------------------------------------------------------------------------

bool Supervisor::smoke(std::string& why_not)
{
    if (m_status.state != app::EngineState::ready) {
        why_not = fmt::format("the engine is {}, not ready", to_string(m_status.state));
        return false;
    }
    if (m_smoke_request) {
        why_not = "a smoke test is already running";
        return false;
    }
    run_smoke();
    return true;
}

void Supervisor::run_smoke()
{
    nlohmann::ordered_json body = {{"messages", {{{"role", "user"}, {"content", "Count 1 to 5"}}}},
                                   {"max_tokens", 10},
                                   {"stream", false},
                                   // A repeated prompt hits llama-server's cache; the figure
                                   // should measure prompt processing every time.
                                   {"cache_prompt", false}};
    if (m_config.alias) body["model"] = *m_config.alias;
    m_smoke_started = steady_clock::now();
    auto id = m_http.request(m_config.base_url + "/v1/chat/completions", body.dump(), m_config.smoke_timeout,
                             [this](const HttpResponse& r) { on_smoke(r); });
    if (id) m_smoke_request = *id;
}

void Supervisor::on_smoke(const HttpResponse& r)
{
    m_smoke_request.reset();
    app::SmokeFigures f;
    f.at = now_rfc3339(TimePrecision::milliseconds);
    f.latency_ms = static_cast<double>(r.elapsed.count()) / 1000.0;
    if (r.status == 200) {
        auto j = nlohmann::json::parse(r.body, nullptr, false);
        if (j.is_object()) {
            const auto& usage = j.value("usage", nlohmann::json::object());
            const auto& timings = j.value("timings", nlohmann::json::object());
            auto number = [](const nlohmann::json& o, const char* k) {
                return o.is_object() && o.contains(k) && o[k].is_number() ? o[k].get<double>() : 0.0;
            };
            f.prompt_tokens = static_cast<long>(number(usage, "prompt_tokens"));
            f.completion_tokens = static_cast<long>(number(usage, "completion_tokens"));
            f.prompt_per_second = number(timings, "prompt_per_second");
            f.predicted_per_second = number(timings, "predicted_per_second");
            f.ok = f.completion_tokens > 0;
            if (!f.ok) f.error = "the answer held no generated tokens";
        } else {
            f.error = "the answer was not JSON";
        }
    } else {
        f.error = r.status ? fmt::format("HTTP {}", r.status) : r.error;
    }
    m_status.smoke = f;
    if (f.ok) {
        m_status.smoke_good = f;
        m_log.daemon(LOG_INFO,
                     fmt::format("engine {} smoke test: {} tokens in {:.1f} ms, prompt {:.1f} t/s, generation {:.1f} t/s",
                                 m_config.name, f.completion_tokens, f.latency_ms, f.prompt_per_second,
                                 f.predicted_per_second),
                     {{"HALO_SMOKE_LATENCY_MS", fmt::format("{:.1f}", f.latency_ms)},
                      {"HALO_SMOKE_PREDICTED_PER_SECOND", fmt::format("{:.2f}", f.predicted_per_second)}});
        m_events.engine_changed(m_status);
        return;
    }
    if (m_pid > 0 && m_status.state == app::EngineState::ready) {
        kill_for_restart(fmt::format("smoke test failed: {} (no tokens within smoke_timeout {})", f.error,
                                     app::format_duration(m_config.smoke_timeout)));
    } else {
        m_events.engine_changed(m_status);
    }
}

} // namespace halo::checkd
