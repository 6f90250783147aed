#pragma once
// The engine as an explicit state machine:
//
//   stopped → starting → loading → ready ⇄ unhealthy → backoff → starting … → given_up
//   plus refused (the verdict forbids a launch), failed (exit status 1 soon after start: bad
//   arguments, port in use, model failed to load — restarting will not help) and stopping.
//
// The Supervisor is the imperative shell: it launches the engine (engine_process.hpp), reads its
// output line by line from a pipe, reaps it with sd_event_add_child, polls /health and runs the
// generation smoke test (engine_checks.hpp), and arms the timers. What each exit, answer or
// timeout means is decided by the pure functions of supervision.hpp, whose table of states and
// events is the only way the state changes. Before each launch it looks at the engine's port: a
// leftover engine from an earlier run (the same command) is stopped first, anything else is left
// alone. Every transition goes to
// SupervisorEvents::engine_changed (the manager logs it, writes the state file and updates
// STATUS=). An exception inside one of its loop callbacks kills the engine's group and leaves it
// failed with "internal error in <callback>: …".

#include "daemon/checkd/api_check_run.hpp"
#include "daemon/checkd/api_key.hpp"
#include "daemon/checkd/http_client.hpp"
#include "daemon/checkd/log_sink.hpp"
#include "daemon/checkd/sd_handles.hpp"
#include "daemon/checkd/supervision.hpp"
#include "daemon/config.hpp"
#include "daemon/engine_status.hpp"
#include "rules/facts.hpp"
#include "rules/rule.hpp"

