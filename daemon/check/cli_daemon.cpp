// `halo-check status|restart|stop|start|reload|smoke`: the daemon's control channel, client side.
// status reads <state dir>/state.json; the others append a verb to <state dir>/request and send
// halo-checkd SIGUSR1 (reload: SIGHUP), addressing it by the pid in state.json.

#include "common/fatal.hpp"
#include "daemon/check/cli_commands.hpp"
#include "daemon/config.hpp"
#include "daemon/control_outcome.hpp"
#include "daemon/report_output.hpp"
#include "daemon/state_store.hpp"
#include "daemon/version_info.hpp"
#include "rules/rule_loader.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <thread>

namespace halo::check {

void add_daemon_commands(void* app_ptr, DaemonOptions& o)
{
    auto& app = *static_cast<CLI::App*>(app_ptr);
    const std::pair<const char*, const char*> verbs[] = {
        {"status", "Show halo-checkd's state: verdict, engine state, restarts, smoke-test figures"},
        {"restart", "Ask halo-checkd to re-check, then restart the engine (also after it gave up)"},
        {"stop", "Ask halo-checkd to stop the engine (it stays stopped until start or restart)"},
        {"start", "Ask halo-checkd to re-check and start the engine"},
        {"reload", "Ask halo-checkd to re-read its config and rules, re-probe and re-evaluate"},
        {"smoke", "Ask halo-checkd to run the generation smoke test now"}};
    for (const auto& [name, help] : verbs) {
        CLI::App* sub = app.add_subcommand(name, help);
        sub->add_option("--state-dir", o.state_dir, "halo-checkd's state directory (default: as the daemon's)")
            ->type_name("DIR");
        if (std::string_view(name) == "status") {
            sub->add_flag("--json", o.json, "Print state.json as it is");
        } else {
            sub->add_flag("--no-wait", o.no_wait, "Return once the request is sent; do not wait for its outcome");
            sub->add_option("--timeout", o.timeout_s,
                            "How long to wait for the outcome (default: 300 for restart and start, 60 otherwise)")
                ->type_name("SECONDS")
                ->check(CLI::Range(0.1, 86400.0));
        }
        o.verbs.emplace_back(name, sub);
    }
}

std::string chosen_daemon_verb(const DaemonOptions& o)
{
    for (const auto& [name, app] : o.verbs) {
        if (static_cast<const CLI::App*>(app)->parsed()) return name;
    }
    return {};
}

namespace {

std::string text_of(const nlohmann::json& j, const char* key, const std::string& fallback = "-")
{
    if (!j.is_object() || !j.contains(key) || j[key].is_null()) return fallback;
    return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

std::string smoke_text(const nlohmann::json& s)
{
    if (!s.is_object()) return "none yet";
    if (!s.value("ok", false)) return fmt::format("failed at {}: {}", text_of(s, "at"), text_of(s, "error"));
    return fmt::format("{:.0f} ms, {} tokens, prompt {:.1f} t/s, generation {:.1f} t/s ({})",
                       s.value("latency_ms", 0.0), s.value("completion_tokens", 0), s.value("prompt_per_second", 0.0),
                       s.value("predicted_per_second", 0.0), text_of(s, "at"));
}

int print_status(const app::StateStore& store, const nlohmann::json& j, bool alive)
{
    const auto& d = j.value("daemon", nlohmann::json::object());
    const auto& v = j.value("verdict", nlohmann::json::object());
    const auto& e = j.value("engine", nlohmann::json::object());
    std::string out;
    out += fmt::format("halo-checkd: {} (pid {}, since {})\n", alive ? "running" : "NOT RUNNING (state file is stale)",
                       text_of(d, "pid"), text_of(d, "started"));
    out += fmt::format("status:      {}\n", text_of(d, "status"));
    out += fmt::format("verdict:     {}", text_of(v, "verdict"));
    if (v.contains("findings") && v["findings"].is_array() && !v["findings"].empty()) {
        std::string ids;
        for (const auto& f : v["findings"]) ids += (ids.empty() ? "" : ", ") + text_of(f, "id");
        out += " (" + ids + ")";
    }
    out += fmt::format("; known good: {}\n", text_of(v, "known_good", "none"));
    out += fmt::format("engine:      {} {} since {}{}\n", text_of(e, "name"), text_of(e, "state"), text_of(e, "since"),
                       e.contains("pid") && !e["pid"].is_null() ? fmt::format(" (pid {})", e["pid"].dump()) : "");
    if (e.contains("command") && e["command"].is_array() && !e["command"].empty()) {
        std::string command;
        for (const auto& a : e["command"]) {
            const std::string arg = a.is_string() ? a.get<std::string>() : a.dump();
            const bool quote = arg.empty() || arg.find_first_of(" \t'\"") != std::string::npos;
            command += (command.empty() ? "" : " ") + (quote ? "'" + arg + "'" : arg);
        }
        out += fmt::format("command:     {}\n", command);
    }
    if (!text_of(e, "reason", "").empty()) out += fmt::format("reason:      {}\n", text_of(e, "reason"));
    if (e.contains("last_crash") && e["last_crash"].is_object()) {
        const auto& c = e["last_crash"];
        out += fmt::format("last crash:  {} ({})\n", text_of(c, "exit"), text_of(c, "at"));
        if (c.contains("pattern")) {
            out += fmt::format("             {}: {}\n             fix: {}\n", text_of(c["pattern"], "id"),
                               text_of(c["pattern"], "title"), text_of(c["pattern"], "fix"));
        }
    }
    const std::size_t restarts = e.contains("restarts") && e["restarts"].is_array() ? e["restarts"].size() : 0;
    out += fmt::format("restarts:    {}\n", restarts);
    out += fmt::format("smoke test:  {}\n", smoke_text(e.value("smoke", nlohmann::json())));
    out += fmt::format("last good:   {}\n", smoke_text(e.value("smoke_last_good", nlohmann::json())));
    if (j.contains("speed") && j["speed"].is_object()) {
        const auto r = j["speed"].value("regression", nlohmann::json());
        if (r.is_object()) {
            out += fmt::format("slower:      {} ({}{})\n", text_of(r, "message"), text_of(r, "at"),
                               r.value("active", false) ? "" : "; fast again since");
        }
    }
    if (!text_of(d, "reload_error", "").empty()) out += fmt::format("reload:      {}\n", text_of(d, "reload_error"));
    // The after-reboot view, the kernel log, the last known good configuration.
    if (j.contains("next_boot") && j["next_boot"].is_object()) {
        const auto& n = j["next_boot"];
        out += fmt::format("after boot:  {}", text_of(n, "verdict"));
        if (!text_of(n, "kernel", "").empty()) out += fmt::format(" (kernel {})", text_of(n, "kernel"));
        if (n.contains("findings") && n["findings"].is_array() && !n["findings"].empty()) {
            std::string ids;
            for (const auto& f : n["findings"]) ids += (ids.empty() ? "" : ", ") + text_of(f, "id");
            out += " (" + ids + ")";
        }
        out += "\n";
    }
    if (j.contains("log_events") && j["log_events"].is_array() && !j["log_events"].empty()) {
        const auto& last = j["log_events"].back();
        out += fmt::format("log events:  {} (latest: {}, {} line(s), {})\n", j["log_events"].size(),
                           text_of(last, "pattern"), text_of(last, "count"), text_of(last, "last"));
    }
    if (j.contains("last_known_good") && j["last_known_good"].is_object()) {
        const auto& l = j["last_known_good"];
        out += fmt::format("last known good: recorded {} ({})\n", text_of(l, "recorded"), text_of(l, "path"));
        if (l.contains("changes") && l["changes"].is_array()) {
            if (l["changes"].empty()) out += "changed since last known good: nothing\n";
            else out += "changed since last known good:\n";
            for (const auto& c : l["changes"]) {
                if (c.is_string()) out += "  " + c.get<std::string>() + "\n";
            }
        }
    } else if (j.contains("last_known_good")) {
        out += "last known good: none recorded yet\n";
    }
    out += fmt::format("state file:  {}\n", store.path());
    std::fwrite(out.data(), 1, out.size(), stdout);
    return alive ? 0 : 3;
}

// status --json in the shapes every command uses (docs/json.md): the verdict a string, findings
// and undecided rules objects with an id; the daemon's own sections as state.json has them.
nlohmann::ordered_json status_json(const nlohmann::json& state, bool alive)
{
    using json = nlohmann::ordered_json;
    const json st = json::parse(state.dump());
    json out = app::json_envelope(app::summarise_knowledge(rules::load_embedded_rules().rules).newest);
    const json v = st.contains("verdict") && st["verdict"].is_object() ? st["verdict"] : json::object();
    out["running"] = alive;
    out["verdict"] = v.value("verdict", "unknown");
    out["findings"] = v.contains("findings") && v["findings"].is_array() ? v["findings"] : json::array();
    out["undecided"] = json::array();
    if (v.contains("undecided") && v["undecided"].is_array()) {
        for (const json& id : v["undecided"]) out["undecided"].push_back({{"id", id}});
    }
    out["known_good"] = v.contains("known_good") ? v["known_good"] : json(nullptr);
    out["allowed"] = v.value("allowed", false);
    out["reason"] = v.value("reason", "");
    for (const char* key : {"daemon", "engine", "next_boot", "log_events", "last_known_good"}) {
        if (st.contains(key)) out[key] = st[key];
    }
    return out;
}

// Polls state.json until the request's effect shows (control_outcome), the daemon dies, or the
// time is up: like systemctl restart, the command returns when the work is done, and says how.
int wait_for_outcome(const std::string& verb, const app::StateStore& store, const nlohmann::json& before, pid_t pid,
                     double timeout_s)
{
    if (timeout_s <= 0) timeout_s = (verb == "restart" || verb == "start") ? 300 : 60;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    app::ControlOutcome outcome{app::Progress::waiting, "the request"};
    while (std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (auto now = store.read()) outcome = app::control_outcome(verb, before, *now);
        if (outcome.progress == app::Progress::done) {
            std::printf("halo-check: %s: %s\n", verb.c_str(), outcome.message.c_str());
            return 0;
        }
        if (outcome.progress == app::Progress::failed) {
            std::fprintf(stderr, "halo-check: error: %s: %s; see 'halo-check status' and the daemon's journal\n",
                         verb.c_str(), outcome.message.c_str());
            return 1;
        }
        if (::kill(pid, 0) < 0 && errno != EPERM) {
            std::fprintf(stderr, "halo-check: error: %s: halo-checkd (pid %d) exited before it answered\n",
                         verb.c_str(), static_cast<int>(pid));
            return 1;
        }
    }
    std::fprintf(stderr,
                 "halo-check: error: %s: no outcome after %.0f s (still waiting for %s); see 'halo-check status', or "
                 "wait longer with --timeout\n",
                 verb.c_str(), timeout_s, outcome.message.c_str());
    return 1;
}

} // namespace

int command_daemon(const std::string& verb, const DaemonOptions& o)
{
    const app::StateStore store(app::resolve_state_dir(o.state_dir));
    auto state = store.read();
    if (!state) {
        throw Fatal(state.error().message + "; is halo-checkd running? (systemctl --user status halo-checkd; "
                                            "pass --state-dir when it uses another directory)");
    }
    const auto& d = state->value("daemon", nlohmann::json::object());
    const pid_t pid = d.contains("pid") && d["pid"].is_number_integer() ? d["pid"].get<pid_t>() : 0;
    const bool alive = pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
    if (verb == "status") {
        if (o.json) {
            const std::string text = status_json(*state, alive).dump(2) + "\n";
            std::fwrite(text.data(), 1, text.size(), stdout);
            return alive ? 0 : 3;
        }
        return print_status(store, *state, alive);
    }
    if (!alive)
        throw Fatal(fmt::format("halo-checkd (pid {} in '{}') is not running; start it first", pid, store.path()));
    if (verb != "reload") {
        const std::string line = verb + "\n";
        const int fd = ::open(store.request_path().c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
            const int err = errno;
            if (fd >= 0) ::close(fd);
            throw Fatal(fmt::format("Failed to write request '{}': {}", store.request_path(), std::strerror(err)));
        }
        ::close(fd);
    }
    if (::kill(pid, verb == "reload" ? SIGHUP : SIGUSR1) < 0) {
        throw Fatal(fmt::format("Failed to signal halo-checkd (pid {}): {}", pid, std::strerror(errno)));
    }
    if (o.no_wait) {
        std::printf("asked halo-checkd (pid %d) to %s; see 'halo-check status'\n", static_cast<int>(pid), verb.c_str());
        return 0;
    }
    return wait_for_outcome(verb, store, *state, pid, o.timeout_s);
}

} // namespace halo::check
