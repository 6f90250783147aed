#include "daemon/config.hpp"

#include "common/bounded_read.hpp"
#include "common/printable.hpp"

#include "daemon/state_store.hpp"

#include "probes/config_path.hpp"
#include "probes/engine_command.hpp"
#include "probes/host.hpp"

#include "common/toml.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

namespace halo::app {

std::string_view to_string(Policy policy) noexcept
{
    switch (policy) {
    case Policy::refuse_broken: return "refuse-broken";
    case Policy::refuse_warning: return "refuse-warning";
    case Policy::known_good_only: return "known-good-only";
    }
    return "refuse-broken";
}

Result<Duration> parse_duration(std::string_view text)
{
    std::size_t i = 0;
    while (i < text.size() && text[i] == ' ') ++i;
    text.remove_prefix(i);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    long long number = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc() || end == text.data() || number < 0) {
        return Error{fmt::format("'{}' is not a duration; write a number of seconds or a number with a unit "
                                 "(\"500ms\", \"90s\", \"10m\", \"1h\")",
                                 text)};
    }
    const std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
    long long ms_per = 0;
    if (unit.empty() || unit == "s") ms_per = 1000;
    else if (unit == "ms") ms_per = 1;
    else if (unit == "m" || unit == "min") ms_per = 60'000;
    else if (unit == "h") ms_per = 3'600'000;
    else {
        return Error{fmt::format("'{}' has an unknown unit '{}'; use ms, s, m or h", text, unit)};
    }
    // Ten days is far beyond any sensible timeout and keeps every later sum from overflowing.
    if (number > 10LL * 24 * 3'600'000 / ms_per) {
        return Error{fmt::format("'{}' is too long; durations stop at 10 days", text)};
    }
    return Duration(number * ms_per);
}

std::string format_duration(Duration d)
{
    const long long ms = d.count();
    if (ms % 3'600'000 == 0 && ms != 0) return fmt::format("{}h", ms / 3'600'000);
    if (ms % 60'000 == 0 && ms != 0) return fmt::format("{}m", ms / 60'000);
    if (ms % 1000 == 0) return fmt::format("{}s", ms / 1000);
    return fmt::format("{}ms", ms);
}

Endpoint endpoint_from_command(const std::vector<std::string>& argv)
{
    // The engine probe's parser reads the command as llama-server does; a command it cannot
    // read (llama-server would refuse it too) leaves the defaults, and the engine's own exit
    // reports the problem.
    Endpoint ep;
    if (auto command = probes::parse_engine_command(argv)) {
        ep.host = command->host;
        int port = 0;
        const auto [end, ec] = std::from_chars(command->port.data(), command->port.data() + command->port.size(), port);
        if (ec == std::errc() && end == command->port.data() + command->port.size() && port > 0 && port < 65536) {
            ep.port = port;
        }
        if (command->alias) ep.alias = *command->alias;
    }
    // A server listening on every address is reached on loopback.
    if (ep.host == "0.0.0.0" || ep.host.empty()) ep.host = "127.0.0.1";
    if (ep.host == "::" || ep.host == "[::]") ep.host = "::1";
    return ep;
}

namespace {

// A configuration is a few KiB; a MiB is not one.
constexpr std::size_t k_config_max_bytes = 1U << 20U;

struct Parser {
    const std::string& origin;
    std::string error;

    std::string where(const toml::node& node) const { return toml_where(origin, node.source()); }
    void fail(const toml::node& node, const std::string& message) { fail(fmt::format("{}: {}", where(node), message)); }
    void fail(std::string located_message)
    {
        if (error.empty()) error = std::move(located_message);
    }

