#pragma once
// The manager owns the sd-event loop and the daemon's parts, and is the only place they meet:
// config, rules, facts (probe or --facts file), the verdict and the policy decision, the
// supervisor, the state file, sd_notify (READY=1, STATUS=, WATCHDOG=1, STOPPING=1) and control
// requests.
//
// Signals (the control channel, docs/daemon.md says why):
//   SIGTERM, SIGINT  stop the engine gracefully, then exit
//   SIGHUP           reload: re-read config and rules, re-probe, re-evaluate
//   SIGUSR1          read and run the verbs in <state dir>/request (restart, stop, start, smoke,
//                    reload), written there by `halo-check restart|stop|start|smoke`
//
// The watchers (manager_watch.cpp) re-probe on changes and judge two views (now and after a
// reboot); the kernel-log monitor and the notifier are wired there too.

#include "daemon/config.hpp"
#include "daemon/last_known_good.hpp"
#include "daemon/checkd/callback_log.hpp"
#include "daemon/checkd/notification.hpp"
#include "daemon/checkd/http_client.hpp"
#include "daemon/checkd/log_monitor.hpp"
#include "daemon/checkd/log_sink.hpp"
#include "daemon/checkd/notifier.hpp"
#include "daemon/checkd/sd_handles.hpp"
#include "daemon/state_store.hpp"
#include "daemon/checkd/supervisor.hpp"
#include "daemon/checkd/watchers.hpp"
#include "rules/evaluate.hpp"
#include "rules/facts.hpp"
#include "rules/facts_diff.hpp"
#include "rules/rule.hpp"

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace halo::checkd {

struct ManagerOptions {
    std::string config_path;
    std::string root = "/";
    std::optional<std::string> facts_path; // judge this file instead of probing (tests)
    std::optional<std::string> state_dir;
    std::vector<std::string> rules;        // extra rules files or directories
    bool no_dropins = false;
    std::optional<std::string> journal_export; // also write entries in Journal Export Format here
    // The kernel log to follow: the local journal (default), these files, this directory, or none.
    LogMonitorOptions::Journal journal = LogMonitorOptions::Journal::local;
    std::vector<std::string> journal_paths;
    bool no_watch = false; // do not watch the machine for changes
};

// The policy's answer for one report.
struct Decision {
    bool allowed = true;
    std::string reason; // "broken: rocm.firmware-20251125" when refused
};
Decision decide(app::Policy policy, const rules::Report& report);
NotifyPolicy notify_policy(const app::NotifyConfig& config);

class Manager final : private SupervisorEvents {
public:
    // Loads rules and state; throws halo::Fatal with a clear message when it cannot start.
    Manager(ManagerOptions options, app::Config config);
    ~Manager() override;
    Manager(const Manager&) = delete;
    Manager& operator=(const Manager&) = delete;

    // First evaluation, READY=1, the loop. Returns the exit code.
    int run();

private:
    void evaluate(const std::string& why, bool reload_files);
    void act_on_decision(const std::string& why, bool facts_changed);
    void shutdown(const std::string& why);
    void handle_requests();
    void publish();
    std::string status_line() const;
    nlohmann::ordered_json state_json() const;
    bool load_rules_into(rules::RuleSet& out, std::string& error) const;

    void engine_changed(const app::EngineStatus& status) override;
    void engine_line(std::string_view line) override;

    // Watching, the two views, the kernel log, notifications, last known good (manager_watch.cpp).
    void restore_watch_state(const nlohmann::json& old);
    void attach_watchers();
    std::vector<WatchPath> watch_paths() const;
    void on_watch_batch(const WatchBatch& batch);
    void attach_log_monitor();
    void on_log_event(const LogEvent& event);
    void after_evaluation(const std::string& why, const rules::Facts* previous, bool reload_failed, bool reloaded);
    void notify(NotificationKind kind, const rules::Facts& facts, const rules::Report& report,
                const std::function<void(NotificationInput&)>& adjust = {});
    void engine_events(const app::EngineStatus& status);
    void arm_last_known_good(bool ready_and_smoke_ok);
    void record_last_known_good();
    nlohmann::ordered_json watch_state_json() const;
    static int on_lkg_timer(sd_event_source* s, uint64_t usec, void* userdata) noexcept;

    static int on_signal(sd_event_source* s, const struct signalfd_siginfo* si, void* userdata) noexcept;
    void handle_signal(int signo);
    void recover_from_signal(int signo) noexcept;

    ManagerOptions m_options;
    app::Config m_config;
    SdEvent m_event;
    std::vector<SdEventSource> m_signal_sources;
    LogSink m_log;
    CallbackErrorsToLog m_callback_log; // before every part that owns a guarded callback
    app::StateStore m_store;
    std::unique_ptr<HttpClient> m_http;
    std::unique_ptr<Supervisor> m_supervisor;

    std::shared_ptr<const rules::RuleSet> m_rules;
    rules::Facts m_facts;
    rules::Report m_report;
    Decision m_decision;
    bool m_evaluated = false;
    std::string m_reload_error; // the last reload that failed, and what was kept
    std::string m_refusal_note; // refused while running, engine kept
    bool m_user_stopped = false;
    bool m_stopping = false;
    std::string m_last_status;
    std::optional<app::EngineState> m_logged_state;
    std::string m_started_at;

    std::vector<std::unique_ptr<Watchers>> m_watchers;
    std::unique_ptr<LogMonitor> m_monitor;
    DesktopNotifier m_notifier;
    rules::Report m_next_report;                 // the "after reboot" view
    std::optional<rules::Verdict> m_prev_now;    // verdicts of the previous evaluation (or the
    std::optional<rules::Verdict> m_prev_next;   // state file's, so a daemon restart does not re-report)
    std::vector<std::string> m_changes;          // the last re-check's facts diff, as lines
    std::string m_changes_at;
    std::string m_changes_why;
    std::deque<nlohmann::ordered_json> m_log_events; // the latest log events, newest last
    std::string m_journal_cursor;
    std::optional<app::LastKnownGood> m_lkg;
    SdEventSource m_lkg_timer;
    bool m_engine_had_failure = false;
    std::optional<app::EngineState> m_notified_state;
};

} // namespace halo::checkd
