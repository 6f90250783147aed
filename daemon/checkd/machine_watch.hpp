#pragma once
// Watching the machine on the daemon's behalf: the watchers ask for a re-check when something
// that can change a verdict changes; each evaluation is judged in two views (now and after a
// reboot) and compared with the last; the kernel log is followed; the desktop hears what
// matters; the last known good configuration is kept.
//
// The Manager owns it, hands it each evaluation and engine transition, and asks it for its part
// of state.json; it asks the Manager back through MachineWatchEvents. The decisions are plain
// functions (recheck_news, engine_alerts, log_event_news, last_known_good_recorder); this is the
// wiring between them, the loop, the journal and the desktop.

#include "daemon/checkd/engine_alerts.hpp"
#include "daemon/checkd/last_known_good_recorder.hpp"
#include "daemon/checkd/log_event_news.hpp"
#include "daemon/checkd/log_monitor.hpp"
#include "daemon/checkd/log_sink.hpp"
#include "daemon/checkd/manager_options.hpp"
#include "daemon/checkd/notification.hpp"
#include "daemon/checkd/notifier.hpp"
#include "daemon/checkd/recheck_news.hpp"
#include "daemon/checkd/speed_watch.hpp"
#include "daemon/checkd/watchers.hpp"
#include "daemon/config.hpp"
#include "daemon/engine_status.hpp"
#include "rules/evaluate.hpp"
#include "rules/facts.hpp"
#include "rules/rule.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace halo::checkd {

NotifyPolicy notify_policy(const app::NotifyConfig& config);

// What the machine watch needs from the daemon. Called on the event loop.
class MachineWatchEvents {
public:
    virtual ~MachineWatchEvents() = default;
    // Something changed: evaluate again, reading config and rules again when `reload`.
    virtual void recheck(const std::string& why, bool reload) = 0;
    // The kernel log reported a GPU reset: a running engine has to prove it is still healthy.
    virtual void gpu_reset(const std::string& reason) = 0;
    // Its part of state.json changed (a log event, a new last known good): write the file.
    virtual void watch_state_changed() = 0;
    // The last evaluation: its facts and the "now" report.
    virtual const rules::Facts& current_facts() const = 0;
    virtual const rules::Report& current_report() const = 0;
};

// One evaluation, as the Manager hands it over; its facts and report are the events' current ones.
struct Evaluation {
    const std::string& why;
    const rules::RuleSet& rules;
    const rules::Facts* previous;    // the facts judged before; none at the first evaluation
    bool reloaded;                   // config and rules were read again
    const std::string& reload_error; // what failed to load or read ("" when nothing did)
};

class MachineWatch {
public:
    // `options`, `log` and `events` belong to the Manager and outlive this.
    MachineWatch(sd_event* event, const ManagerOptions& options, const app::Config& config, LogSink& log,
                 std::string state_dir, MachineWatchEvents& events);
    ~MachineWatch();
    MachineWatch(const MachineWatch&) = delete;
    MachineWatch& operator=(const MachineWatch&) = delete;

    // The verdicts and journal cursor the previous run left in state.json.
    void restore(const nlohmann::json& state);
    // After a config reload: the notification policy and the last-known-good delay.
    void configure(const app::Config& config);
    // Before the first probe, so a change during it is not lost.
    void start_watching();
    // After the first evaluation: the log patterns' `when` conditions need facts.
    void follow_kernel_log(const rules::RuleSet& rules);
    void evaluated(const Evaluation& evaluation);
    void engine_changed(const app::EngineStatus& status);
    void engine_line(std::string_view line);
    // Shutting down: report what the log monitor still holds, and ignore later changes.
    void stop();

    // state.json's next_boot, changes, last_known_good, log_events, log_monitor, watch and notify.
    nlohmann::ordered_json state_json() const;
    // The last evaluation judged as after a reboot.
    const rules::Report& next_report() const { return m_next_report; }

private:
    std::vector<WatchPath> own_paths() const;
    std::vector<WatchPath> machine_paths() const;
    void on_batch(const WatchBatch& batch);
    void on_log_event(const LogEvent& event);
    void record_last_known_good();
    // "Show details" (or a click) on one of our notifications: the report opens with xdg-open.
    void open_notification_details(const ActionEvent& action);
    static int on_opener_exit(sd_event_source* source, const siginfo_t* info, void* userdata) noexcept;
    // A smoke test's figures into the regression alarm (each run once).
    void speed_measured(const app::SmokeFigures& figures);
    // An API check run's results: each check that turned fail is a journal entry and a
    // notification (each run once).
    void api_checked(const app::ApiResults& results);
    // "knowledge feed: N (…)" when `why` (the batch) includes a new feed; else empty.
    std::string new_knowledge(const std::string& why) const;
    void notify(NotificationKind kind, const rules::Report& report,
                const std::function<void(NotificationInput&)>& adjust = {});

    sd_event* m_event;
    const ManagerOptions& m_options;
    app::DaemonConfig m_daemon_config;
    bool m_notify_enabled;
    LogSink& m_log;
    std::string m_state_dir;
    MachineWatchEvents& m_events;
    bool m_stopped = false;

    std::vector<std::unique_ptr<Watchers>> m_watchers;
    std::unique_ptr<LogMonitor> m_monitor;
    std::string m_journal_cursor; // until the monitor has one of its own
    RecentLogEvents m_log_events;
    DesktopNotifier m_notifier;
    EngineAlerts m_engine_alerts;
    LastKnownGoodRecorder m_known_good;
    SpeedWatch m_speed;
    std::optional<app::ApiResults> m_api_last; // the last API check run seen
    std::string m_engine_name;

    rules::Report m_next_report; // the "after reboot" view
    ReportedVerdicts m_reported;
    RecheckChanges m_changes;
};

} // namespace halo::checkd