    std::optional<std::string> string(const toml::table& t, std::string_view key, std::string_view table)
    {
        const toml::node* n = t.get(key);
        if (!n) return std::nullopt;
        if (auto s = n->value<std::string>()) return *s;
        fail(*n, fmt::format("[{}] {} must be a string (write {} = \"…\")", table, key, key));
        return std::nullopt;
    }
    void duration(const toml::table& t, std::string_view key, std::string_view table, Duration& out,
                  bool allow_zero = false)
    {
        const toml::node* n = t.get(key);
        if (!n) return;
        Result<Duration> d = Error{};
        if (auto i = n->value_exact<int64_t>()) {
            if (*i < 0) return fail(*n, fmt::format("[{}] {} must not be negative", table, key));
            d = parse_duration(std::to_string(*i));
        } else if (auto s = n->value<std::string>()) {
            d = parse_duration(*s);
        } else {
            return fail(*n, fmt::format("[{}] {} must be a duration: seconds (30) or a string with a unit (\"30s\", "
                                        "\"10m\")",
                                        table, key));
        }
        if (!d) return fail(*n, fmt::format("[{}] {}: {}", table, key, d.error().message));
        if (!allow_zero && d->count() == 0) return fail(*n, fmt::format("[{}] {} must be longer than 0", table, key));
        out = *d;
    }
    void integer(const toml::table& t, std::string_view key, std::string_view table, int& out, int min, int max)
    {
        const toml::node* n = t.get(key);
        if (!n) return;
        auto i = n->value_exact<int64_t>();
        if (!i) return fail(*n, fmt::format("[{}] {} must be an integer", table, key));
        if (*i < min || *i > max)
            return fail(*n, fmt::format("[{}] {} must be between {} and {}", table, key, min, max));
        out = static_cast<int>(*i);
    }
    void fraction(const toml::table& t, std::string_view key, std::string_view table, double& out)
    {
        const toml::node* n = t.get(key);
        if (!n) return;
        auto d = n->value<double>();
        if (!d || *d <= 0.0 || *d >= 1.0)
            return fail(*n, fmt::format("[{}] {} must be a number between 0 and 1 (0.7 = 70%)", table, key));
        out = *d;
    }
    void boolean(const toml::table& t, std::string_view key, std::string_view table, bool& out)
    {
        const toml::node* n = t.get(key);
        if (!n) return;
        auto b = n->value_exact<bool>();
        if (!b) return fail(*n, fmt::format("[{}] {} must be true or false", table, key));
        out = *b;
    }
    void unknown_keys(const toml::table& t, std::string_view table, std::initializer_list<std::string_view> known)
    {
        for (const auto& [k, v] : t) {
            bool found = false;
            for (std::string_view name : known) found = found || k.str() == name;
            if (!found) {
                fail(v,
                     fmt::format("unknown key '{}' in [{}]; see docs/config.md for the keys it takes", k.str(), table));
            }
        }
    }
};

void parse_engine(Parser& p, const toml::table& t, EngineConfig& e)
{
    auto what = probes::parse_engine_table(t, p.origin);
    if (!what) return p.fail(what.error().message);
    static_cast<probes::EngineConfig&>(e) = std::move(*what);
    if (e.name.empty()) e.name = std::filesystem::path(e.command.front()).filename().string();
    // The name becomes a journal field, a log prefix and a status line: nothing that could start
    // another field or line, or drive a terminal.
    const bool valid_name =
        !e.name.empty() && e.name.size() <= 64 &&
        e.name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._@+-") ==
            std::string::npos;
    if (!valid_name) {
        const std::string message = fmt::format(
            "[engine] name must be 1 to 64 letters, digits or . _ @ + - (it names the engine in the journal "
            "and in status); got '{}'",
            printable(e.name));
        if (const toml::node* n = t.get("name")) p.fail(*n, message);
        else p.fail(message + "; set [engine] name");
    }
    const Endpoint ep = endpoint_from_command(e.command);
    const std::string host = ep.host.find(':') != std::string::npos ? "[" + ep.host + "]" : ep.host;
    e.base_url = fmt::format("http://{}:{}", host, ep.port);
    e.alias = ep.alias;
    if (auto url = p.string(t, "health_url", "engine")) {
        if (url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0) {
            p.fail(*t.get("health_url"), "[engine] health_url must start with http:// or https://");
        }
        e.health_url = *url;
        // The chat endpoint sits beside /health on the same server.
        const std::size_t scheme = url->find("://");
        const std::size_t slash = url->find('/', scheme + 3);
        e.base_url = url->substr(0, slash);
    } else {
        e.health_url = e.base_url + "/health";
    }
    p.duration(t, "ready_timeout", "engine", e.ready_timeout);
    p.duration(t, "liveness_interval", "engine", e.liveness_interval);
    p.integer(t, "liveness_failures", "engine", e.liveness_failures, 1, 1000);
    p.duration(t, "stop_timeout", "engine", e.stop_timeout);
    p.duration(t, "smoke_timeout", "engine", e.smoke_timeout);
    p.duration(t, "early_exit", "engine", e.early_exit, true);
    p.fraction(t, "regression_threshold", "engine", e.regression_threshold);
    p.duration(t, "idle_smoke_interval", "engine", e.idle_smoke_interval, true);
    if (const toml::node* r = t.get("restart")) {
        const toml::table* rt = r->as_table();
        if (!rt) return p.fail(*r, "[engine] restart must be a table ([engine.restart])");
        p.unknown_keys(*rt, "engine.restart", {"max", "window", "backoff_initial", "backoff_max"});
        p.integer(*rt, "max", "engine.restart", e.restart.max, 0, 10000);
        p.duration(*rt, "window", "engine.restart", e.restart.window);
        p.duration(*rt, "backoff_initial", "engine.restart", e.restart.backoff_initial, true);
        p.duration(*rt, "backoff_max", "engine.restart", e.restart.backoff_max);
    }
}

void parse_daemon(Parser& p, const toml::table& t, DaemonConfig& d)
{
    p.unknown_keys(t, "daemon",
                   {"policy", "stop_on_refusal", "state_dir", "last_known_good_after", "watch", "watch_quiet"});
    if (auto policy = p.string(t, "policy", "daemon")) {
        if (*policy == "refuse-broken") d.policy = Policy::refuse_broken;
        else if (*policy == "refuse-warning") d.policy = Policy::refuse_warning;
        else if (*policy == "known-good-only") d.policy = Policy::known_good_only;
        else {
            p.fail(*t.get("policy"), fmt::format("[daemon] policy '{}' is not known; use \"refuse-broken\", "
                                                 "\"refuse-warning\" or \"known-good-only\"",
                                                 *policy));
        }
    }
    p.boolean(t, "stop_on_refusal", "daemon", d.stop_on_refusal);
    d.state_dir = p.string(t, "state_dir", "daemon");
    p.duration(t, "last_known_good_after", "daemon", d.last_known_good_after, true);
    p.boolean(t, "watch", "daemon", d.watch);
    p.duration(t, "watch_quiet", "daemon", d.watch_quiet);
}

void parse_notify(Parser& p, const toml::table& t, NotifyConfig& n)
{
    p.unknown_keys(t, "notify", {"enabled", "min_severity"});
    p.boolean(t, "enabled", "notify", n.enabled);
    if (auto s = p.string(t, "min_severity", "notify")) {
        if (*s != "info" && *s != "warning" && *s != "broken") {
            p.fail(*t.get("min_severity"), "[notify] min_severity must be \"info\", \"warning\" or \"broken\"");
        }
        n.min_severity = *s;
    }
}

void parse_export(Parser& p, const toml::table& t, ExportConfig& e)
{
    p.unknown_keys(t, "export", {"textfile", "nfd", "interval"});
    for (auto [key, out] : {std::pair{"textfile", &e.textfile}, std::pair{"nfd", &e.nfd}}) {
        auto path = p.string(t, key, "export");
        if (!path) continue;
        if (!std::filesystem::path(*path).is_absolute()) {
            p.fail(*t.get(key), fmt::format("[export] {} must be an absolute path (\"{}\" is relative)", key, *path));
        } else if (std::string_view(key) == "textfile" && !path->ends_with(".prom")) {
            p.fail(*t.get(key), fmt::format("[export] textfile \"{}\" must end in .prom: node_exporter's textfile "
                                            "collector reads only *.prom files",
                                            *path));
        }
        *out = *path;
    }
    p.duration(t, "interval", "export", e.interval);
}

void parse_feed(Parser& p, const toml::table& t, FeedConfig& f)
{
    p.unknown_keys(t, "feed", {"url", "ca_file", "trusted_keys"});
    f.url = p.string(t, "url", "feed");
    if (f.url && !f.url->starts_with("https://"))
        p.fail(*t.get("url"), fmt::format("[feed] url \"{}\" must start with https://", *f.url));
    f.ca_file = p.string(t, "ca_file", "feed");
    if (const toml::node* keys = t.get("trusted_keys")) {
        const toml::array* list = keys->as_array();
        if (!list) return p.fail(*keys, "[feed] trusted_keys must be a list of paths (write trusted_keys = [\"…\"])");
        for (const toml::node& key : *list) {
            auto path = key.value<std::string>();
            if (!path || !std::filesystem::path(*path).is_absolute())
                return p.fail(key, "[feed] trusted_keys: each must be an absolute path of a minisign .pub file");
            f.trusted_keys.push_back(*path);
        }
    }
}

void parse_client(Parser& p, const toml::table& t, ClientConfig& c)
{
    p.unknown_keys(t, "client", {"kind", "cache_check_interval"});
    p.duration(t, "cache_check_interval", "client", c.cache_check_interval, true);
    if (auto s = p.string(t, "kind", "client")) {
        if (*s == "auto") c.kind = ClientKind::auto_detect;
        else if (*s == "claude-code") c.kind = ClientKind::claude_code;
        else if (*s == "none") c.kind = ClientKind::none;
        else
            p.fail(*t.get("kind"),
                   fmt::format("[client] kind \"{}\" is unknown; write \"claude-code\" (check the engine's API "
                               "after each ready), \"none\" (never) or \"auto\" (when Claude Code's settings "
                               "point at the engine)",
                               printable(*s)));
    }
}

} // namespace

