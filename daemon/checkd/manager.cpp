#include "daemon/checkd/manager.hpp"

#include "daemon/knowledge.hpp"
#include "rules/feed_file.hpp"

#include "common/clock.hpp"
#include "common/fatal.hpp"
#include "daemon/checkd/callback_guard.hpp"
#include "daemon/checkd/engine_process.hpp"
#include "daemon/checkd/export_files.hpp"
#include "daemon/checkd/output_pacing.hpp"
#include "daemon/checkd/state_lock.hpp"
#include "daemon/control_outcome.hpp"
#include "daemon/engine_api_results.hpp"
#include "daemon/environment.hpp"
#include "daemon/redacted_command.hpp"
#include "probes/host.hpp"
#include "probes/runner.hpp"
#include "rules/facts_io.hpp"
#include "rules/rule_loader.hpp"

#include <fmt/core.h>
#include <systemd/sd-daemon.h>

#include <signal.h>
#include <sys/signalfd.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>

namespace halo::checkd {

namespace {

// What a probe or the engine printed may be invalid UTF-8: replaced, never a throw, wherever the
// state is dumped.
constexpr auto k_replace = nlohmann::ordered_json::error_handler_t::replace;

std::string first_finding(const rules::Report& report, rules::Severity at_least)
{
    for (const rules::Finding& f : report.findings) {
        if (f.rule && f.rule->severity >= at_least) return f.rule->id;
    }
    for (const rules::Undecided& u : report.undecided) {
        if (u.rule && u.rule->severity >= at_least) return u.rule->id + " (undecided)";
    }
    return {};
}

// The facts without the snapshot: what changed on the machine, not when we looked.
std::string fingerprint(const rules::Facts& facts)
{
    std::string out;
    for (const auto& [k, f] : facts.all()) out += k + '=' + f.value + '\n';
    for (const auto& [k, r] : facts.unknown()) out += k + "?\n";
    return out;
}

// The name a failure is reported under says which signal it was handling.
std::string_view signal_callback_name(int signo) noexcept
{
    switch (signo) {
    case SIGTERM: return "manager.on_signal(SIGTERM)";
    case SIGINT: return "manager.on_signal(SIGINT)";
    case SIGHUP: return "manager.on_signal(SIGHUP)";
    default: return "manager.on_signal";
    }
}

// New engine output alone writes the state file at most this often.
constexpr std::chrono::seconds k_output_write_interval{1};

// STOPPING=1 once: when the shutdown begins (`sent` is then set), or on the way out of run()
// when it ended otherwise (an exception, the loop failing).
struct StoppingGuard {
    const bool& sent;
    ~StoppingGuard()
    {
        if (!sent) sd_notify(0, "STOPPING=1");
    }
};

} // namespace

Decision decide(app::Policy policy, const rules::Report& report)
{
    using rules::Verdict;
    const std::string verdict(rules::to_string(report.verdict));
    switch (policy) {
    case app::Policy::refuse_broken:
        if (report.verdict == Verdict::broken)
            return {false, "broken: " + first_finding(report, rules::Severity::broken)};
        return {true, {}};
    case app::Policy::refuse_warning:
        if (report.verdict == Verdict::ok) return {true, {}};
        return {false, fmt::format("{}: {}", verdict, first_finding(report, rules::Severity::warning))};
    case app::Policy::known_good_only:
        if (report.verdict == Verdict::broken)
            return {false, "broken: " + first_finding(report, rules::Severity::broken)};
        if (!report.known_good)
            return {false, "no known-good combination matches this machine (policy known-good-only)"};
        return {true, {}};
    }
    return {true, {}};
}

rules::Facts with_engine_facts(const rules::Facts& judged, const rules::Facts& running)
{
    const auto engine = [](std::string_view key) { return key.starts_with("engine."); };
    rules::Facts out;
    out.snapshot = judged.snapshot;
    for (const rules::Facts* from : {&judged, &running}) {
        const bool want_engine = from == &running;
        for (const auto& [key, fact] : from->all()) {
            if (engine(key) == want_engine) out.set(key, fact.value, fact.source);
        }
        for (const auto& [pattern, reason] : from->unknown()) {
            if (engine(pattern) == want_engine) out.mark_unknown(pattern, reason);
        }
        for (const auto& [probe, status] : from->probes()) {
            if ((probe == "engine") == want_engine) out.set_probe_status(probe, status);
        }
    }
    return out;
}

std::string kept_running_note(std::string_view refusal, bool new_command)
{
    if (!new_command) return fmt::format("verdict now {} (engine kept running; stop_on_refusal = false)", refusal);
    return fmt::format("verdict now {} for the new engine command (engine kept running on the previous command; "
                       "stop_on_refusal = false)",
                       refusal);
}

Manager::Manager(ManagerOptions options, app::Config config)
    : m_options(std::move(options)), m_config(std::move(config)), m_log(m_options.journal_export),
      m_callback_log(m_log),
      m_store(m_options.state_dir ? *m_options.state_dir : m_config.daemon.state_dir.value_or(app::default_state_dir()))
{
    m_started_at = now_rfc3339();
    warn_ignored_env();
    sd_event* e = nullptr;
    int r = sd_event_new(&e);
    if (r < 0) throw Fatal(fmt::format("Failed to create the event loop: {}", std::strerror(-r)));
    m_event.reset(e);
    // WATCHDOG=1 from the loop itself: if the loop wedges, systemd notices and restarts us.
    auto pinger = WatchdogPinger::start(e);
    if (!pinger) throw Fatal(pinger.error().message);
    m_watchdog = std::move(*pinger);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
        sd_event_source* s = nullptr;
        r = sd_event_add_signal(e, &s, sig, &Manager::on_signal, this);
        if (r < 0) throw Fatal(fmt::format("Failed to watch signal {}: {}", sig, std::strerror(-r)));
        m_signal_sources.emplace_back(s);
    }
    if (auto ok = m_store.prepare(); !ok) throw Fatal(ok.error().message);
    auto lock = lock_state_dir(m_store.lock_path());
    if (!lock) throw Fatal(lock.error().message);
    m_lock = std::move(*lock);
    m_watch = std::make_unique<MachineWatch>(e, m_options, m_config, m_log, m_store.dir(),
                                             static_cast<MachineWatchEvents&>(*this));
    auto http = HttpClient::create(e);
    if (!http) throw Fatal(http.error().message);
    m_http = std::move(*http);
    m_supervisor = std::make_unique<Supervisor>(e, *m_http, m_log, static_cast<SupervisorEvents&>(*this));
    m_supervisor->configure(m_config.engine);
    restore_state(e);
    std::string error;
    auto set = std::make_shared<rules::RuleSet>();
    if (!load_rules_into(*set, error)) throw Fatal(error);
    m_rules = set;
    auto control = ControlServer::create(
        e, m_store.socket_path(), m_log,
        [this](std::uint64_t id, ControlVerb verb, const ucred& peer) { on_control(id, verb, peer); });
    if (!control) throw Fatal(control.error().message);
    m_control = std::move(*control);
}

