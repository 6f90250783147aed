#pragma once
// client probe: the client that talks to the engine. Today Claude Code: its user settings
// ($CLAUDE_CONFIG_DIR, else $HOME/.claude: settings.json, then settings.local.json, whose keys win),
// their `env` block (the variables Claude Code runs with) and top-level `model`.
// Whose settings: the user the probes run as: $HOME (or $CLAUDE_CONFIG_DIR) from the
// configuration's host (ProbeContext::config_host, the programs' own environment), the files read
// under the machine's root, so --root moves the files and not the user: the invoking user for
// halo-check; for halo-checkd the daemon's user, which for a system daemon is
// root unless its unit sets HOME or CLAUDE_CONFIG_DIR to the served user's (docs/engine-check.md).
// Reads: the two settings files (JSON, 1 MiB at most). Privileges: none beyond the user's own.
// Sets: client.claude_code.* (never the auth token: only set/unset), and, from the engine probe's
// engine.host and engine.port, whether the base URL reaches that engine.
// Feeds: client.claude-code-other-port, client.claude-code-other-host, client.exposed-without-key,
// client.attribution-header, client.prefill-400-ahead. Runs after the engine probe. Since 0.1.0.

#include "common/result.hpp"
#include "probes/probe.hpp"

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace halo::probes {

extern const ProbeInfo k_client_probe;

// One settings file's JSON: its `env` block (string values) and top-level `model`. An error names
// the line and column of bad JSON, or what has the wrong type.
struct ClaudeSettings {
    std::map<std::string, std::string> env;
    std::optional<std::string> model;
};
Result<ClaudeSettings> parse_claude_settings(std::string_view json);

// Claude Code's settings directory: $CLAUDE_CONFIG_DIR, else $HOME/.claude; empty when neither
// is set.
std::string claude_code_dir(const Host& host);

struct SettingValue {
    std::string text;
    std::string origin; // the file it came from
};

// The two settings files merged, settings.local.json's keys winning. Holds the auth token as it
// stands in the file: for a request to the engine, never for a fact, log or message.
struct ClaudeCodeSettings {
    std::string first_file; // the first file found (settings.json when it exists)
    std::map<std::string, SettingValue> env;
    std::optional<SettingValue> model; // ANTHROPIC_MODEL, else the top-level "model"

    // The value of the first of `names` the env block sets.
    std::optional<SettingValue> env_value(std::initializer_list<std::string_view> names) const;
};

// The files in `dir` (claude_code_dir()), read through `host`: nullopt when there is no settings
// file (or `dir` is empty); an error, complete with the path, the line and what to do, when one
// cannot be read or is not valid JSON.
Result<std::optional<ClaudeCodeSettings>> read_claude_code_settings(const Host& host, const std::string& dir);

// A base URL's parts. The port is the scheme's default (80, 443) when the URL names none.
struct BaseUrl {
    std::string scheme;
    std::string host; // without IPv6 brackets
    std::string port;
};
Result<BaseUrl> parse_base_url(std::string_view url);

bool is_loopback_host(std::string_view host);

// Whether a client at `client` reaches an engine listening on `engine_host`:`engine_port`:
// "true", "other-port" or "other-host"; nullopt when the text cannot tell (a host name against an
// engine bound to one address).
std::optional<std::string> reaches_engine(const BaseUrl& client, std::string_view engine_host,
                                          std::string_view engine_port);

} // namespace halo::probes
