#pragma once
// The engine's command line, understood the way the programs in it understand it: first the
// wrapper that picks the container (`toolbox run -c NAME …`, `podman exec [opts] NAME …`,
// `distrobox enter NAME -- …`, or nothing: the host), then llama-server's own flags (as
// llama.cpp common/arg.cpp parses them: last occurrence wins, `--flag=value` accepted, unknown
// flags ignored here because newer builds add flags faster than we can list them).
// Pure: reads nothing. Used by the engine probe (config `[engine] command`) and by
// `halo-check run -- COMMAND…`. Introduced in 0.1.0.

#include "common/result.hpp"

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace halo::probes {

struct EngineCommand {
    std::string wrapper = "host"; // toolbox | podman | distrobox | host
    std::optional<std::string> container;
    std::string binary;            // as written: "llama-server", "/opt/llama/bin/llama-server"
    std::vector<std::string> args; // the engine's own arguments, after the binary

    std::optional<std::string> model_path; // -m / --model, as written
    std::optional<std::string> hf_repo;    // -hf / --hf-repo
    std::optional<std::string> ctx_size;   // -c / --ctx-size, validated as an integer
    std::string flash_attn = "auto";       // on | off | auto
    std::string host = "127.0.0.1";
    std::string port = "8080";
    std::string mmap = "on";                 // on | off
    std::optional<std::string> n_gpu_layers; // -ngl: a number, or "auto"/"all" in newer builds
    std::optional<std::string> jinja;        // on | off when given (--jinja / --no-jinja)
    std::optional<std::string> reasoning_budget;
    // enable_thinking from --chat-template-kwargs '{"enable_thinking":false}' (true | false), when
    // the flag's JSON object sets it as a boolean.
    std::optional<std::string> enable_thinking;
    std::string prefill_assistant = "on"; // off with --no-prefill-assistant
    std::optional<std::string> alias;
    std::optional<std::string> load_mode;
    std::optional<std::string> direct_io; // on | off when given (--direct-io / --no-direct-io)
    // NAME=value pairs the command itself puts into the engine's environment: `env NAME=value`
    // before or after the wrapper, `podman exec -e NAME=value`, `toolbox run --env NAME=value`.
    // A later setting wins, as it does for the engine. Everything is kept here; only the names
    // env_name_recorded() (probes/recorded_env.hpp) accepts become facts, because values of other variables may be
    // secrets.
    std::map<std::string, std::string> env;
    // --api-key (each occurrence adds its comma-separated keys, as llama-server does) and
    // --api-key-file (each one names a file of keys). Secrets: no fact, log or state holds them.
    std::vector<std::string> api_keys;
    std::vector<std::string> api_key_files;
};

// Fails for what llama-server itself would refuse (a flag without its value, `-c abc`,
// `--flash-attn maybe`, `--port 70000`) and for an argv that names no program.
Result<EngineCommand> parse_engine_command(std::span<const std::string> argv);

// The keys of one --api-key value (or of LLAMA_API_KEY): comma-separated, as llama-server reads
// it; empty pieces are no key.
std::vector<std::string> split_api_keys(std::string_view list);

// (key, value) pairs under `engine.`: engine.wrapper, engine.container, engine.binary,
// engine.model.path, engine.ctx_size, engine.flash_attn, … Optional values that are absent
// produce no key. An API key is engine.api_key = "set", never its value. The command's
// environment gives engine.env.NAME for the names env_name_recorded() accepts.
std::vector<std::pair<std::string, std::string>> engine_command_facts(const EngineCommand& command);

} // namespace halo::probes