Manager::~Manager() = default;

// The last good smoke figures survive a daemon restart, so a slowdown stays visible. A state file
// the daemon cannot use (another version's, hand-edited, not a regular file) must not keep it from
// starting, which Restart=on-failure would repeat forever: it is set aside and the daemon starts
// fresh.
void Manager::restore_state(sd_event* e)
{
    auto old = m_store.read();
    std::string problem;
    if (!old) {
        if (old.error().errno_value == ENOENT) return;
        problem = old.error().message;
    } else {
        try {
            if (old->contains("engine") && (*old)["engine"].is_object()) {
                m_supervisor->set_last_good_smoke(
                    app::smoke_from_json((*old)["engine"].value("smoke_last_good", nlohmann::json())));
            }
            m_watch->restore(*old);
            return;
        } catch (const nlohmann::json::exception& ex) {
            problem = fmt::format("Failed to read state file '{}': {}", m_store.path(), ex.what());
        }
        // Half restored is not fresh: a new watch and no old smoke figures.
        m_supervisor->set_last_good_smoke(std::nullopt);
        m_watch.reset();
        m_watch = std::make_unique<MachineWatch>(e, m_options, m_config, m_log, m_store.dir(),
                                                 static_cast<MachineWatchEvents&>(*this));
    }
    auto aside = m_store.set_aside(std::time(nullptr));
    m_log.daemon(LOG_WARNING, aside ? fmt::format("{}; set aside as '{}', starting fresh", problem, *aside)
                                    : fmt::format("{}; starting fresh. {}", problem, aside.error().message));
}

