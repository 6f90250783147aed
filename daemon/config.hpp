#pragma once
// The daemon's configuration: config.toml with [engine], [engine.restart], [daemon], [notify],
// [export], [feed] and [client].
// Every key is documented in docs/config.md. Durations are integers (seconds) or strings with a
// unit ("500ms", "90s", "10m", "1h"). Errors read `file:line:col: what is wrong, how to fix it`.

#include "common/result.hpp"
#include "probes/engine_config.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace halo::app {

using Duration = std::chrono::milliseconds;

enum class Policy { refuse_broken, refuse_warning, known_good_only };
std::string_view to_string(Policy policy) noexcept;

struct RestartConfig {
    int max = 5; // restarts allowed within `window`
    Duration window = std::chrono::minutes(10);
    // First delay, doubled per restart: 200 ms puts a crashed engine back within a second while a
    // crash loop still backs off quickly (0.2, 0.4, 0.8, 1.6 s … up to backoff_max).
    Duration backoff_initial = std::chrono::milliseconds(200);
    Duration backoff_max = std::chrono::seconds(60);
};

// [engine]: what the engine is (probes/engine_config.hpp, shared with the engine probe) and how
// the daemon supervises it, read from the same table in one pass. Here `name` is never empty: it
// names the journal stream and the status line, so an unnamed engine takes its command's first
// word.
struct EngineConfig : probes::EngineConfig {
    std::string health_url;           // defaulted from --host/--port in the command
    std::string base_url;             // scheme://host:port, for /v1/chat/completions
    std::optional<std::string> alias; // --alias / -a from the command (smoke-test model name)
    Duration ready_timeout = std::chrono::minutes(10);
    Duration liveness_interval = std::chrono::seconds(30);
    int liveness_failures = 3;
    Duration stop_timeout = std::chrono::seconds(30);
    Duration smoke_timeout = std::chrono::seconds(60);
    // Exit status 1 within this long after start means "will not work": no restart.
    Duration early_exit = std::chrono::seconds(30);
    // A speed regression: the median of the last 3 smoke tests below this share of the last good
    // figure for the same model (docs/daemon.md).
    double regression_threshold = 0.7;
    // A smoke test this often while the engine is idle (no slot busy); zero: only after a start
    // and on `halo-check smoke`.
    Duration idle_smoke_interval{0};
    RestartConfig restart;
};

struct DaemonConfig {
    Policy policy = Policy::refuse_broken;
    bool stop_on_refusal = false;
    std::optional<std::string> state_dir;
    // The engine ready with a passing smoke test this long → its facts become last known good.
    Duration last_known_good_after = std::chrono::minutes(10);
    // Watch the machine for changes (packages, boot entries, containers, devices, rules, config).
    bool watch = true;
    // A change is acted on after this long without further changes (bursts become one re-check).
    Duration watch_quiet = std::chrono::seconds(2);
};

// [notify]: desktop notifications (docs/notifications.md).
struct NotifyConfig {
    bool enabled = true;
    std::string min_severity = "warning"; // info | warning | broken
};

// [export]: files for a fleet's tools, rewritten after every re-check (docs/fleet.md).
struct ExportConfig {
    std::optional<std::string> textfile; // node_exporter's textfile collector reads it (*.prom)
    std::optional<std::string> nfd;      // node-feature-discovery's features.d file
    // While an export is configured, the machine is re-checked at least this often, so the
    // gauges stay current; NFD's labels expire after twice this.
    Duration interval = std::chrono::minutes(5);
    bool any() const { return textfile || nfd; }
};

// [feed]: where `halo-check update` fetches the signed knowledge feed (docs/feed.md).
struct FeedConfig {
    std::optional<std::string> url;        // https://…/feed.toml; its signature is URL.minisig
    std::optional<std::string> ca_file;    // CA certificates for the fetch (default: the system's)
    std::vector<std::string> trusted_keys; // minisign .pub files trusted besides the built-in keys
};

// [client]: the client that talks to the engine, whose API halo-checkd checks after each ready
// (docs/engine-check.md). auto: when the client probe finds Claude Code's settings pointing at the
// engine; claude_code: always; none: never.
enum class ClientKind { auto_detect, claude_code, none };
std::string_view to_string(ClientKind kind) noexcept;

struct ClientConfig {
    ClientKind kind = ClientKind::auto_detect;
    // cache-reuse (prompt-sized) this often while the checks are wanted; zero: never (default).
    Duration cache_check_interval{0};
};

struct Config {
    std::string path; // where it was read from, for messages
    EngineConfig engine;
    DaemonConfig daemon;
    NotifyConfig notify;
    ExportConfig exporting; // [export]
    FeedConfig feed;        // [feed]
    ClientConfig client;    // [client]
};

// Parses "90s", "10m", "1h", "500ms" or a bare number of seconds.
Result<Duration> parse_duration(std::string_view text);
std::string format_duration(Duration d);

// Who reads it: halo-checkd needs [engine]; halo-check also reads a file with none (a user who
// runs no daemon, with only [feed] for `halo-check update`).
enum class ConfigUse { daemon, cli };

// Parses config text; `origin` names the file in messages.
Result<Config> parse_config(std::string_view text, const std::string& origin, ConfigUse use = ConfigUse::daemon);
Result<Config> load_config(const std::string& path, ConfigUse use = ConfigUse::daemon);

// probes::default_config_path() for this machine: $XDG_CONFIG_HOME/halo-check/config.toml (or
// ~/.config/…) when it exists, else /etc/halo-check/config.toml.
std::string default_config_path();

// Where halo-checkd keeps its state, one rule for both programs and every command (status, the
// control verbs, diff, export): --state-dir, else the configuration's [daemon] state_dir, else
// default_state_dir() ($STATE_DIRECTORY, $XDG_STATE_HOME/halo-check, ~/.local/state/halo-check for a
// user, /var/lib/halo-check for root).
std::string resolve_state_dir(const std::optional<std::string>& flag, const Config* config);
// The same with the configuration at default_config_path(), when it is there and valid.
std::string resolve_state_dir(const std::optional<std::string>& flag);

// host and port from llama-server style arguments (--host H, --port P, also --host=H);
// defaults 127.0.0.1 and 8080 as llama-server uses. 0.0.0.0 and :: map to loopback.
struct Endpoint {
    std::string host = "127.0.0.1";
    int port = 8080;
    std::optional<std::string> alias;
};
Endpoint endpoint_from_command(const std::vector<std::string>& argv);

} // namespace halo::app
