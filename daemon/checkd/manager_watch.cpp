// The manager's second job: watch the machine, judge two views (now and after reboot),
// follow the kernel log, tell the desktop, and remember the last known good configuration.
// Wiring only: the parts live in watchers, log_monitor, journal_event, notifier/notification and
// last_known_good.

#include "common/clock.hpp"
#include "daemon/checkd/manager.hpp"
#include "daemon/checkd/callback_guard.hpp"
#include "daemon/atomic_file.hpp"
#include "daemon/environment.hpp"

#include "daemon/report_output.hpp"
#include "rules/rule_loader.hpp"
#include "rules/views.hpp"

#include <fmt/core.h>

#include <syslog.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>

namespace halo::checkd {

namespace {

std::string first_rule(const rules::Report& report)
{
    for (const rules::Finding& f : report.findings) {
        if (f.rule) return f.rule->id;
    }
    return {};
}

int priority_of(rules::Verdict v)
{
    switch (v) {
    case rules::Verdict::broken: return LOG_ERR;
    case rules::Verdict::warning: return LOG_WARNING;
    default: return LOG_NOTICE;
    }
}

nlohmann::ordered_json findings_json(const rules::Report& report)
{
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const rules::Finding& f : report.findings) {
        if (f.rule) {
            out.push_back({{"id", f.rule->id},
                           {"severity", std::string(rules::to_string(f.rule->severity))},
                           {"title", f.rule->title}});
        }
    }
    return out;
}

std::optional<rules::Verdict> verdict_from(const nlohmann::json& j, const char* table)
{
    if (!j.contains(table) || !j[table].is_object()) return std::nullopt;
    const std::string v = j[table].value("verdict", "");
    for (rules::Verdict x : {rules::Verdict::ok, rules::Verdict::warning, rules::Verdict::broken, rules::Verdict::unknown}) {
        if (rules::to_string(x) == v) return x;
    }
    return std::nullopt;
}

std::string usec_text(std::uint64_t usec)
{
    return rfc3339_utc(static_cast<std::time_t>(usec / 1'000'000));
}

} // namespace

// ---- restored state ---------------------------------------------------------------------------

void Manager::restore_watch_state(const nlohmann::json& old)
{
    // The verdicts the last run reported, so a daemon restart does not notify again.
    m_prev_now = verdict_from(old, "verdict");
    m_prev_next = verdict_from(old, "next_boot");
    if (old.contains("log_monitor") && old["log_monitor"].is_object()) {
        m_journal_cursor = old["log_monitor"].value("cursor", "");
    }
}

// ---- watchers ---------------------------------------------------------------------------------

std::vector<WatchPath> Manager::watch_paths() const
{
    // The daemon's own files are real paths, never under --root.
    std::vector<WatchPath> own;
    own.push_back({m_options.config_path, WatchCategory::config, WatchTrigger::content, {}});
    for (const std::string& r : m_options.rules) {
        std::error_code ec;
        if (std::filesystem::is_directory(r, ec)) own.push_back({r, WatchCategory::rules, WatchTrigger::content, "*.toml"});
        else own.push_back({r, WatchCategory::rules, WatchTrigger::content, {}});
    }
    if (!m_options.no_dropins) {
        for (const std::string& d : rules::default_dropin_dirs("/", app::env_value("XDG_CONFIG_HOME"), app::env_value("HOME"))) {
            own.push_back({d, WatchCategory::rules, WatchTrigger::content, "*.toml"});
        }
    }
    // --facts: the file stands for the machine.
    if (m_options.facts_path) own.push_back({*m_options.facts_path, WatchCategory::packages, WatchTrigger::content, {}});
    return own;
}