bool Manager::load_rules_into(rules::RuleSet& out, std::string& error)
{
    rules::RuleSources sources;
    if (!m_options.no_dropins)
        sources.dropin_dirs =
            rules::default_dropin_dirs("/", app::env_value("XDG_CONFIG_HOME"), app::env_value("HOME"));
    sources.extra = m_options.rules;
    // The newest whole feed `halo-check update` installed in this daemon's state directory or the
    // system's, with feed.expired while it has expired: the knowledge `halo-check check` uses.
    const app::InstalledKnowledge installed =
        app::find_installed_knowledge(m_store.directory(), app::system_state_dir());
    for (const std::string& w : installed.warnings) m_log.daemon(LOG_WARNING, w);
    rules::LoadedRules loaded = app::load_knowledge(sources, installed, app::now_seconds()).loaded;
    if (loaded.has_errors()) {
        for (const rules::Diagnostic& d : loaded.diagnostics) {
            if (d.level == rules::Diagnostic::Level::error) {
                if (!error.empty()) error += "; ";
                error += d.message;
            }
        }
        error = "Failed to load the rules: " + error;
        return false;
    }
    out = std::move(loaded.rules);
    return true;
}

void Manager::warn_ignored_env()
{
    for (const std::string& name : ignored_overrides(m_config.engine.env)) {
        m_log.daemon(LOG_WARNING,
                     fmt::format("{}: [engine.env] {} is ignored: it belongs to halo-checkd's own unit and "
                                 "never reaches the engine; remove it from the configuration",
                                 m_config.path, name));
    }
}

void Manager::evaluate(const std::string& why, bool reload_files, std::function<void()> then)
{
    if (m_check) {
        // One probe run at a time; what is asked for meanwhile is one more check after it.
        if (!m_next_check) m_next_check = Check{};
        Check& next = *m_next_check;
        next.why += (next.why.empty() ? "" : "; ") + why;
        next.reload = next.reload || reload_files;
        if (then) next.then.push_back(std::move(then));
        return;
    }
    Check check{why, reload_files, {}};
    if (then) check.then.push_back(std::move(then));
    begin_check(std::move(check));
}

void Manager::begin_check(Check check)
{
    std::vector<std::string> problems;
    if (check.reload) {
        auto config = app::load_config(m_options.config_path);
        if (config) {
            // The supervisor takes the engine's part once the verdict on it is known.
            m_config = std::move(*config);
            warn_ignored_env();
            m_watch->configure(m_config);
        } else {
            problems.push_back(config.error().message + "; running on the last good config");
        }
        std::string error;
        auto set = std::make_shared<rules::RuleSet>();
        if (load_rules_into(*set, error)) m_rules = set;
        else problems.push_back(error + "; running on the last good rules");
    }
    m_check = std::move(check);
    m_check_problems = std::move(problems);

    if (m_options.facts_path) {
        rules::Facts facts;
        auto read = rules::load_facts_file(*m_options.facts_path);
        if (read) {
            facts = std::move(*read);
        } else {
            m_check_problems.push_back(read.error().message + "; judging the last facts");
            facts = m_facts;
        }
        finish_check(std::move(facts));
        return;
    }
    probes::Host host(m_options.root);
    // The engine probe reads [engine] from the config itself: the container (and so the
    // image and backend) is there, not in the command. The config is the one this daemon
    // loaded, on this machine, also under --root.
    probes::ProbeContext context{host, std::chrono::milliseconds(5000), {}, m_options.config_path, {}};
    context.config_host = probes::Host("/");
    auto run = ProbeRun::start(m_event.get(), context, k_probe_run_deadline, [this](rules::Facts facts) {
        // Destroyed after this call returns: the run touches nothing once it has answered.
        auto finished = std::move(m_probe_run);
        finish_check(std::move(facts));
    });
    if (!run) {
        m_log.daemon(LOG_ERR, run.error().message + "; every probe counts as failed");
        finish_check(probe_run_failed(run.error().message));
        return;
    }
    m_probe_run = std::move(*run);
}

