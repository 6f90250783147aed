#include "daemon/checkd/machine_watch.hpp"

#include "common/clock.hpp"
#include "daemon/atomic_file.hpp"
#include "daemon/checkd/api_news.hpp"
#include "daemon/checkd/callback_guard.hpp"
#include "daemon/checkd/journal_event.hpp"
#include "daemon/environment.hpp"
#include "daemon/feed_store.hpp"
#include "daemon/knowledge.hpp"
#include "rules/facts_diff.hpp"
#include "rules/rule_loader.hpp"
#include "rules/views.hpp"

#include <fmt/core.h>

#include <sys/wait.h>
#include <syslog.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>

namespace halo::checkd {

NotifyPolicy notify_policy(const app::NotifyConfig& c)
{
    NotifyPolicy p;
    p.enabled = c.enabled;
    p.min_severity = rules::severity_from_string(c.min_severity).value_or(rules::Severity::warning);
    return p;
}

MachineWatch::MachineWatch(sd_event* event, const ManagerOptions& options, const app::Config& config, LogSink& log,
                           std::string state_dir, MachineWatchEvents& events)
    : m_event(event), m_options(options), m_daemon_config(config.daemon), m_notify_enabled(config.notify.enabled),
      m_log(log), m_state_dir(std::move(state_dir)), m_events(events), m_notifier(notify_policy(config.notify)),
      m_known_good(event, log, m_state_dir, [this] { record_last_known_good(); })
{
    m_notifier.set_event(event);
    m_notifier.on_action([this](const ActionEvent& action) { open_notification_details(action); });
    m_speed.set_threshold(config.engine.regression_threshold);
    m_engine_name = config.engine.name;
}

MachineWatch::~MachineWatch() = default;

void MachineWatch::restore(const nlohmann::json& state)
{
    m_reported = reported_verdicts(state);
    if (state.contains("log_monitor") && state["log_monitor"].is_object()) {
        m_journal_cursor = state["log_monitor"].value("cursor", "");
    }
    if (state.contains("speed")) m_speed.restore(state["speed"]);
    // A fail the last run of the daemon reported is no news after a restart either.
    if (state.contains("engine") && state["engine"].is_object())
        m_api_last = app::api_results_from_json(state["engine"].value("api", nlohmann::json()));
}

void MachineWatch::configure(const app::Config& config)
{
    m_daemon_config = config.daemon;
    m_notify_enabled = config.notify.enabled;
    m_notifier.set_policy(notify_policy(config.notify));
    m_speed.set_threshold(config.engine.regression_threshold);
    m_engine_name = config.engine.name;
}

// ---- watchers ---------------------------------------------------------------------------------

std::vector<WatchPath> MachineWatch::own_paths() const
{
    // The daemon's own files are real paths, never under --root.
    std::vector<WatchPath> own;
    own.push_back({m_options.config_path, WatchCategory::config, WatchTrigger::content, {}});
    for (const std::string& r : m_options.rules) {
        std::error_code ec;
        if (std::filesystem::is_directory(r, ec))
            own.push_back({r, WatchCategory::rules, WatchTrigger::content, "*.toml"});
        else own.push_back({r, WatchCategory::rules, WatchTrigger::content, {}});
    }
    if (!m_options.no_dropins) {
        for (const std::string& d :
             rules::default_dropin_dirs("/", app::env_value("XDG_CONFIG_HOME"), app::env_value("HOME"))) {
            own.push_back({d, WatchCategory::rules, WatchTrigger::content, "*.toml"});
        }
    }
    // The knowledge feed `halo-check update` installs: `current` is replaced when a feed is.
    own.push_back(
        {app::feed_directory(m_state_dir).string(), WatchCategory::knowledge, WatchTrigger::content, "current"});
    // And the system's, where halo-check-update.timer installs it, for a daemon with its own.
    if (const std::filesystem::path system = app::system_state_dir(); system != m_state_dir)
        own.push_back(
            {app::feed_directory(system).string(), WatchCategory::knowledge, WatchTrigger::content, "current"});
    // --facts: the file stands for the machine.
    if (m_options.facts_path)
        own.push_back({*m_options.facts_path, WatchCategory::packages, WatchTrigger::content, {}});
    return own;
}

std::vector<WatchPath> MachineWatch::machine_paths() const
{
    probes::Host host(m_options.root);
    std::vector<WatchPath> machine;
    for (WatchPath& p : Watchers::default_paths(host)) {
        // Under a fixture root the rules and config the daemon loads are not the root's.
        if (m_options.root != "/" && (p.category == WatchCategory::rules || p.category == WatchCategory::config))
            continue;
        machine.push_back(std::move(p));
    }
    // Every user's rootless podman storage, as the containers probe reads it (the daemon's own
    // $HOME is only one of them when it runs as a system service).
    if (auto homes = host.list_dir("/home")) {
        for (const std::string& user : *homes) {
            for (WatchPath& p :
                 Watchers::container_storage_paths("/home/" + user + "/.local/share/containers/storage")) {
                machine.push_back(std::move(p));
            }
        }
    }
    return machine;
}

void MachineWatch::start_watching()
{
    if (m_options.no_watch || !m_daemon_config.watch) return;
    WatchOptions wo;
    wo.quiet_usec = static_cast<std::uint64_t>(m_daemon_config.watch_quiet.count()) * 1000;
    wo.max_delay_usec = std::max<std::uint64_t>(wo.quiet_usec * 5, 10'000'000);
    auto callback = [this](const WatchBatch& b) { on_batch(b); };
    m_watchers.push_back(std::make_unique<Watchers>(probes::Host("/"), own_paths(), callback, wo));
    if (!m_options.facts_path) {
        m_watchers.push_back(std::make_unique<Watchers>(probes::Host(m_options.root), machine_paths(), callback, wo));
    }
    for (auto& w : m_watchers) {
        if (auto ok = w->attach(m_event); !ok) m_log.daemon(LOG_WARNING, "watching for changes: " + ok.error().message);
        for (const std::string& e : w->errors()) m_log.daemon(LOG_WARNING, "watching for changes: " + e);
    }
}

void MachineWatch::on_batch(const WatchBatch& batch)
{
    if (m_stopped) return;
    const BatchPlan plan = plan_batch(batch);
    if (plan.record) m_log.record(*plan.record);
    for (auto& w : m_watchers) {
        for (const std::string& e : w->errors()) m_log.daemon(LOG_DEBUG, "watching for changes: " + e);
    }
    m_events.recheck(plan.why, plan.reload);
}

// ---- two views, changes, notifications ------------------------------------------------------------

std::string MachineWatch::new_knowledge(const std::string& why) const
{
    if (why.find("knowledge") == std::string::npos) return {};
    return app::feed_version_line(app::find_installed_knowledge(m_state_dir, app::system_state_dir()));
}

void MachineWatch::evaluated(const Evaluation& e)
{
    const rules::Facts& facts = m_events.current_facts();
    const rules::Report& now = m_events.current_report();
    m_next_report = rules::evaluate(e.rules, rules::next_boot_view(facts), {});
    if (e.previous) {
        if (auto changes = recheck_changes(*e.previous, facts, e.why, now_rfc3339())) m_changes = std::move(*changes);
    }
    if (e.reloaded) m_log.record(reload_record(e.reload_error, e.rules.rules.size()));
    if (m_monitor) {
        if (e.reloaded && e.reload_error.empty()) m_monitor->set_rules(e.rules);
        m_monitor->set_facts(facts);
    }
    const std::string kernel_next = facts.get("kernel.next_boot.release").value_or("");
    for (const ViewNews& news : view_news(m_reported, now, m_next_report)) {
        const rules::Report& report = news.view == View::now ? now : m_next_report;
        m_log.record(view_record(news, report, e.why, kernel_next));
        const std::string knowledge = e.reloaded && e.reload_error.empty() ? new_knowledge(e.why) : std::string();
        notify(news.notification, report, [&news, &knowledge](NotificationInput& in) {
            in.previous = news.previous;
            in.new_rule_ids = news.new_findings;
            in.knowledge = knowledge;
        });
    }
    m_reported = {reported_view(now), reported_view(m_next_report)};
}

void MachineWatch::notify(NotificationKind kind, const rules::Report& report,
                          const std::function<void(NotificationInput&)>& adjust)
{
    const rules::Facts& facts = m_events.current_facts();
    NotificationInput in = describe(kind, facts, report);
    if (const auto& last = m_known_good.last()) {
        in.diff = rules::diff_facts(last->facts, facts);
        in.last_known_good_recorded = last->recorded;
    }
    const std::string details = m_state_dir + "/report.txt";
    if (app::write_file_atomically(details, details_report(m_events.current_report(), m_next_report, facts, m_changes),
                                   0600)) {
        in.details_path = details;
    }
    if (adjust) adjust(in);
    const Notification n = compose_notification(in);
    const DesktopNotifier::Outcome out = m_notifier.send(n);
    if (out.log) m_log.daemon(LOG_NOTICE, "notifications: " + *out.log);
    if (out.kind == DesktopNotifier::Outcome::Kind::sent) {
        m_log.daemon(LOG_INFO, fmt::format("notified the desktop: {}", n.summary), {{"HALO_NOTIFICATION", n.topic}});
    }
}

void MachineWatch::open_notification_details(const ActionEvent& action)
{
    if (action.details_path.empty() || (action.action != "default" && action.action != "details")) return;
    auto pid = open_details(action.details_path);
    if (!pid) {
        m_log.daemon(LOG_WARNING, fmt::format("notifications: {}; the report stays in '{}'", pid.error().message,
                                              action.details_path));
        return;
    }
    m_log.daemon(LOG_INFO, fmt::format("notifications: opening '{}' with xdg-open (pid {}) for \"{}\"",
                                       action.details_path, *pid, action.topic));
    // The opener is reaped by the loop like the engine is; a zombie per click would pile up.
    const int r = sd_event_add_child(m_event, nullptr, *pid, WEXITED, &MachineWatch::on_opener_exit, this);
    if (r < 0) {
        m_log.daemon(LOG_WARNING, fmt::format("notifications: Failed to watch xdg-open (pid {}): {}; waiting for it",
                                              *pid, std::strerror(-r)));
        ::waitpid(*pid, nullptr, 0);
    }
}

int MachineWatch::on_opener_exit(sd_event_source* source, const siginfo_t* info, void* userdata) noexcept
{
    // A floating source: disabling it after the one exit it waits for lets sd-event free it.
    (void)sd_event_source_set_enabled(source, SD_EVENT_OFF);
    auto* self = static_cast<MachineWatch*>(userdata);
    if (info->si_code != CLD_EXITED || info->si_status != 0) {
        return guard_callback("machine_watch.on_opener_exit", 0, [&] {
            self->m_log.daemon(LOG_WARNING,
                               fmt::format("notifications: xdg-open (pid {}) {} {}; the report was not shown",
                                           info->si_pid,
                                           info->si_code == CLD_EXITED ? "exited with status" : "was killed by signal",
                                           info->si_status));
            return 0;
        });
    }
    return 0;
}

// ---- kernel log ---------------------------------------------------------------------------------

void MachineWatch::follow_kernel_log(const rules::RuleSet& rules)
{
    LogMonitorOptions o;
    o.journal = m_options.journal;
    o.journal_paths = m_options.journal_paths;
    if (o.journal == LogMonitorOptions::Journal::files || o.journal == LogMonitorOptions::Journal::directory) {
        o.boot_id = "any"; // a copied journal is another boot's
    }
    // Resume after the last entry reported; the first run reads this boot's kernel log from its
    // start, so an early GPU fault is not missed.
    o.start_cursor = m_journal_cursor.empty() ? "head" : m_journal_cursor;
    m_monitor = std::make_unique<LogMonitor>(
        rules, m_events.current_facts(), [this](const LogEvent& e) { on_log_event(e); }, o);
    if (auto ok = m_monitor->attach(m_event); !ok) {
        m_log.daemon(LOG_WARNING,
                     "following the kernel log: " + ok.error().message + "; matching the engine's output only");
    }
}

void MachineWatch::on_log_event(const LogEvent& event)
{
    if (m_monitor) m_journal_cursor = m_monitor->cursor();
    m_log.record(journal_record(event));
    m_log_events.add(event);
    if (event.gpu_reset) m_events.gpu_reset(gpu_reset_reason(event));
    notify(log_event_notification(event), m_events.current_report(),
           [&event](NotificationInput& in) { describe_log_event(in, event); });
    m_events.watch_state_changed();
}

void MachineWatch::engine_line(std::string_view line)
{
    // The supervisor matches the lines against crash patterns; the log monitor reports the known
    // errors that do not crash it (coalesced, with the fix).
    if (m_monitor) m_monitor->feed_engine_line(line);
}

void MachineWatch::stop()
{
    m_stopped = true;
    if (m_monitor) m_monitor->flush();
}

// ---- engine transitions, last known good -----------------------------------------------------------

void MachineWatch::engine_changed(const app::EngineStatus& status)
{
    m_known_good.engine_changed(status, m_daemon_config.last_known_good_after);
    const std::optional<NotificationKind> kind = m_engine_alerts.on_state(status.state);
    if (kind == NotificationKind::engine_given_up) {
        notify(*kind, m_events.current_report(), [&status](NotificationInput& in) { in.detail = status.reason; });
    } else if (kind) {
        notify(*kind, m_events.current_report());
    }
    if (status.smoke) speed_measured(*status.smoke);
    if (status.api) api_checked(*status.api);
}

void MachineWatch::api_checked(const app::ApiResults& results)
{
    if (m_api_last && m_api_last->at == results.at) return; // this run was seen
    const std::vector<app::ApiCheck> failed = app::api_new_failures(m_api_last ? &*m_api_last : nullptr, results);
    m_api_last = results;
    for (const app::ApiCheck& c : failed) {
        m_log.record(api_failure_record(c, m_engine_name));
        notify(NotificationKind::api_check_failed, m_events.current_report(), [&c](NotificationInput& in) {
            in.detail = fmt::format("The {} check failed: {}", c.id, c.detail);
            in.fix = c.fix;
        });
    }
}

void MachineWatch::speed_measured(const app::SmokeFigures& figures)
{
    const auto& last = m_known_good.last();
    auto news = m_speed.smoke(figures, m_events.current_facts(), last ? &last->facts : nullptr);
    if (!news) return;
    m_log.record(regression_record(*news));
    notify(NotificationKind::speed_regression, m_events.current_report(), [&news](NotificationInput& in) {
        in.detail = news->message;
        // What changed since the last good figures, not since the last known good machine.
        if (news->diff) in.diff = news->diff;
    });
}

void MachineWatch::record_last_known_good()
{
    if (m_known_good.record(m_events.current_facts(), m_events.current_report().verdict))
        m_events.watch_state_changed();
}

// ---- state file -----------------------------------------------------------------------------------

nlohmann::ordered_json MachineWatch::state_json() const
{
    const rules::Facts& facts = m_events.current_facts();
    nlohmann::ordered_json j;
    j["next_boot"] = next_boot_json(m_next_report, facts);
    j["changes"] = changes_json(m_changes);
    j["last_known_good"] = last_known_good_json(m_known_good.last(), facts);
    j["log_events"] = m_log_events.json();
    j["speed"] = m_speed.json();
    nlohmann::ordered_json lm{{"cursor", m_monitor ? m_monitor->cursor() : m_journal_cursor}};
    if (m_monitor) {
        lm["lines_seen"] = m_monitor->lines_seen();
        lm["journal_entries_read"] = m_monitor->journal_entries_read();
        lm["errors"] = m_monitor->errors();
    }
    j["log_monitor"] = lm;
    std::uint64_t batches = 0;
    nlohmann::ordered_json errors = nlohmann::ordered_json::array();
    for (const auto& w : m_watchers) {
        batches += w->batches_delivered();
        for (const std::string& e : w->errors()) errors.push_back(e);
    }
    j["watch"] = {{"enabled", !m_watchers.empty()}, {"batches", batches}, {"errors", errors}};
    j["notify"] = {{"enabled", m_notify_enabled}, {"available", m_notifier.available()}};
    return j;
}

} // namespace halo::checkd
