// `halo-check status|restart|stop|start|reload|smoke`: the daemon's control channel, client side.
// status reads <state dir>/state.json; the others append a verb to <state dir>/request and send
// halo-checkd SIGUSR1 (reload: SIGHUP), addressing it by the pid in state.json.

#include "common/fatal.hpp"
#include "daemon/check/cli_commands.hpp"
#include "daemon/state_store.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

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
        if (std::string_view(name) == "status") sub->add_flag("--json", o.json, "Print state.json as it is");
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

} // namespace

int command_daemon(const std::string& verb, const DaemonOptions& o)
{
    const app::StateStore store(o.state_dir.value_or(app::default_state_dir()));
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
            const std::string text = state->dump(2) + "\n";
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
    std::printf("asked halo-checkd (pid %d) to %s; see 'halo-check status'\n", static_cast<int>(pid), verb.c_str());
    return 0;
}

} // namespace halo::check