void Manager::finish_check(rules::Facts facts)
{
    Check check = std::move(*m_check);
    m_check.reset(); // first: a throw below must not leave every later re-check queued behind it
    const std::string& why = check.why;
    const bool reload_files = check.reload;
    std::vector<std::string> problems = std::move(m_check_problems);
    if (!m_options.facts_path) {
        facts.snapshot.taken = now_rfc3339();
        facts.snapshot.halo_check_version = HALO_VERSION;
    }
    // What the engine's API answered is a fact of the running engine (engine.api.*, engine.build),
    // judged with the rest; the probes cannot see it.
    if (const auto& api = m_supervisor->status().api) {
        for (const auto& [key, value] : app::api_facts(*api)) facts.set(key, value, "engine API checks");
        m_api_judged = api->at;
    }
    const bool changed = m_evaluated && fingerprint(facts) != fingerprint(m_facts);
    std::optional<rules::Facts> previous;
    if (m_evaluated) previous = std::move(m_facts);
    m_facts = std::move(facts);
    m_report = rules::evaluate(*m_rules, m_facts, {});
    m_decision = decide(m_config.daemon.policy, m_report);
    const bool new_process = changes_process(m_supervisor->config(), m_config.engine);
    if (!m_decision.allowed && new_process && m_supervisor->process_running() && !m_config.daemon.stop_on_refusal) {
        // The refused command will not run; the one that runs stays what the facts describe.
        m_facts = with_engine_facts(m_facts, m_engine_facts);
    } else {
        m_engine_facts = m_facts;
    }
    m_supervisor->set_log_patterns(m_rules->log_patterns, m_facts);
    m_supervisor->set_api_checks(
        app::api_checks_wanted(m_config.client.kind, m_facts.get("client.claude_code.points_at_engine")),
        m_facts.get("client.claude_code.model").value_or(m_config.engine.alias.value_or("")),
        m_config.client.cache_check_interval);

    m_reload_error.clear();
    for (const std::string& p : problems) {
        m_log.daemon(LOG_ERR, "reload: " + p);
        m_reload_error += (m_reload_error.empty() ? "" : "; ") + p;
    }
    m_log.daemon(m_decision.allowed ? LOG_INFO : LOG_WARNING,
                 fmt::format("evaluated ({}): verdict {}, {} finding(s){}", why, rules::to_string(m_report.verdict),
                             m_report.findings.size(),
                             m_decision.allowed ? "; the policy allows the engine"
                                                : "; the policy refuses the engine: " + m_decision.reason),
                 {{"HALO_VERDICT", std::string(rules::to_string(m_report.verdict))}});
    m_evaluated = true;
    ++m_evaluations;
    m_watch->evaluated({why, *m_rules, previous ? &*previous : nullptr, reload_files, m_reload_error});
    act_on_decision(why, changed, new_process);
    publish();
    write_exports(true);
    arm_export_timer();
    for (const auto& then : check.then) then();
    if (!check.then.empty()) publish();
    if (m_next_check && !m_check && !m_stopping) {
        Check next = std::move(*m_next_check);
        m_next_check.reset();
        begin_check(std::move(next));
    }
}