std::string_view to_string(ClientKind kind) noexcept
{
    switch (kind) {
    case ClientKind::claude_code: return "claude-code";
    case ClientKind::none: return "none";
    case ClientKind::auto_detect: break;
    }
    return "auto";
}

Result<Config> parse_config(std::string_view text, const std::string& origin, ConfigUse use)
{
    auto parsed = parse_toml(text, origin);
    if (!parsed) return parsed.error();
    const toml::table& root = *parsed;
    Config config;
    config.path = origin;
    Parser p{origin, {}};
    for (const auto& [k, v] : root) {
        if (k.str() != "engine" && k.str() != "daemon" && k.str() != "notify" && k.str() != "export" &&
            k.str() != "feed" && k.str() != "client") {
            p.fail(v, fmt::format("unknown table or key '{}'; the config holds [engine], [daemon], [notify], "
                                  "[export], [feed] and [client]",
                                  k.str()));
        }
    }
    const toml::node* engine = root.get("engine");
    if (!engine && use == ConfigUse::daemon)
        return Error{fmt::format("{}:1:1: no [engine] table; halo-checkd needs the engine's command: add [engine] "
                                 "command = [\"llama-server\", …] (docs/config.md)",
                                 origin)};
    if (engine && !engine->is_table()) p.fail(*engine, "engine must be a table ([engine])");
    else if (engine) parse_engine(p, *engine->as_table(), config.engine);
    if (const toml::node* d = root.get("daemon")) {
        if (!d->is_table()) p.fail(*d, "daemon must be a table ([daemon])");
        else parse_daemon(p, *d->as_table(), config.daemon);
    }
    if (const toml::node* n = root.get("notify")) {
        if (!n->is_table()) p.fail(*n, "notify must be a table ([notify])");
        else parse_notify(p, *n->as_table(), config.notify);
    }
    if (const toml::node* x = root.get("export")) {
        if (!x->is_table()) p.fail(*x, "export must be a table ([export])");
        else parse_export(p, *x->as_table(), config.exporting);
    }
    if (const toml::node* f = root.get("feed")) {
        if (!f->is_table()) p.fail(*f, "feed must be a table ([feed])");
        else parse_feed(p, *f->as_table(), config.feed);
    }
    if (const toml::node* c = root.get("client")) {
        if (!c->is_table()) p.fail(*c, "client must be a table ([client])");
        else parse_client(p, *c->as_table(), config.client);
    }
    if (!p.error.empty()) return Error{p.error};
    return config;
}

Result<Config> load_config(const std::string& path, ConfigUse use)
{
    // An admin may keep it elsewhere and link it: followed; a FIFO or a device is not a config.
    auto text = read_bounded_file(path, k_config_max_bytes, Links::follow, "config");
    if (!text) {
        if (text.error().errno_value == ENOENT)
            return Error{text.error().message + "; create it (see docs/config.md) or pass --config FILE", ENOENT};
        return text.error();
    }
    return parse_config(*text, path, use);
}

std::string default_config_path() { return probes::default_config_path(probes::Host("/")); }

std::string resolve_state_dir(const std::optional<std::string>& flag, const Config* config)
{
    if (flag) return *flag;
    if (config && config->daemon.state_dir) return *config->daemon.state_dir;
    return default_state_dir();
}

std::string resolve_state_dir(const std::optional<std::string>& flag)
{
    if (flag) return *flag;
    const std::string path = default_config_path();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return resolve_state_dir(flag, nullptr);
    auto config = load_config(path, ConfigUse::cli);
    return resolve_state_dir(flag, config ? &*config : nullptr);
}

} // namespace halo::app
