#include "probes/client_probe.hpp"

#include "common/text.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace halo::probes {

namespace {

using nlohmann::json;

constexpr std::size_t k_max_settings_bytes = 1u << 20;

// nlohmann's message without its "[json.exception.parse_error.101] " tag, and the line and
// column of `byte` (1-based; nlohmann counts the byte after the error).
std::string parse_error_text(std::string_view text, const json::parse_error& e)
{
    std::string message = e.what();
    if (message.starts_with("[json.exception.")) {
        if (const auto close = message.find("] "); close != std::string::npos) message.erase(0, close + 2);
    }
    const std::size_t at = std::min<std::size_t>(e.byte == 0 ? 0 : e.byte - 1, text.size());
    const std::string_view before = text.substr(0, at);
    const std::size_t line = 1 + static_cast<std::size_t>(std::count(before.begin(), before.end(), '\n'));
    const std::size_t newline = before.rfind('\n');
    const std::size_t column = newline == std::string_view::npos ? at + 1 : at - newline;
    // nlohmann's own position text repeats ours; keep one.
    if (const auto pos = message.find("parse error at line "); pos != std::string::npos) {
        if (const auto colon = message.find(": ", pos); colon != std::string::npos) message.erase(pos, colon + 2 - pos);
    }
    return fmt::format("line {}, column {}: {}", line, column, message);
}

std::string lower(std::string_view s)
{
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

bool all_digits(std::string_view s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_wildcard_host(std::string_view host) { return host == "0.0.0.0" || host == "::" || host.empty(); }

// An IPv4 or IPv6 literal, which names one address: two different ones are two machines' (or
// interfaces') addresses; a host name may be any of them.
bool is_ip_literal(std::string_view host)
{
    if (host.find(':') != std::string_view::npos) return true;
    return !host.empty() &&
           std::all_of(host.begin(), host.end(), [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

} // namespace

Result<ClaudeSettings> parse_claude_settings(std::string_view text)
{
    json doc;
    try {
        doc = json::parse(text);
    } catch (const json::parse_error& e) {
        return Error{parse_error_text(text, e)};
    }
    if (!doc.is_object()) return Error{fmt::format("the top level is a JSON {}, not an object", doc.type_name())};
    ClaudeSettings settings;
    if (const auto model = doc.find("model"); model != doc.end()) {
        if (!model->is_string()) return Error{fmt::format("\"model\" is a JSON {}, not a string", model->type_name())};
        settings.model = model->get<std::string>();
    }
    const auto env = doc.find("env");
    if (env == doc.end()) return settings;
    if (!env->is_object()) return Error{fmt::format("\"env\" is a JSON {}, not an object", env->type_name())};
    for (const auto& [name, value] : env->items()) {
        // Claude Code takes the block's values as environment strings; numbers and booleans are
        // written unquoted often enough ("CLAUDE_CODE_ATTRIBUTION_HEADER": 0) to read them as text.
        if (value.is_string()) settings.env[name] = value.get<std::string>();
        else if (value.is_number() || value.is_boolean()) settings.env[name] = value.dump();
        else return Error{fmt::format("\"env\".\"{}\" is a JSON {}, not a string", name, value.type_name())};
    }
    return settings;
}

Result<BaseUrl> parse_base_url(std::string_view url)
{
    const auto sep = url.find("://");
    if (sep == std::string_view::npos) return Error{fmt::format("'{}' has no scheme (http:// or https://)", url)};
    BaseUrl out;
    out.scheme = lower(url.substr(0, sep));
    if (out.scheme != "http" && out.scheme != "https")
        return Error{fmt::format("'{}': the scheme is '{}', not http or https", url, out.scheme)};
    std::string_view rest = url.substr(sep + 3);
    rest = rest.substr(0, std::min(rest.find_first_of("/?#"), rest.size()));
    if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest.remove_prefix(at + 1);
    std::string_view port;
    if (rest.starts_with('[')) {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) return Error{fmt::format("'{}': an IPv6 address without its ']'", url)};
        out.host = std::string(rest.substr(1, close - 1));
        const std::string_view after = rest.substr(close + 1);
        if (after.starts_with(':')) port = after.substr(1);
        else if (!after.empty()) return Error{fmt::format("'{}': text after the IPv6 address", url)};
    } else {
        const auto colon = rest.rfind(':');
        out.host = lower(rest.substr(0, colon));
        if (colon != std::string_view::npos) port = rest.substr(colon + 1);
    }
    if (out.host.empty()) return Error{fmt::format("'{}' names no host", url)};
    if (port.empty()) {
        out.port = out.scheme == "https" ? "443" : "80";
    } else {
        const auto n = to_number(port);
        if (!all_digits(port) || !n || *n == 0 || *n > 65535)
            return Error{fmt::format("'{}': invalid port '{}'", url, port)};
        out.port = std::to_string(*n);
    }
    return out;
}

bool is_loopback_host(std::string_view host)
{
    const std::string h = lower(host);
    return h == "localhost" || h.ends_with(".localhost") || h.starts_with("127.") || h == "::1" ||
           h == "0:0:0:0:0:0:0:1" || h == "::ffff:127.0.0.1";
}

std::optional<std::string> reaches_engine(const BaseUrl& client, std::string_view engine_host,
                                          std::string_view engine_port)
{
    if (client.port != engine_port) return std::string("other-port");
    if (is_wildcard_host(engine_host)) return std::string("true"); // it listens on every address
    const bool client_loop = is_loopback_host(client.host);
    const bool engine_loop = is_loopback_host(engine_host);
    // A loopback-bound engine is out of reach of any other address, and a loopback client reaches
    // only a loopback (or wildcard) listener.
    if (client_loop && engine_loop) return std::string("true");
    if (client_loop != engine_loop) return std::string("other-host");
    if (lower(client.host) == lower(engine_host)) return std::string("true");
    if (is_ip_literal(client.host) && is_ip_literal(engine_host)) return std::string("other-host");
    return std::nullopt;
}

std::string claude_code_dir(const Host& host)
{
    if (auto dir = host.env("CLAUDE_CONFIG_DIR"); dir && !dir->empty()) return *dir;
    if (auto home = host.env("HOME"); home && !home->empty()) return *home + "/.claude";
    return {};
}

std::optional<SettingValue> ClaudeCodeSettings::env_value(std::initializer_list<std::string_view> names) const
{
    for (std::string_view name : names)
        if (auto it = env.find(std::string(name)); it != env.end()) return it->second;
    return std::nullopt;
}

Result<std::optional<ClaudeCodeSettings>> read_claude_code_settings(const Host& host, const std::string& dir)
{
    if (dir.empty()) return std::optional<ClaudeCodeSettings>{};
    if (!dir.starts_with('/')) {
        return Error{fmt::format("the Claude Code settings directory '{}' is not an absolute path; set "
                                 "$CLAUDE_CONFIG_DIR or $HOME to an absolute path",
                                 dir)};
    }
    ClaudeCodeSettings out;
    for (const std::string name : {"settings.json", "settings.local.json"}) {
        const std::string path = dir + "/" + name;
        if (!host.exists(path)) continue;
        auto text = host.read_file(path, k_max_settings_bytes);
        if (!text) {
            return Error{fmt::format("{}; Claude Code's settings are unknown. Make the file readable by this user "
                                     "(chmod u+r '{}')",
                                     text.error().message, path)};
        }
        auto settings = parse_claude_settings(*text);
        if (!settings) {
            return Error{fmt::format("Failed to parse '{}' at {}; Claude Code cannot read it either. Fix the JSON "
                                     "(python3 -m json.tool '{}' shows where)",
                                     path, settings.error().message, path)};
        }
        if (out.first_file.empty()) out.first_file = path;
        for (auto& [key, value] : settings->env) out.env[key] = SettingValue{std::move(value), path};
        if (settings->model) out.model = SettingValue{*settings->model, path};
    }
    if (out.first_file.empty()) return std::optional<ClaudeCodeSettings>{};
    // The env block's ANTHROPIC_MODEL wins over the settings' "model", as it does in Claude Code.
    if (auto m = out.env_value({"ANTHROPIC_MODEL"})) out.model = m;
    return std::optional<ClaudeCodeSettings>{std::move(out)};
}

namespace {

constexpr std::array<std::string_view, 2> k_sources = {"settings.json in $CLAUDE_CONFIG_DIR, else in ~/.claude",
                                                       "settings.local.json there (its keys win)"};
constexpr std::array<std::string_view, 1> k_provides = {"client.*"};
constexpr std::array<std::string_view, 1> k_reads = {"engine"};

rules::ProbeStatus collect(const ProbeContext& context, FactSink& sink)
{
    // The user is the programs' (their environment); the files are the judged machine's.
    const std::string dir = claude_code_dir(context.config_host ? *context.config_host : context.host);
    if (dir.empty())
        return status_not_applicable("neither $CLAUDE_CONFIG_DIR nor $HOME is set: no Claude Code settings to read");
    auto read = read_claude_code_settings(context.host, dir);
    if (!read) return status_failed(read.error().message);
    if (!*read) {
        return status_not_applicable(
            fmt::format("no Claude Code settings ('{}/settings.json' or settings.local.json)", dir));
    }
    const ClaudeCodeSettings& settings = **read;
    const std::string& first_file = settings.first_file;
    sink.set("client.kind", "claude-code", first_file);
    sink.set("client.claude_code.settings", first_file, first_file);
    if (settings.model) sink.set("client.claude_code.model", settings.model->text, settings.model->origin);
    if (auto m = settings.env_value({"ANTHROPIC_SMALL_FAST_MODEL", "ANTHROPIC_DEFAULT_HAIKU_MODEL"}))
        sink.set("client.claude_code.small_fast_model", m->text, m->origin);
    // Never the token itself: only whether one is set, and where.
    const auto token = settings.env_value({"ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY"});
    const bool token_set = token && !token->text.empty();
    sink.set("client.claude_code.auth_token", token_set ? "set" : "unset", token_set ? token->origin : first_file);
    // Claude Code sends the header unless the variable turns it off.
    const auto header = settings.env_value({"CLAUDE_CODE_ATTRIBUTION_HEADER"});
    const std::string header_value = header ? lower(trim(header->text)) : std::string();
    const bool off = header_value == "0" || header_value == "false" || header_value == "off" || header_value == "no";
    sink.set("client.claude_code.attribution_header", off ? "off" : "on", header ? header->origin : first_file);

    const auto base = settings.env_value({"ANTHROPIC_BASE_URL"});
    if (!base) return status_ok(); // Anthropic's own service: nothing local to compare
    sink.set("client.claude_code.base_url", base->text, base->origin);
    auto url = parse_base_url(base->text);
    if (!url) {
        sink.unknown("client.claude_code.base_url.*", url.error().message);
        sink.unknown("client.claude_code.points_at_engine", url.error().message);
        return status_partial(fmt::format("ANTHROPIC_BASE_URL in '{}': {}; write it as http://HOST:PORT", base->origin,
                                          url.error().message));
    }
    sink.set("client.claude_code.base_url.host", url->host, base->origin);
    sink.set("client.claude_code.base_url.port", url->port, base->origin);
    sink.set("client.claude_code.base_url.loopback", is_loopback_host(url->host) ? "true" : "false", base->origin);

    const rules::Facts& facts = sink.facts();
    const auto engine_host = facts.get("engine.host");
    const auto engine_port = facts.get("engine.port");
    if (engine_host && engine_port) {
        if (auto reach = reaches_engine(*url, *engine_host, *engine_port))
            sink.set("client.claude_code.points_at_engine", *reach,
                     fmt::format("{} against the engine's {}:{}", base->text, *engine_host, *engine_port));
    }
    return status_ok();
}

} // namespace

const ProbeInfo k_client_probe = {
    "client",  "Claude Code's settings: the engine it talks to, its model, its headers",
    k_sources, k_provides,
    k_reads,   false,
    collect,
};

} // namespace halo::probes