void Manager::attach_watchers()
{
    if (m_options.no_watch || !m_config.daemon.watch) return;
    WatchOptions wo;
    wo.quiet_usec = static_cast<std::uint64_t>(m_config.daemon.watch_quiet.count()) * 1000;
    wo.max_delay_usec = std::max<std::uint64_t>(wo.quiet_usec * 5, 10'000'000);
    auto callback = [this](const WatchBatch& b) { on_watch_batch(b); };
    m_watchers.push_back(std::make_unique<Watchers>(probes::Host("/"), watch_paths(), callback, wo));
    if (!m_options.facts_path) {
        probes::Host host(m_options.root);
        std::vector<WatchPath> machine;
        for (WatchPath& p : Watchers::default_paths(host)) {
            // Under a fixture root the rules and config the daemon loads are not the root's.
            if (m_options.root != "/" && (p.category == WatchCategory::rules || p.category == WatchCategory::config)) continue;
            machine.push_back(std::move(p));
        }
        // Every user's rootless podman storage, as the containers probe reads it (the daemon's
        // own $HOME is only one of them when it runs as a system service).
        if (auto homes = host.list_dir("/home")) {
            for (const std::string& user : *homes) {
                for (WatchPath& p : Watchers::container_storage_paths("/home/" + user + "/.local/share/containers/storage")) {
                    machine.push_back(std::move(p));
                }
            }
        }
        m_watchers.push_back(std::make_unique<Watchers>(host, std::move(machine), callback, wo));
    }
    for (auto& w : m_watchers) {
        if (auto ok = w->attach(m_event.get()); !ok) m_log.daemon(LOG_WARNING, "watching for changes: " + ok.error().message);
        for (const std::string& e : w->errors()) m_log.daemon(LOG_WARNING, "watching for changes: " + e);
    }
}

void Manager::on_watch_batch(const WatchBatch& batch)
{
    if (m_stopping) return;
    const bool reload = batch.categories.contains(WatchCategory::rules) || batch.categories.contains(WatchCategory::config);
    std::string paths;
    for (const std::string& p : batch.paths) paths += (paths.empty() ? "" : " ") + p;
    const std::string why = fmt::format("changed: {}", batch.categories.str());
    if (!reload || batch.categories.size() > 1) {
        JournalRecord r;
        r.kind = JournalEventKind::system_changed;
        r.priority = LOG_INFO;
        r.message = fmt::format("The machine changed ({}); checking again", batch.categories.str());
        r.extra = {{"HALO_CATEGORIES", batch.categories.str()}, {"HALO_PATHS", paths}};
        m_log.record(r);
    }
    for (auto& w : m_watchers) {
        for (const std::string& e : w->errors()) m_log.daemon(LOG_DEBUG, "watching for changes: " + e);
    }
    evaluate(why, reload);
}

// ---- two views, diff, events ---------------------------------------------------------------------

void Manager::after_evaluation(const std::string& why, const rules::Facts* previous, bool reload_failed, bool reloaded)
{
    const rules::Facts next_facts = rules::next_boot_view(m_facts);
    m_next_report = rules::evaluate(*m_rules, next_facts, {});

    if (previous) {
        const rules::FactsDiff d = rules::diff_facts(*previous, m_facts);
        if (!d.empty()) {
            m_changes = rules::format_diff_lines(d);
            m_changes_at = now_rfc3339();
            m_changes_why = why;
        }
    }
    if (reloaded) {
        JournalRecord r;
        r.kind = reload_failed ? JournalEventKind::rules_rejected : JournalEventKind::rules_reloaded;
        r.priority = reload_failed ? LOG_ERR : LOG_INFO;
        r.message = reload_failed ? "Reload failed; the last good rules and configuration stay in use: " + m_reload_error
                                  : fmt::format("Rules and configuration reloaded ({} rules)", m_rules->rules.size());
        m_log.record(r);
    }
    if (m_monitor) {
        if (reloaded && !reload_failed) m_monitor->set_rules(*m_rules);
        m_monitor->set_facts(m_facts);
    }

    const rules::Verdict now = m_report.verdict;
    const rules::Verdict next = m_next_report.verdict;
    const bool now_changed = m_prev_now ? *m_prev_now != now : now != rules::Verdict::ok;
    const bool next_changed = m_prev_next ? *m_prev_next != next : next != rules::Verdict::ok;
    if (now_changed) {
        JournalRecord r;
        r.kind = JournalEventKind::verdict_changed;
        r.priority = priority_of(now);
        r.rule = first_rule(m_report);
        r.verdict = std::string(rules::to_string(now));
        r.message = fmt::format("Verdict now {} (was {}){}", r.verdict,
                                m_prev_now ? std::string(rules::to_string(*m_prev_now)) : "not known",
                                r.rule.empty() ? "" : ": " + r.rule);
        r.extra = {{"HALO_VIEW", "now"}, {"HALO_WHY", why}};
        m_log.record(r);
        notify(NotificationKind::verdict_changed, m_facts, m_report,
               [this](NotificationInput& in) { in.previous = m_prev_now; });
    }
    if (next_changed) {
        JournalRecord r;
        r.kind = JournalEventKind::next_boot_changed;
        r.priority = priority_of(next);
        r.rule = first_rule(m_next_report);
        r.verdict = std::string(rules::to_string(next));
        r.message = fmt::format("After a reboot the verdict will be {} (was {}){}", r.verdict,
                                m_prev_next ? std::string(rules::to_string(*m_prev_next)) : "not known",
                                r.rule.empty() ? "" : ": " + r.rule);
        r.extra = {{"HALO_VIEW", "next_boot"},
                   {"HALO_WHY", why},
                   {"HALO_KERNEL_NEXT", m_facts.get("kernel.next_boot.release").value_or("")}};
        m_log.record(r);
        // The after-reboot notification is for broken, and for "safe again" once it was.
        const bool was_bad = m_prev_next && *m_prev_next != rules::Verdict::ok;
        if (next != rules::Verdict::ok || was_bad) {
            notify(NotificationKind::broken_after_reboot, m_facts, m_next_report,
                   [this](NotificationInput& in) { in.previous = m_prev_next; });
        }
    }
    m_prev_now = now;
    m_prev_next = next;
}