void Manager::write_exports(bool with_nfd)
{
    if (!m_config.exporting.any()) return;
    app::ExportInput in;
    in.facts = &m_facts;
    in.now = &m_report;
    in.next_boot = &m_watch->next_report();
    in.checked_at = app::parse_rfc3339(m_facts.snapshot.taken).value_or(std::time(nullptr));
    in.engine = m_supervisor->status();
    std::string error;
    for (const std::string& e : write_export_files(m_config.exporting, in, std::time(nullptr), with_nfd))
        error += (error.empty() ? "" : "; ") + e;
    if (error != m_export_error) {
        if (!error.empty()) m_log.daemon(LOG_WARNING, "export: " + error);
        else m_log.daemon(LOG_INFO, "export: the files are written again");
        m_export_error = error;
    }
}

void Manager::arm_export_timer()
{
    if (!m_config.exporting.any()) {
        if (m_export_timer) sd_event_source_set_enabled(m_export_timer.get(), SD_EVENT_OFF);
        return;
    }
    uint64_t now = 0;
    sd_event_now(m_event.get(), CLOCK_MONOTONIC, &now);
    const uint64_t when =
        now + static_cast<uint64_t>(
                  std::chrono::duration_cast<std::chrono::microseconds>(m_config.exporting.interval).count());
    if (m_export_timer) {
        sd_event_source_set_time(m_export_timer.get(), when);
        sd_event_source_set_enabled(m_export_timer.get(), SD_EVENT_ONESHOT);
        return;
    }
    sd_event_source* s = nullptr;
    const int r =
        sd_event_add_time(m_event.get(), &s, CLOCK_MONOTONIC, when, 1'000'000, &Manager::on_export_timer, this);
    if (r < 0) {
        m_log.daemon(LOG_WARNING, fmt::format("Failed to add a timer to the event loop: {}; the export files follow "
                                              "re-checks on change only, and NFD's labels may expire",
                                              std::strerror(-r)));
        return;
    }
    m_export_timer.reset(s);
}

int Manager::on_export_timer(sd_event_source*, uint64_t, void* userdata) noexcept
{
    auto* self = static_cast<Manager*>(userdata);
    // A failed re-check keeps the last judgement; the next change or interval tries again.
    return guard_callback(
        "manager.on_export_timer", 0,
        [self] {
            // Shutting down: no re-check may start the engine again.
            if (!self->m_stopping) self->evaluate("export interval", false);
        },
        [self] { self->arm_export_timer(); });
}

void Manager::act_on_decision(const std::string& why, bool facts_changed, bool new_process)
{
    m_refusal_note.clear();
    if (!m_decision.allowed) {
        const std::string reason = "refusing to start engine: " + m_decision.reason + " · waiting for a fix";
        if (m_supervisor->process_running()) {
            // A refused command never runs, not even as the restart of the engine that does.
            m_supervisor->keep_command(m_config.engine);
            if (m_config.daemon.stop_on_refusal) {
                m_supervisor->stop(reason, [this, reason] { m_supervisor->refuse(reason); });
            } else {
                m_refusal_note = kept_running_note(m_decision.reason, new_process);
                m_log.daemon(LOG_WARNING, m_refusal_note);
            }
        } else {
            m_supervisor->configure(m_config.engine);
            m_supervisor->refuse(reason);
        }
        return;
    }
    if (m_user_stopped) {
        m_supervisor->configure(m_config.engine);
        return;
    }
    // A changed command of a running engine restarts it here, as planned.
    m_supervisor->reconfigure(m_config.engine);
    switch (m_supervisor->status().state) {
    case app::EngineState::stopped:
    case app::EngineState::refused: m_supervisor->start(why); break;
    case app::EngineState::given_up:
    case app::EngineState::failed:
        // Waiting for a change or an explicit restart: a changed machine or command is a change.
        if (facts_changed) m_supervisor->start(why + "; the machine changed");
        else if (new_process) m_supervisor->start(why + "; the engine command changed");
        break;
    default: break;
    }
}

int Manager::run()
{
    const StoppingGuard stopping{m_stopping};
    m_watch->start_watching(); // before the first probe: a change during it is not lost
    // Ready once the first verdict is in; the loop (and its watchdog pings) runs meanwhile.
    evaluate("start", false, [this] {
        m_watch->follow_kernel_log(*m_rules);
        sd_notify(0, "READY=1");
    });
    const int r = sd_event_loop(m_event.get());
    if (r < 0) {
        m_log.daemon(LOG_ERR, fmt::format("event loop failed: {}", std::strerror(-r)));
        return 1;
    }
    return 0;
}

