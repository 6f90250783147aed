// `halo-check status|restart|stop|start|reload|smoke`: the daemon's control channel, client side.
// Every verb connects to <state dir>/control.sock and checks, by SO_PEERCRED, that the process on
// the other end runs as the user who owns the state directory (the daemon's user). No pid is
// taken from a file and nothing is written there. status asks whether the daemon answers, then
// prints state.json (its text made printable); the others send the verb and print the outcome
// the daemon answers with (docs/daemon.md, "The control channel").

#include "common/control_message.hpp"
#include "common/fatal.hpp"
#include "common/fd.hpp"
#include "common/printable.hpp"
#include "daemon/check/cli_commands.hpp"
#include "daemon/config.hpp"
#include "daemon/engine_api_results.hpp"
#include "daemon/report_output.hpp"
#include "daemon/state_store.hpp"
#include "daemon/version_info.hpp"
#include "rules/rule_loader.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <utility>

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
    // state.json is a file: what it says reaches the terminal only as printable text.
    return printable(j[key].is_string() ? j[key].get<std::string>() : j[key].dump());
}

std::string smoke_text(const nlohmann::json& s)
{
    if (!s.is_object()) return "none yet";
    if (!s.value("ok", false)) return fmt::format("failed at {}: {}", text_of(s, "at"), text_of(s, "error"));
    return fmt::format("{:.0f} ms, {} tokens, prompt {:.1f} t/s, generation {:.1f} t/s ({})",
                       s.value("latency_ms", 0.0), s.value("completion_tokens", 0), s.value("prompt_per_second", 0.0),
                       s.value("predicted_per_second", 0.0), text_of(s, "at"));
}

// `answer`: the daemon's own reply to status, or why none came.
int print_status(const app::StateStore& store, const nlohmann::json& j, bool alive, const std::string& answer)
{
    const auto& d = j.value("daemon", nlohmann::json::object());
    const auto& v = j.value("verdict", nlohmann::json::object());
    const auto& e = j.value("engine", nlohmann::json::object());
    std::string out;
    if (alive) out += fmt::format("halo-checkd: running ({}, since {})\n", answer, text_of(d, "started"));
    else out += fmt::format("halo-checkd: NOT RUNNING ({}; the state file is stale)\n", answer);
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
            const std::string arg = printable(a.is_string() ? a.get<std::string>() : a.dump());
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
    if (auto api = app::api_results_from_json(e.value("api", nlohmann::json()))) {
        out += fmt::format("api:         {} ({})\n", app::api_status_line(*api).substr(5), api->at);
    }
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
                if (c.is_string()) out += "  " + printable(c.get<std::string>()) + "\n";
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

// A connection to halo-checkd whose peer is the user who owns the state directory. Refuses a
// socket that is not one, or that someone else owns or serves: a state directory is where the
// daemon's user writes, and the CLI (often root) must not act on what another user planted.
Result<Fd> connect_daemon(const app::StateStore& store)
{
    const std::string path = store.socket_path();
    struct stat dir {};
    if (::stat(store.dir().c_str(), &dir) < 0) {
        return Error{fmt::format("Failed to open the state directory '{}': {}", store.dir(), std::strerror(errno)),
                     errno};
    }
    struct stat sock {};
    if (::lstat(path.c_str(), &sock) < 0) {
        return Error{fmt::format("no control socket '{}': {}", path, std::strerror(errno)), errno};
    }
    if (!S_ISSOCK(sock.st_mode) || sock.st_uid != dir.st_uid) {
        return Error{fmt::format("'{}' is not a socket owned by uid {}, the owner of '{}'; it is not halo-checkd's",
                                 path, dir.st_uid, store.dir())};
    }
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof(addr.sun_path)) return Error{fmt::format("the socket path '{}' is too long", path)};
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return Error{fmt::format("Failed to create a socket: {}", std::strerror(errno)), errno};
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) < 0) {
        return Error{fmt::format("Failed to connect to '{}': {}", path, std::strerror(errno)), errno};
    }
    ucred peer{};
    socklen_t len = sizeof(peer);
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0) {
        return Error{fmt::format("Failed to learn who serves '{}': {}", path, std::strerror(errno)), errno};
    }
    if (peer.uid != dir.st_uid) {
        return Error{
            fmt::format("'{}' is served by uid {} (pid {}), not by uid {} who owns '{}'; refusing to talk to it", path,
                        peer.uid, peer.pid, dir.st_uid, store.dir())};
    }
    return fd;
}

