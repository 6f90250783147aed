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
// Hook points for the change watchers, kernel-log monitor and notifier (issue 6):
//   on_facts_changed()            something on the machine changed: re-probe, re-evaluate
//   on_log_line(source, line)     a log line from "kernel" (or another source) to match
//   add_events(Events*)           be told about verdicts, engine transitions, log matches

#include "daemon/config.hpp"
#include "daemon/http_client.hpp"
#include "daemon/log_sink.hpp"
#include "daemon/sd_handles.hpp"
#include "daemon/state_store.hpp"
#include "daemon/supervisor.hpp"
#include "rules/evaluate.hpp"
#include "rules/facts.hpp"
#include "rules/rule.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace halo::daemon {

struct ManagerOptions {
    std::string config_path;
    std::string root = "/";
    std::optional<std::string> facts_path; // judge this file instead of probing (tests)
    std::optional<std::string> state_dir;
    std::vector<std::string> rules;        // extra rules files or directories
    bool no_dropins = false;
    std::optional<std::string> journal_export; // also write entries in Journal Export Format here
};

// The policy's answer for one report.
struct Decision {
    bool allowed = true;
    std::string reason; // "broken: rocm.firmware-20251125" when refused
};
Decision decide(Policy policy, const rules::Report& report);

// Receivers of what the manager sees (notifications, a future D-Bus interface). Called from the
// event loop; must not block.
class Events {
public:
    virtual ~Events() = default;
    virtual void verdict_changed(const rules::Report& /*report*/, const rules::Facts& /*facts*/, const Decision&) {}
    virtual void engine_changed(const EngineStatus& /*status*/) {}
    virtual void log_matched(std::string_view /*source*/, const rules::LogPattern& /*pattern*/, std::string_view /*line*/) {}
};

class Manager final : private SupervisorEvents {
public:
    // Loads rules and state; throws halo::Fatal with a clear message when it cannot start.
    Manager(ManagerOptions options, Config config);
    ~Manager() override;
    Manager(const Manager&) = delete;
    Manager& operator=(const Manager&) = delete;

    // First evaluation, READY=1, the loop. Returns the exit code.
    int run();

    // Hooks (see the header comment).
    void on_facts_changed(const std::string& why);
    void on_log_line(std::string_view source, std::string_view line);
    void add_events(Events* events) { m_events.push_back(events); }

    sd_event* event() const { return m_event.get(); }

private:
    struct Evaluation;
    void evaluate(const std::string& why, bool reload_files);
    void act_on_decision(const std::string& why, bool facts_changed);
    void shutdown(const std::string& why);
    void handle_requests();
    void publish();
    std::string status_line() const;
    nlohmann::ordered_json state_json() const;
    bool load_rules_into(rules::RuleSet& out, std::string& error) const;

    void engine_changed(const EngineStatus& status) override;
    void engine_line(std::string_view line) override;

    static int on_signal(sd_event_source* s, const struct signalfd_siginfo* si, void* userdata) noexcept;

    ManagerOptions m_options;
    Config m_config;
    SdEvent m_event;
    std::vector<SdEventSource> m_signal_sources;
    LogSink m_log;
    StateStore m_store;
    std::unique_ptr<HttpClient> m_http;
    std::unique_ptr<Supervisor> m_supervisor;
    std::vector<Events*> m_events;

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
    std::optional<EngineState> m_logged_state;
    std::string m_started_at;
};

} // namespace halo::daemon
