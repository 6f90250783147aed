#pragma once
// The manager owns the sd-event loop and the daemon's parts, and is the only place they meet:
// config, rules, facts (probe or --facts file), the verdict and the policy decision, the
// supervisor, the machine watch, the state file, sd_notify (READY=1, STATUS=, WATCHDOG=1,
// STOPPING=1) and control requests.
//
// Signals:
//   SIGTERM, SIGINT  stop the engine gracefully, then exit
//   SIGHUP           reload: re-read config and rules, re-probe, re-evaluate (systemctl reload)
// The control verbs of `halo-check restart|stop|start|reload|smoke|status` come over the control
// socket (control_server.hpp); each connection is answered with its outcome (control_outcome)
// once a published state shows it. One daemon per state directory: <state dir>/lock is held.
//
// Watching the machine, the two views (now and after a reboot), the kernel log, notifications
// and the last known good configuration are the MachineWatch's (machine_watch.hpp).

#include "common/control_message.hpp"
#include "common/fd.hpp"
#include "daemon/checkd/callback_log.hpp"
#include "daemon/checkd/control_server.hpp"
#include "daemon/checkd/http_client.hpp"
#include "daemon/checkd/log_sink.hpp"
#include "daemon/checkd/machine_watch.hpp"
#include "daemon/checkd/manager_options.hpp"
#include "daemon/checkd/probe_child.hpp"
#include "daemon/checkd/sd_handles.hpp"
#include "daemon/checkd/supervisor.hpp"
#include "daemon/checkd/watchdog_pinger.hpp"
#include "daemon/config.hpp"
#include "daemon/state_store.hpp"
#include "rules/evaluate.hpp"
#include "rules/facts.hpp"
#include "rules/rule.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace halo::checkd {

// The policy's answer for one report.
struct Decision {
    bool allowed = true;
    std::string reason; // "broken: engine.model-unreadable" when refused
};
Decision decide(app::Policy policy, const rules::Report& report);

// `judged` with the engine.* facts of `running` (values, unknown patterns and the engine probe's
// status): what the facts say while the engine keeps running on its previous command because
// the new one was refused. The rest (the machine) stays as judged.
rules::Facts with_engine_facts(const rules::Facts& judged, const rules::Facts& running);

// The status line's note when a refusal leaves the engine running (stop_on_refusal = false);
// `new_command`: the refused configuration would have run another process.
std::string kept_running_note(std::string_view refusal, bool new_command);

class Manager final : private SupervisorEvents, private MachineWatchEvents {
public:
    // Loads rules and state; throws halo::Fatal with a clear message when it cannot start.
    Manager(ManagerOptions options, app::Config config);
    ~Manager() override;
    Manager(const Manager&) = delete;
    Manager& operator=(const Manager&) = delete;

    // First evaluation, READY=1, the loop. Returns the exit code.
    int run();

private:
    // One warning per load for each [engine.env] name that engine_environment() drops.
    void warn_ignored_env();
    // A re-check: config and rules read again when `reload_files`, the machine probed in a child
    // (probe_child.hpp) while the loop goes on, then judged and acted on; `then` runs after its
    // evaluation. One runs at a time: those asked for meanwhile are merged into the next.
    void evaluate(const std::string& why, bool reload_files, std::function<void()> then = {});
    struct Check {
        std::string why;
        bool reload = false;
        std::vector<std::function<void()>> then;
    };
    void begin_check(Check check);
    // The facts of the check under way: judge them, act, and start the next check if one waits.
    void finish_check(rules::Facts facts);
    void request_handled(std::uint64_t id);
    void act_on_decision(const std::string& why, bool facts_changed, bool new_process);
    void shutdown(const std::string& why);
    // A verified client's request: acted on, answered `taken`, and its outcome awaited.
    void on_control(std::uint64_t id, ControlVerb verb, const ucred& peer);
    void run_request(ControlVerb verb, std::uint64_t id);
    // Answers the waiting clients whose outcome the state now shows.
    void answer_waiting(const nlohmann::json& now);
    void publish();
    std::string status_line() const;
    nlohmann::ordered_json state_json() const;
    void restore_state(sd_event* e);
    bool load_rules_into(rules::RuleSet& out, std::string& error);

    void engine_changed(const app::EngineStatus& status) override;
    void engine_line(std::string_view line) override;
    // New output: the state file's output_tail follows within a second (output_pacing.hpp).
    void output_arrived();
    static int on_output_timer(sd_event_source* s, uint64_t usec, void* userdata) noexcept;
    // [export]: the files after a re-check (NFD too) or an engine transition (Prometheus only),
    // and the re-check [export] interval asks for.
    void write_exports(bool with_nfd);
    void arm_export_timer();
    static int on_export_timer(sd_event_source* s, uint64_t usec, void* userdata) noexcept;

    void recheck(const std::string& why, bool reload) override;
    void gpu_reset(const std::string& reason) override;
    void watch_state_changed() override;
    const rules::Facts& current_facts() const override { return m_facts; }
    const rules::Report& current_report() const override { return m_report; }

    static int on_signal(sd_event_source* s, const struct signalfd_siginfo* si, void* userdata) noexcept;
    void handle_signal(int signo);
    void recover_from_signal(int signo) noexcept;

    ManagerOptions m_options;
    app::Config m_config;
    SdEvent m_event;
    std::vector<SdEventSource> m_signal_sources;
    std::unique_ptr<WatchdogPinger> m_watchdog;
    LogSink m_log;
    CallbackErrorsToLog m_callback_log; // before every part that owns a guarded callback
    app::StateStore m_store;
    Fd m_lock; // flock on <state dir>/lock for the daemon's lifetime
    std::unique_ptr<HttpClient> m_http;
    std::unique_ptr<Supervisor> m_supervisor;
    std::unique_ptr<MachineWatch> m_watch;
    std::unique_ptr<ProbeRun> m_probe_run;     // the check's probe child, while it runs
    std::optional<Check> m_check;              // the check under way
    std::vector<std::string> m_check_problems; // what its reload could not read
    std::optional<Check> m_next_check;         // asked for while one was under way

    std::shared_ptr<const rules::RuleSet> m_rules;
    rules::Facts m_facts;
    rules::Facts m_engine_facts; // the facts of the evaluation whose engine configuration runs
    rules::Report m_report;
    Decision m_decision;
    bool m_evaluated = false;
    std::string m_reload_error; // the last reload that failed, and what was kept
    // For the control verbs' clients, which wait for their request's effect (control_outcome):
    // evaluations done, control requests handled, and why the last request did nothing.
    long long m_evaluations = 0;
    long long m_requests_handled = 0;
    std::string m_request_error;
    std::string m_refusal_note; // refused while running, engine kept
    bool m_user_stopped = false;
    bool m_stopping = false;
    std::string m_last_status;
    std::optional<app::EngineState> m_logged_state;
    std::string m_api_judged; // `at` of the API check run whose facts the last evaluation judged
    std::string m_started_at;
    std::optional<std::chrono::steady_clock::time_point> m_last_write; // of the state file
    bool m_output_due = false;                                         // m_output_timer will write it
    SdEventSource m_output_timer;
    SdEventSource m_export_timer;
    std::string m_export_error; // the last export failure logged, so a lasting one is logged once
    struct WaitingClient {
        std::uint64_t id;
        std::string verb;
        nlohmann::json before; // the state when the request came
        bool handled = false;  // its request is carried out (after the re-check it asked for)
    };
    std::vector<WaitingClient> m_waiting;
    std::unique_ptr<ControlServer> m_control; // last: it calls into everything above
};

} // namespace halo::checkd