// One reply line from the daemon, waiting until `deadline`; nullopt on time-out, an Error when
// the daemon hung up or sent something that is not a reply.
Result<std::optional<ControlReply>> read_reply(int fd, std::string& pending,
                                               std::chrono::steady_clock::time_point deadline)
{
    for (;;) {
        if (const std::size_t nl = pending.find('\n'); nl != std::string::npos) {
            auto reply = parse_control_reply(std::string_view(pending).substr(0, nl));
            pending.erase(0, nl + 1);
            if (!reply) return reply.error();
            return std::optional<ControlReply>(std::move(*reply));
        }
        if (pending.size() > kControlReplyMax) return Error{"halo-checkd's reply is longer than a reply may be"};
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return std::optional<ControlReply>();
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), 1000)));
        if (r < 0 && errno != EINTR)
            return Error{fmt::format("Failed to wait for halo-checkd: {}", std::strerror(errno))};
        if (r <= 0) continue;
        char buffer[512];
        const ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
        if (n <= 0) return Error{"halo-checkd closed the connection before it answered (did it exit?)"};
        pending.append(buffer, static_cast<std::size_t>(n));
    }
}

// Sends the verb and waits for its outcome: like systemctl restart, the command returns when the
// work is done, and says how.
int request(const std::string& verb, int fd, const DaemonOptions& o)
{
    double timeout_s = o.timeout_s;
    if (timeout_s <= 0) timeout_s = (verb == "restart" || verb == "start") ? 300 : 60;
    const auto deadline =
        std::chrono::steady_clock::now() +
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(timeout_s));
    const std::string line = verb + "\n";
    // EPIPE: the daemon refused us without reading; its reply says why, so read on.
    if (::send(fd, line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size()) && errno != EPIPE) {
        throw Fatal(fmt::format("Failed to send the {} request to halo-checkd: {}", verb, std::strerror(errno)));
    }
    std::string pending;
    std::string awaited = "halo-checkd to take the request";
    for (;;) {
        auto reply = read_reply(fd, pending, deadline);
        if (!reply) {
            std::fprintf(stderr, "halo-check: error: %s: %s; see 'halo-check status' and the daemon's journal\n",
                         verb.c_str(), reply.error().message.c_str());
            return 1;
        }
        if (!*reply) break;
        const ControlReply& r = **reply;
        if (r.kind == ControlReplyKind::taken) {
            if (o.no_wait) {
                std::printf("asked halo-checkd (%s) to %s; see 'halo-check status'\n", r.message.c_str(), verb.c_str());
                return 0;
            }
            awaited = "its outcome";
            continue;
        }
        if (r.kind == ControlReplyKind::done) {
            std::printf("halo-check: %s: %s\n", verb.c_str(), r.message.c_str());
            return 0;
        }
        std::fprintf(stderr, "halo-check: error: %s: %s%s; see 'halo-check status' and the daemon's journal\n",
                     verb.c_str(), r.kind == ControlReplyKind::refused ? "halo-checkd refused: " : "",
                     r.message.c_str());
        return 1;
    }
    std::fprintf(stderr,
                 "halo-check: error: %s: no outcome after %.0f s (still waiting for %s); see 'halo-check status', or "
                 "wait longer with --timeout\n",
                 verb.c_str(), timeout_s, awaited.c_str());
    return 1;
}

// Whether halo-checkd answers on its socket, and its answer or why not.
std::pair<bool, std::string> daemon_answers(const app::StateStore& store)
{
    auto fd = connect_daemon(store);
    if (!fd) return {false, fd.error().message};
    const std::string line = "status\n";
    if (::send(fd->get(), line.data(), line.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(line.size())) {
        return {false, fmt::format("Failed to ask halo-checkd: {}", std::strerror(errno))};
    }
    std::string pending;
    auto reply = read_reply(fd->get(), pending, std::chrono::steady_clock::now() + std::chrono::seconds(10));
    if (!reply) return {false, reply.error().message};
    if (!*reply) return {false, "halo-checkd did not answer within 10 s"};
    if ((*reply)->kind != ControlReplyKind::done) return {false, "halo-checkd refused: " + (*reply)->message};
    return {true, (*reply)->message};
}

} // namespace

int command_daemon(const std::string& verb, const DaemonOptions& o)
{
    const app::StateStore store(app::resolve_state_dir(o.state_dir));
    if (verb != "status") {
        auto fd = connect_daemon(store);
        if (!fd) {
            throw Fatal(fmt::format("halo-checkd does not answer: {}; is it running? (systemctl --user status "
                                    "halo-checkd; pass --state-dir when it uses another directory)",
                                    fd.error().message));
        }
        return request(verb, fd->get(), o);
    }
    auto state = store.read();
    if (!state) {
        throw Fatal(state.error().message + "; is halo-checkd running? (systemctl --user status halo-checkd; "
                                            "pass --state-dir when it uses another directory)");
    }
    const auto [alive, answer] = daemon_answers(store);
    if (o.json) {
        const std::string text = status_json(*state, alive).dump(2) + "\n";
        std::fwrite(text.data(), 1, text.size(), stdout);
        return alive ? 0 : 3;
    }
    return print_status(store, *state, alive, printable(answer));
}

} // namespace halo::check