void Manager::shutdown(const std::string& why)
{
    if (m_stopping) return;
    m_stopping = true;
    sd_notify(0, "STOPPING=1");
    m_log.daemon(LOG_INFO, fmt::format("shutting down: {}", why));
    m_watch->stop();
    // A probe run under way is killed: its verdict could only start what is stopping.
    m_probe_run.reset();
    m_next_check.reset();
    m_check.reset();
    publish(); // keeps the journal cursor: a restart does not report the same lines again
    m_supervisor->stop("daemon shutting down: " + why, [this] { sd_event_exit(m_event.get(), 0); });
}

void Manager::run_request(ControlVerb verb, std::uint64_t id)
{
    m_request_error.clear();
    auto handled = [this, id] { request_handled(id); };
    switch (verb) {
    case ControlVerb::restart:
        m_user_stopped = false;
        evaluate("halo-check restart", false, [this, handled] {
            if (m_decision.allowed) m_supervisor->restart("halo-check restart");
            handled();
        });
        return;
    case ControlVerb::stop:
        m_user_stopped = true;
        m_supervisor->stop("stopped by halo-check stop");
        break;
    case ControlVerb::start:
        m_user_stopped = false;
        evaluate("halo-check start", false, [this, handled] {
            if (m_decision.allowed && !m_supervisor->process_running()) m_supervisor->start("halo-check start");
            handled();
        });
        return;
    case ControlVerb::smoke: {
        std::string why_not;
        if (!m_supervisor->smoke(why_not)) {
            m_log.daemon(LOG_WARNING, "smoke test not run: " + why_not);
            m_request_error = "smoke test not run: " + why_not;
        }
        break;
    }
    case ControlVerb::reload: evaluate("reload", true, handled); return;
    case ControlVerb::status: break;
    }
    handled();
}

void Manager::request_handled(std::uint64_t id)
{
    ++m_requests_handled;
    for (WaitingClient& w : m_waiting) {
        if (w.id == id) w.handled = true;
    }
}

void Manager::on_control(std::uint64_t id, ControlVerb verb, const ucred& peer)
{
    if (verb == ControlVerb::status) {
        m_control->reply(id, {ControlReplyKind::done, fmt::format("pid {}", ::getpid())}, true);
        return;
    }
    m_log.daemon(LOG_INFO,
                 fmt::format("control request '{}' from uid {} (pid {})", to_string(verb), peer.uid, peer.pid));
    nlohmann::json before = nlohmann::json::parse(state_json().dump(-1, ' ', false, k_replace), nullptr, false);
    // A client that hung up before hearing `taken` waits for nothing; its request still runs.
    if (m_control->reply(id, {ControlReplyKind::taken, fmt::format("pid {}", ::getpid())}, false))
        m_waiting.push_back({id, std::string(to_string(verb)), std::move(before)});
    run_request(verb, id);
    // Before the first verdict there is no state to publish; that evaluation's publish answers.
    if (m_evaluated) publish();
}

void Manager::answer_waiting(const nlohmann::json& now)
{
    std::vector<WaitingClient> still;
    for (WaitingClient& w : m_waiting) {
        if (!m_control->connected(w.id)) continue; // hung up: it waits no more
        if (!w.handled) {
            still.push_back(std::move(w)); // its re-check is still under way
            continue;
        }
        const app::ControlOutcome outcome = app::control_outcome(w.verb, w.before, now);
        if (outcome.progress == app::Progress::waiting) {
            still.push_back(std::move(w));
            continue;
        }
        m_control->reply(w.id,
                         {outcome.progress == app::Progress::done ? ControlReplyKind::done : ControlReplyKind::failed,
                          outcome.message},
                         true);
    }
    m_waiting = std::move(still);
}