#include <sys/types.h>

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace halo::checkd {

class SupervisorEvents {
public:
    virtual ~SupervisorEvents() = default;
    virtual void engine_changed(const app::EngineStatus& status) = 0;
    virtual void engine_line(std::string_view line) = 0;
};

class Supervisor {
public:
    static constexpr std::size_t k_output_lines = 200;

    Supervisor(sd_event* event, HttpClient& http, LogSink& log, SupervisorEvents& events);
    ~Supervisor();
    Supervisor(const Supervisor&) = delete;
    Supervisor& operator=(const Supervisor&) = delete;

    // Applies at the next launch; while a process runs, what leaves it alone (timings) applies now.
    void configure(const app::EngineConfig& config);
    // A reload's [engine] table that the verdict allows: as configure(), and when it changes the
    // process of a running engine (its command or environment), a planned restart: SIGTERM, wait,
    // launch the new command, "restarting to apply the new engine command", no restart counted.
    ReconfigureAction reconfigure(const app::EngineConfig& config);
    // A reload's [engine] table that the verdict refused: its timings apply, a running engine
    // keeps its command (and a restart launches that one); with nothing running it all applies.
    void keep_command(const app::EngineConfig& config);
    // Patterns (source engine or any) to explain crashes; `facts` for their `when` conditions.
    void set_log_patterns(std::vector<rules::LogPattern> patterns, rules::Facts facts);
    // Remembered from an earlier run of the daemon (state file).
    void set_last_good_smoke(std::optional<app::SmokeFigures> figures);

    // Launches now unless a process is running; clears the restart history.
    void start(const std::string& why);
    // SIGTERM to the group, SIGKILL after stop_timeout; `then` runs once the engine is gone.
    void stop(const std::string& why, std::function<void()> then = {});
    // stop, then start (history cleared).
    void restart(const std::string& why);
    // Marks the engine refused; only valid while no process runs (returns false otherwise).
    bool refuse(const std::string& reason);
    // A GPU reset (kernel log) while the engine runs: ready → unhealthy at once, and a health
    // check now decides: it answers → ready again; it fails liveness_failures times → restart.
    // False when the engine is not ready.
    bool mark_unhealthy(const std::string& reason);
    // The engine API checks after each ready (api_check_run.hpp), sending `model` (empty: the
    // first id served), and cache-reuse every `cache_interval` while ready (zero: never); off:
    // none (a run under way finishes).
    void set_api_checks(bool enabled, std::string model, std::chrono::milliseconds cache_interval = {});
    // On-demand smoke test; false (with reason) when the engine is not ready.
    bool smoke(std::string& why_not);

    bool process_running() const { return m_pid > 0; }
    const app::EngineStatus& status() const { return m_status; }
    // The running engine's configuration (with nothing running: the next launch's).
    const app::EngineConfig& config() const { return m_config; }

private:
    void launch();
    // A process we answer for is there: the engine, or a leftover engine being stopped.
    bool busy() const { return m_pid > 0 || m_leftover_pid > 0 || m_listener_source; }
    // A leftover engine on the port: SIGTERM now, SIGKILL after stop_timeout, the launch once it
    // is gone. False when the port holds none (or it cannot be signalled): launch now.
    bool stop_leftover();
    void leftover_gone();
    // The only way the state changes: `event` through next_state() (supervision.hpp). An event
    // the table does not allow from the current state throws std::logic_error.
    void apply(SupervisionEvent event, std::string reason);
    // Tells the manager about a change that is no transition (liveness count, smoke figures).
    void publish();
    void child_exited(sd_event_source* source, const siginfo_t& info);
    void on_exit(const siginfo_t& info);
    void schedule_restart(const std::string& why);
    void kill_for_restart(const std::string& reason);
    // SIGTERM (SIGKILL after stop_timeout), then failed with `reason`: it cannot work as configured.
    void kill_for_good(const std::string& reason);
    void terminate_engine();
    // After an exception in a callback: the engine's group killed, no process, no checks, no
    // timers, failed with "internal error in <where>: <what>", and a pending stop's `then` run.
    void fail_internally(std::string_view where, std::string_view what);
    void arm_timer(SdEventSource& source, std::chrono::microseconds after, sd_event_time_handler_t handler);
    void poll_health();
    void on_health(const HttpResponse& r);
    void run_smoke();
    void on_smoke(const HttpResponse& r);
    // After the smoke test that follows a ready: the API checks, when wanted.
    void run_api_checks();
    void on_api_checks(app::ApiResults results);
    // [client] cache_check_interval: armed after each run of the checks; cache-reuse alone,
    // its result merged into the last run's.
    void arm_cache_check();
    void cache_check_due();
    static int on_cache_timer(sd_event_source* s, uint64_t usec, void* userdata) noexcept;
    // The periodic smoke test while idle: armed after each smoke test when configured; asks
    // /slots first and runs only when no slot is processing a request.
    void arm_idle_smoke();
    void idle_smoke_due();
    void on_slots(const HttpResponse& r);
    void read_output(bool drain_only);
    void handle_line(std::string line);
    void close_output();
    void cancel_checks();
    std::chrono::steady_clock::duration uptime() const;

    static int on_child(sd_event_source* s, const siginfo_t* si, void* userdata) noexcept;
    static int on_output(sd_event_source* s, int fd, uint32_t revents, void* userdata) noexcept;
    static int on_health_timer(sd_event_source* s, uint64_t usec, void* userdata) noexcept;
    static int on_idle_smoke_timer(sd_event_source* s, uint64_t usec, void* userdata) noexcept;
    static int on_kill_timer(sd_event_source* s, uint64_t usec, void* userdata) noexcept;
    static int on_backoff_timer(sd_event_source* s, uint64_t usec, void* userdata) noexcept;
    static int on_leftover_exit(sd_event_source* s, int fd, uint32_t revents, void* userdata) noexcept;
    // An engine inside a container (supervisor_container.cpp): the process listening on the port
    // with the engine's inner argv, found once the engine is ready; signalled with the client;
    // await_listener() (from on_exit) holds the exit back until it is gone too.
    void record_listener();
    void forget_listener();
    void signal_listener(int sig) noexcept;
    bool await_listener();
    static int on_listener_exit(sd_event_source* s, int fd, uint32_t revents, void* userdata) noexcept;

    sd_event* m_event;
    HttpClient& m_http;
    LogSink& m_log;
    SupervisorEvents& m_events;
    app::EngineConfig m_config;
    std::optional<app::EngineConfig> m_next; // configured while a process ran: for the next launch
    std::vector<rules::LogPattern> m_patterns;
    rules::Facts m_facts;
    rules::Facts m_line_facts; // m_facts with the running command's engine.* facts

    // A leftover engine being stopped before a launch: its pid, and a pidfd that says when it is
    // gone (it is not our child: no SIGCHLD).
    pid_t m_leftover_pid = 0;
    Fd m_leftover_fd;
    SdEventSource m_leftover_source;
    // The engine inside the container, and the client's exit waiting for it to go.
    pid_t m_listener_pid = 0;
    Fd m_listener_fd;
    SdEventSource m_listener_source;
    std::optional<siginfo_t> m_deferred_exit;

    pid_t m_pid = 0;
    std::chrono::steady_clock::time_point m_started;
    SdEventSource m_child;
    SdEventSource m_output_source;
    Fd m_output;
    std::string m_partial;
    SdEventSource m_health_timer;
    SdEventSource m_kill_timer;
    SdEventSource m_backoff_timer;
    SdEventSource m_idle_smoke_timer; // [engine] idle_smoke_interval
    std::optional<std::uint64_t> m_slots_request;
    std::optional<std::uint64_t> m_health_request;
    std::optional<std::uint64_t> m_smoke_request;
    bool m_api_wanted = false;
    std::string m_api_model;
    bool m_api_due = false; // ready: the API checks run after the smoke test
    std::unique_ptr<ApiCheckRun> m_api_run;
    std::chrono::milliseconds m_cache_interval{0};
    SdEventSource m_cache_timer;
    std::optional<app::CrashReason> m_run_match; // the first crash line seen in this run
    int m_exec_errno = 0;                        // this run's command could not be executed
    std::string m_program;                       // this run's argv[0]
    std::string m_wrapped;                       // the engine binary argv[0] runs, when it is a wrapper
    ApiKeys m_keys;                              // this run's: sent with the smoke test, cut from its output
    bool m_suspect = false;                      // unhealthy by mark_unhealthy(): health decides

    // What to do when the running process exits.
    ExitPlan m_after_exit = ExitPlan::classify;
    std::string m_after_reason;
    std::function<void()> m_then;
    std::deque<std::chrono::steady_clock::time_point> m_restart_times;
    // Child sources of engines killed by fail_internally(): the loop still reaps them.
    std::vector<SdEventSource> m_orphans;

    app::EngineStatus m_status;
};

} // namespace halo::checkd