void Manager::notify(NotificationKind kind, const rules::Facts& facts, const rules::Report& report,
                     const std::function<void(NotificationInput&)>& adjust)
{
    NotificationInput in = describe(kind, facts, report);
    if (m_lkg) {
        in.diff = rules::diff_facts(m_lkg->facts, facts);
        in.last_known_good_recorded = m_lkg->recorded;
    }
    // "Show details" opens the full report: both views, as `halo-check check` prints them.
    const std::string details = m_store.dir() + "/report.txt";
    std::string text = "Now:\n" + app::format_report_text(m_report, m_facts, {}) + "\nAfter a reboot:\n" +
                       app::format_report_text(m_next_report, rules::next_boot_view(m_facts), {});
    if (!m_changes.empty()) {
        text += "\nChanged at the last re-check (" + m_changes_at + "):\n";
        for (const std::string& l : m_changes) text += "  " + l + "\n";
    }
    if (app::write_file_atomically(details, text, 0600)) in.details_path = details;
    if (adjust) adjust(in);
    const Notification n = compose_notification(in);
    const DesktopNotifier::Outcome out = m_notifier.send(n);
    if (out.log) m_log.daemon(LOG_NOTICE, "notifications: " + *out.log);
    if (out.kind == DesktopNotifier::Outcome::Kind::sent) {
        m_log.daemon(LOG_INFO, fmt::format("notified the desktop: {}", n.summary), {{"HALO_NOTIFICATION", n.topic}});
    }
}

// ---- kernel log ---------------------------------------------------------------------------------

void Manager::attach_log_monitor()
{
    LogMonitorOptions o;
    o.journal = m_options.journal;
    o.journal_paths = m_options.journal_paths;
    if (o.journal == LogMonitorOptions::Journal::files || o.journal == LogMonitorOptions::Journal::directory) {
        o.boot_id = "any"; // a copied journal is another boot's
    }
    // Resume after the last entry reported; the first run reads this boot's kernel log from
    // its start, so an early GPU fault is not missed.
    o.start_cursor = m_journal_cursor.empty() ? "head" : m_journal_cursor;
    m_monitor = std::make_unique<LogMonitor>(*m_rules, m_facts, [this](const LogEvent& e) { on_log_event(e); }, o);
    if (auto ok = m_monitor->attach(m_event.get()); !ok) {
        m_log.daemon(LOG_WARNING, "following the kernel log: " + ok.error().message + "; matching the engine's output only");
    }
}

void Manager::on_log_event(const LogEvent& event)
{
    m_journal_cursor = m_monitor ? m_monitor->cursor() : m_journal_cursor;
    m_log.record(journal_record(event));
    nlohmann::ordered_json j{{"pattern", event.pattern_id},
                             {"severity", std::string(rules::to_string(event.severity))},
                             {"title", event.title},
                             {"count", event.count},
                             {"first", usec_text(event.first_usec)},
                             {"last", usec_text(event.last_usec)},
                             {"source", std::string(to_string(event.source))},
                             {"attributed", event.attributed},
                             {"gpu_reset", event.gpu_reset},
                             {"line", event.first_line}};
    m_log_events.push_back(std::move(j));
    while (m_log_events.size() > 20) m_log_events.pop_front();
    if (event.gpu_reset && m_supervisor->process_running()) {
        m_supervisor->mark_unhealthy(fmt::format("GPU reset in the kernel log: {}", event.title));
    }
    const NotificationKind kind = event.gpu_reset ? NotificationKind::gpu_reset : NotificationKind::log_event;
    notify(kind, m_facts, m_report, [&event](NotificationInput& in) {
        in.detail = event.count > 1 ? fmt::format("{} ({} lines)", event.title, event.count) : event.title;
        in.fix = event.fix;
        in.event_severity = event.severity;
    });
    if (m_evaluated) publish();
}