int Manager::on_signal(sd_event_source*, const struct signalfd_siginfo* si, void* userdata) noexcept
{
    auto* self = static_cast<Manager*>(userdata);
    const int signo = static_cast<int>(si->ssi_signo);
    return guard_callback(
        signal_callback_name(signo), 0, [&] { self->handle_signal(signo); }, [&] { self->recover_from_signal(signo); });
}

void Manager::handle_signal(int signo)
{
    switch (signo) {
    case SIGTERM:
    case SIGINT: shutdown(signo == SIGTERM ? "SIGTERM" : "SIGINT"); break;
    case SIGHUP: evaluate("reload (SIGHUP)", true); break;
    default: break;
    }
}

void Manager::recover_from_signal(int signo) noexcept
{
    // A stop that failed half way has set m_stopping, so a second SIGTERM would be ignored:
    // leave the loop instead (the supervisor's destructor kills an engine still running). A
    // failed re-check or request leaves the last judgement in force until the next one.
    if (signo == SIGTERM || signo == SIGINT) sd_event_exit(m_event.get(), 0);
}

void Manager::engine_changed(const app::EngineStatus& status)
{
    if (m_logged_state != status.state) {
        m_logged_state = status.state;
        m_log.daemon(LOG_INFO,
                     fmt::format("engine {} → {}{}", m_config.engine.name, to_string(status.state),
                                 status.reason.empty() ? "" : ": " + status.reason),
                     {{"HALO_ENGINE_STATE", std::string(to_string(status.state))}});
    }
    m_watch->engine_changed(status);
    if (m_evaluated) {
        publish();
        write_exports(false);
    }
    // New API results: the rules judge them (engine.build for the prefill rule, engine.api.*).
    if (status.api && status.api->at != m_api_judged && m_evaluated && !m_stopping) {
        m_api_judged = status.api->at;
        evaluate("engine API checks", false);
    }
}

void Manager::engine_line(std::string_view line)
{
    m_watch->engine_line(line);
    output_arrived();
}

void Manager::output_arrived()
{
    if (!m_evaluated || m_output_due) return;
    const auto delay = output_write_delay(m_last_write, std::chrono::steady_clock::now(), k_output_write_interval);
    if (delay == std::chrono::steady_clock::duration::zero()) {
        publish();
        return;
    }
    uint64_t now = 0;
    sd_event_now(m_event.get(), CLOCK_MONOTONIC, &now);
    const uint64_t when =
        now + static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(delay).count());
    if (m_output_timer) {
        sd_event_source_set_time(m_output_timer.get(), when);
        sd_event_source_set_enabled(m_output_timer.get(), SD_EVENT_ONESHOT);
    } else {
        sd_event_source* s = nullptr;
        const int r =
            sd_event_add_time(m_event.get(), &s, CLOCK_MONOTONIC, when, 10'000, &Manager::on_output_timer, this);
        if (r < 0) {
            // The next state change writes the lines instead.
            m_log.daemon(LOG_WARNING, fmt::format("Failed to add a timer to the event loop: {}; the state file's "
                                                  "output_tail follows the engine's output only on state changes",
                                                  std::strerror(-r)));
            return;
        }
        m_output_timer.reset(s);
    }
    m_output_due = true;
}

int Manager::on_output_timer(sd_event_source*, uint64_t, void* userdata) noexcept
{
    auto* self = static_cast<Manager*>(userdata);
    // A failed write is logged by publish(); a throw leaves the lines to the next change or line.
    return guard_callback(
        "manager.on_output_timer", 0, [self] { self->publish(); }, [self] { self->m_output_due = false; });
}

void Manager::recheck(const std::string& why, bool reload) { evaluate(why, reload); }

void Manager::gpu_reset(const std::string& reason)
{
    if (m_supervisor->process_running()) m_supervisor->mark_unhealthy(reason);
}

void Manager::watch_state_changed()
{
    if (m_evaluated) publish();
}

