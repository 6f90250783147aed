#pragma once
// The [engine] table of config.toml (docs/config.md): what the engine is. The engine probe reads
// it for its facts; the daemon's configuration (daemon/config.hpp) extends it with the
// supervision timings from the same table, parsed once. Errors read
// `file:line:col: what is wrong, how to fix it`; unknown keys are errors for both readers.

#include "common/result.hpp"

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace toml {
inline namespace v3 {
class table;
}
} // namespace toml

namespace halo::probes {

struct EngineConfig {
    std::string name;                       // as written; empty when the table names none
    std::optional<std::string> container;   // the toolbox/podman container it runs in, when any
    std::vector<std::string> command;       // argv, run without a shell; never empty
    std::optional<std::string> backend;     // "vulkan-radv", "rocm-7.2" …: overrides the guess
    std::map<std::string, std::string> env; // added to the engine's environment
    // The file holding the API key the daemon's smoke test sends, in llama-server's
    // --api-key-file format (the first key is sent); absolute or under ~/.
    std::optional<std::string> api_key_file;
};

// The keys of [engine] that EngineConfig does not hold: the daemon's supervision settings
// (health_url, ready_timeout … restart). The parser accepts them and leaves them to the daemon.
std::span<const std::string_view> engine_supervision_keys();

// One parsed [engine] table; `origin` names the file in messages.
Result<EngineConfig> parse_engine_table(const toml::table& engine, std::string_view origin);

// A whole config document: nullopt when it has no [engine] table (no engine configured). Only
// [engine] is read; the daemon's own tables are its business.
Result<std::optional<EngineConfig>> parse_engine_config(std::string_view toml_text, const std::string& origin);

} // namespace halo::probes