// ---- engine transitions: notifications, last known good ------------------------------------------

void Manager::engine_events(const app::EngineStatus& status)
{
    const app::EngineState s = status.state;
    const bool smoke_ok = status.smoke && status.smoke->ok;
    arm_last_known_good(s == app::EngineState::ready && smoke_ok);
    if (m_notified_state == s) return;
    m_notified_state = s;
    switch (s) {
    case app::EngineState::unhealthy:
    case app::EngineState::backoff:
    case app::EngineState::failed: m_engine_had_failure = true; break;
    case app::EngineState::given_up:
        m_engine_had_failure = true;
        notify(NotificationKind::engine_given_up, m_facts, m_report,
               [&status](NotificationInput& in) { in.detail = status.reason; });
        break;
    case app::EngineState::ready:
        if (m_engine_had_failure) {
            m_engine_had_failure = false;
            notify(NotificationKind::engine_ready_again, m_facts, m_report);
        }
        break;
    default: break;
    }
}

void Manager::arm_last_known_good(bool ready_and_smoke_ok)
{
    if (!ready_and_smoke_ok) {
        m_lkg_timer.reset();
        return;
    }
    if (m_lkg_timer) return;
    sd_event_source* s = nullptr;
    const std::uint64_t after = static_cast<std::uint64_t>(m_config.daemon.last_known_good_after.count()) * 1000;
    if (sd_event_add_time_relative(m_event.get(), &s, CLOCK_MONOTONIC, after, 0, &Manager::on_lkg_timer, this) >= 0) {
        m_lkg_timer.reset(s);
    }
}

int Manager::on_lkg_timer(sd_event_source*, uint64_t, void* userdata) noexcept
{
    // Nothing to recover: the file is replaced atomically, so a failure keeps the old record.
    return guard_callback("manager.on_lkg_timer", 0, [&] { static_cast<Manager*>(userdata)->record_last_known_good(); });
}

void Manager::record_last_known_good()
{
    // Only a machine that passes its checks is a good example to return to.
    if (m_report.verdict == rules::Verdict::broken) return;
    if (auto ok = app::store_last_known_good(m_store.dir(), m_facts); !ok) {
        m_log.daemon(LOG_WARNING, ok.error().message);
        return;
    }
    if (auto lkg = app::load_last_known_good(m_store.dir())) m_lkg = std::move(*lkg);
    m_log.daemon(LOG_INFO, fmt::format("recorded the last known good configuration in '{}'",
                                       app::last_known_good_path(m_store.dir()).string()));
    publish();
}

nlohmann::ordered_json Manager::watch_state_json() const
{
    nlohmann::ordered_json j;
    j["next_boot"] = {{"verdict", std::string(rules::to_string(m_next_report.verdict))},
                      {"kernel", m_facts.get("kernel.next_boot.release").value_or("")},
                      {"findings", findings_json(m_next_report)}};
    j["changes"] = {{"at", m_changes_at.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(m_changes_at)},
                    {"why", m_changes_why},
                    {"lines", m_changes}};
    if (m_lkg) {
        nlohmann::ordered_json lines = nlohmann::ordered_json::array();
        for (const std::string& l : rules::format_diff_lines(rules::diff_facts(m_lkg->facts, m_facts))) lines.push_back(l);
        j["last_known_good"] = {{"recorded", m_lkg->recorded}, {"path", m_lkg->path.string()}, {"changes", lines}};
    } else {
        j["last_known_good"] = nullptr;
    }
    nlohmann::ordered_json events = nlohmann::ordered_json::array();
    for (const auto& e : m_log_events) events.push_back(e);
    j["log_events"] = events;
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
    j["notify"] = {{"enabled", m_config.notify.enabled}, {"available", m_notifier.available()}};
    return j;
}

} // namespace halo::checkd