std::string Manager::status_line() const
{
    const app::EngineStatus& s = m_supervisor->status();
    const app::EngineConfig& e = m_supervisor->config();
    std::string backend = e.backend.value_or(e.container.value_or(""));
    if (backend.empty()) backend = m_facts.get("engine.backend").value_or("");
    const std::string name = backend.empty() ? e.name : fmt::format("{} ({})", e.name, backend);
    const std::string verdict = fmt::format("verdict {}", rules::to_string(m_report.verdict));
    std::string line;
    switch (s.state) {
    case app::EngineState::refused: line = s.reason; break;
    case app::EngineState::ready: line = fmt::format("engine ready: {} · {}", name, verdict); break;
    case app::EngineState::starting:
    case app::EngineState::loading: line = fmt::format("engine {}: {} · {}", to_string(s.state), name, verdict); break;
    default:
        line = fmt::format("engine {}: {}{} · {}", to_string(s.state), name, s.reason.empty() ? "" : " · " + s.reason,
                           verdict);
    }
    if (!m_refusal_note.empty()) line += " · " + m_refusal_note;
    if (!m_reload_error.empty()) line += " · reload failed, running on the last good config and rules";
    for (char& c : line) {
        if (c == '\n') c = ' ';
    }
    return line;
}

nlohmann::ordered_json Manager::state_json() const
{
    nlohmann::ordered_json j;
    j["version"] = 1;
    j["daemon"] = {{"pid", ::getpid()},
                   {"started", m_started_at},
                   {"updated", now_rfc3339()},
                   {"config", m_config.path},
                   {"policy", std::string(to_string(m_config.daemon.policy))},
                   {"status", status_line()},
                   {"reload_error",
                    m_reload_error.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(m_reload_error)},
                   {"evaluations", m_evaluations},
                   {"requests_handled", m_requests_handled},
                   {"request_error", m_request_error.empty() ? nlohmann::ordered_json(nullptr)
                                                             : nlohmann::ordered_json(m_request_error)}};
    nlohmann::ordered_json findings = nlohmann::ordered_json::array();
    for (const rules::Finding& f : m_report.findings) {
        if (f.rule)
            findings.push_back({{"id", f.rule->id}, {"severity", std::string(rules::to_string(f.rule->severity))}});
    }
    nlohmann::ordered_json undecided = nlohmann::ordered_json::array();
    for (const rules::Undecided& u : m_report.undecided) {
        if (u.rule) undecided.push_back(u.rule->id);
    }
    j["verdict"] = {{"verdict", std::string(rules::to_string(m_report.verdict))},
                    {"findings", findings},
                    {"undecided", undecided},
                    {"known_good", m_report.known_good ? nlohmann::ordered_json(m_report.known_good->id)
                                                       : nlohmann::ordered_json(nullptr)},
                    {"allowed", m_decision.allowed},
                    {"reason", m_decision.reason}};
    nlohmann::ordered_json engine = to_json(m_supervisor->status());
    const app::EngineConfig& running = m_supervisor->config();
    engine["name"] = running.name;
    // What runs (or runs next), never the configuration file's refused one; secrets hidden.
    engine["command"] = app::redacted_command(running.command);
    engine["health_url"] = running.health_url;
    engine["user_stopped"] = m_user_stopped;
    j["engine"] = engine;
    const nlohmann::ordered_json watch = m_watch->state_json();
    for (const auto& [k, v] : watch.items()) j[k] = v;
    j["facts"] = rules::facts_to_json(m_facts);
    return j;
}

void Manager::publish()
{
    const std::string line = status_line();
    if (line != m_last_status) {
        sd_notifyf(0, "STATUS=%s", line.c_str());
        m_last_status = line;
    }
    const nlohmann::ordered_json state = state_json();
    if (auto ok = m_store.write(state); !ok) m_log.daemon(LOG_WARNING, ok.error().message);
    if (m_control && !m_waiting.empty())
        answer_waiting(nlohmann::json::parse(state.dump(-1, ' ', false, k_replace), nullptr, false));
    // Written or not, the lines so far have had their turn; the next line schedules the next.
    m_last_write = std::chrono::steady_clock::now();
    m_output_due = false;
    if (m_output_timer) sd_event_source_set_enabled(m_output_timer.get(), SD_EVENT_OFF);
}

} // namespace halo::checkd
