#include "probes/engine_config.hpp"

#include "common/spelling.hpp"
#include "common/toml.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <iterator>

namespace halo::probes {

namespace {

constexpr std::string_view k_engine_keys[] = {"name", "container", "command", "backend", "env", "api_key_file"};
// Read by daemon/config.cpp; named here so the one parser of [engine] knows the whole table and a
// typo is caught by the probe as well as by the daemon.
constexpr std::string_view k_supervision_keys[] = {
    "health_url",    "ready_timeout", "liveness_interval", "liveness_failures",    "stop_timeout",
    "smoke_timeout", "early_exit",    "restart",           "regression_threshold", "idle_smoke_interval"};

Error at(std::string_view origin, const toml::node& node, std::string_view what)
{
    return Error{fmt::format("{}: {}", toml_where(origin, node.source()), what)};
}

bool known_key(std::string_view key)
{
    auto in = [&](const auto& list) { return std::find(std::begin(list), std::end(list), key) != std::end(list); };
    return in(k_engine_keys) || in(k_supervision_keys);
}

Result<void> check_keys(const toml::table& engine, std::string_view origin)
{
    for (const auto& [key, value] : engine) {
        if (known_key(key.str())) continue;
        std::vector<std::string> names(std::begin(k_engine_keys), std::end(k_engine_keys));
        names.insert(names.end(), std::begin(k_supervision_keys), std::end(k_supervision_keys));
        std::string hint;
        if (auto guess = nearest(key.str(), names)) hint = fmt::format(" (did you mean '{}'?)", *guess);
        return at(
            origin, value,
            fmt::format("unknown key '{}' in [engine]{}; see docs/config.md for the keys it takes", key.str(), hint));
    }
    return {};
}

Result<std::optional<std::string>> string_key(const toml::table& engine, std::string_view key, std::string_view origin)
{
    const toml::node* node = engine.get(key);
    if (!node) return std::optional<std::string>();
    if (auto s = node->value_exact<std::string>()) return std::optional<std::string>(std::move(*s));
    return at(origin, *node, fmt::format("[engine] {} must be a string (write {} = \"…\")", key, key));
}

Result<std::vector<std::string>> command_key(const toml::table& engine, std::string_view origin)
{
    const toml::node* node = engine.get("command");
    if (!node) {
        return at(origin, engine,
                  "[engine] has no 'command'; write the engine's argv as an array, e.g. command = "
                  "[\"toolbox\", \"run\", \"-c\", \"llama-vulkan-radv\", \"llama-server\", \"-m\", \"…\"]");
    }
    const toml::array* argv = node->as_array();
    if (!argv || argv->empty()) {
        return at(origin, *node, "[engine] command must be a non-empty array of strings (argv, run without a shell)");
    }
    std::vector<std::string> command;
    for (const toml::node& word : *argv) {
        auto s = word.value_exact<std::string>();
        if (!s || s->empty()) return at(origin, word, "[engine] command must hold non-empty strings only");
        command.push_back(std::move(*s));
    }
    return command;
}

Result<std::map<std::string, std::string>> env_key(const toml::table& engine, std::string_view origin)
{
    std::map<std::string, std::string> env;
    const toml::node* node = engine.get("env");
    if (!node) return env;
    const toml::table* table = node->as_table();
    if (!table) return at(origin, *node, "[engine] env must be a table of strings ([engine.env] NAME = \"value\")");
    for (const auto& [key, value] : *table) {
        auto s = value.value_exact<std::string>();
        if (!s) return at(origin, value, fmt::format("[engine.env] {} must be a string", key.str()));
        if (key.str().empty() || key.str().find('=') != std::string_view::npos) {
            return at(origin, value, fmt::format("[engine.env] '{}' is not a valid variable name", key.str()));
        }
        env[std::string(key.str())] = std::move(*s);
    }
    return env;
}

} // namespace

std::span<const std::string_view> engine_supervision_keys() { return k_supervision_keys; }

Result<EngineConfig> parse_engine_table(const toml::table& engine, std::string_view origin)
{
    HALO_TRY(check_keys(engine, origin));
    EngineConfig config;
    auto command = command_key(engine, origin);
    if (!command) return command.error();
    config.command = std::move(*command);
    auto name = string_key(engine, "name", origin);
    if (!name) return name.error();
    config.name = name->value_or("");
    auto container = string_key(engine, "container", origin);
    if (!container) return container.error();
    config.container = std::move(*container);
    auto backend = string_key(engine, "backend", origin);
    if (!backend) return backend.error();
    config.backend = std::move(*backend);
    auto env = env_key(engine, origin);
    if (!env) return env.error();
    config.env = std::move(*env);
    auto key_file = string_key(engine, "api_key_file", origin);
    if (!key_file) return key_file.error();
    if (*key_file && !(*key_file)->starts_with('/') && !(*key_file)->starts_with("~/")) {
        return at(origin, *engine.get("api_key_file"),
                  fmt::format("[engine] api_key_file '{}' must be an absolute path or start with ~/ (the file holding "
                              "the API key the smoke test sends)",
                              **key_file));
    }
    config.api_key_file = std::move(*key_file);
    return config;
}

Result<std::optional<EngineConfig>> parse_engine_config(std::string_view text, const std::string& origin)
{
    auto root = parse_toml(text, origin);
    if (!root) return root.error();
    const toml::node* node = root->get("engine");
    if (!node) return std::optional<EngineConfig>();
    const toml::table* engine = node->as_table();
    if (!engine) return at(origin, *node, "engine must be a table ([engine])");
    auto config = parse_engine_table(*engine, origin);
    if (!config) return config.error();
    return std::optional<EngineConfig>(std::move(*config));
}

} // namespace halo::probes
