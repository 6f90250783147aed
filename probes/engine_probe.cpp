#include "probes/engine_probe.hpp"

#include "probes/chat_template.hpp"
#include "probes/config_path.hpp"
#include "probes/engine_command.hpp"
#include "probes/engine_config.hpp"
#include "probes/gguf.hpp"
#include "probes/program_lookup.hpp"
#include "probes/recorded_env.hpp"

#include <fmt/core.h>

#include <optional>
#include <vector>

namespace halo::probes {

std::string guess_backend(std::string_view tag, std::string_view container, std::string_view binary)
{
    auto from_name = [](std::string_view s) -> std::string {
        if (s.starts_with("rocm") || s.starts_with("therock")) return "rocm";
        if (s.starts_with("vulkan")) return "vulkan";
        return {};
    };
    if (auto b = from_name(tag); !b.empty()) return b;
    if (container.starts_with("llama-")) container.remove_prefix(6);
    if (auto b = from_name(container); !b.empty()) return b;
    if (binary.find("rocm") != std::string_view::npos || binary.find("hip") != std::string_view::npos) return "rocm";
    if (binary.find("vulkan") != std::string_view::npos) return "vulkan";
    return {};
}

namespace {

struct Source {
    std::vector<std::string> argv;
    std::optional<EngineConfig> config;
    std::string origin; // "command line" or the config path
};

// nullopt + empty error = no engine configured.
Result<std::optional<Source>> find_command(const ProbeContext& context)
{
    if (context.engine_command)
        return std::optional<Source>(Source{*context.engine_command, std::nullopt, "command line"});
    const Host& host = context.config_host ? *context.config_host : context.host;
    const std::string path = context.config_path ? *context.config_path : default_config_path(host);
    // Only a file named with --config must exist; none at the default path means no engine.
    if (!context.config_path && !host.exists(path)) return std::optional<Source>();
    auto text = host.read_file(path, 1u << 20);
    if (!text) return text.error();
    auto config = parse_engine_config(*text, path);
    if (!config) return config.error();
    if (!*config) return std::optional<Source>();
    auto argv = (*config)->command;
    return std::optional<Source>(Source{std::move(argv), std::move(**config), path});
}

// A key the command does not show: one for the daemon to send, or one llama-server reads from
// its environment (set in [engine.env]).
bool wants_api_key(const EngineConfig& config)
{
    return config.api_key_file || config.env.count("LLAMA_API_KEY") != 0 ||
           config.env.count("LLAMA_ARG_API_KEY_FILE") != 0;
}

std::string expand_home(const Host& host, const std::string& path)
{
    if (path == "~" || path.starts_with("~/")) {
        if (auto home = host.env("HOME")) return *home + path.substr(1);
    }
    return path;
}

// What the GGUF header gives. Marked unknown one by one, never as engine.model.*: that would make
// engine.model.readable and engine.model.gguf unknown too, and their rules undecided, for a model
// that is not a local file at all (-hf, no -m).
constexpr std::string_view k_header_keys[] = {
    "engine.model.name",         "engine.model.architecture",   "engine.model.size_label",
    "engine.model.file_type",    "engine.model.file_type_name", "engine.model.context_length",
    "engine.model.gguf_version", "engine.model.size_bytes",     "engine.model.split_count",
};

void header_unknown(FactSink& sink, const std::string& reason)
{
    for (std::string_view key : k_header_keys) sink.unknown(std::string(key), reason);
}

// engine.model.*: an empty string = ok, else the reason for a partial status.
std::string model_facts(const Host& host, const std::string& model_path, FactSink& sink)
{
    const std::string path = expand_home(host, model_path);
    if (!path.starts_with('/')) {
        std::string reason = fmt::format("model path '{}' is not absolute; its header was not read", model_path);
        header_unknown(sink, reason);
        return reason;
    }
    // llama-server refuses a model it cannot open or that is not GGUF, so these two are facts the
    // rules can call broken; a malformed header past the magic stays unknown, since our reader's
    // limits are stricter than llama.cpp's.
    auto magic = starts_with_gguf_magic(host.path(path));
    if (!magic) {
        sink.set("engine.model.readable", "false", magic.error().message);
        header_unknown(sink, magic.error().message);
        return magic.error().message;
    }
    sink.set("engine.model.readable", "true", path);
    if (!*magic) {
        std::string reason = fmt::format("'{}' does not start with the GGUF magic: it is not a GGUF model", path);
        sink.set("engine.model.gguf", "false", reason);
        header_unknown(sink, reason);
        return reason;
    }
    sink.set("engine.model.gguf", "true", path);

    GgufOptions options;
    options.stop_at_model_keys = true;
    options.read_chat_template = true;
    auto header = read_gguf_header(host.path(path), options);
    if (!header) {
        header_unknown(sink, header.error().message);
        return header.error().message;
    }
    if (auto v = header->string("general.name")) sink.set("engine.model.name", *v, path);
    if (auto v = header->architecture()) sink.set("engine.model.architecture", *v, path);
    if (auto v = header->string("general.size_label")) sink.set("engine.model.size_label", *v, path);
    if (auto v = header->unsigned_value("general.file_type")) {
        sink.set("engine.model.file_type", std::to_string(*v), path);
        if (auto name = gguf_file_type_name(*v); !name.empty())
            sink.set("engine.model.file_type_name", std::string(name), path);
    }
    if (auto v = header->context_length()) sink.set("engine.model.context_length", std::to_string(*v), path);
    sink.set("engine.model.gguf_version", std::to_string(header->version), path);
    if (auto jinja = header->string("tokenizer.chat_template")) {
        const ChatTemplateTraits traits = chat_template_traits(*jinja);
        const std::string origin = path + " tokenizer.chat_template";
        sink.set("engine.model.chat_template.thinking", traits.thinking ? "true" : "false", origin);
        sink.set("engine.model.chat_template.tools", traits.tools ? "true" : "false", origin);
    }

    const auto slash = path.rfind('/');
    const std::string dir = path.substr(0, slash);
    const auto split = parse_gguf_split_name(std::string_view(path).substr(slash + 1));
    const unsigned parts = split ? split->count : 1;
    std::uint64_t total = 0;
    for (unsigned n = 1; n <= parts; ++n) {
        const std::string part = split ? dir + "/" + gguf_split_file_name(split->prefix, n, parts) : path;
        auto info = host.stat(part);
        if (!info) {
            std::string reason = fmt::format("split part {} of {} is missing: {}", n, parts, info.error().message);
            sink.unknown("engine.model.size_bytes", reason);
            sink.set("engine.model.split_count", std::to_string(parts), path);
            return reason;
        }
        total += info->size;
    }
    sink.set("engine.model.size_bytes", std::to_string(total), path);
    sink.set("engine.model.split_count", std::to_string(parts), path);
    return {};
}

// True when a leading `env` may change where its program is found: a PATH= assignment, or any
// option (-i clears the environment, -C changes directory, -S splits its own command line).
bool env_moves_lookup(const std::vector<std::string>& argv)
{
    bool in_env = false;
    for (std::string_view arg : argv) {
        const std::string_view name = arg.substr(arg.rfind('/') == std::string_view::npos ? 0 : arg.rfind('/') + 1);
        if (name == "env") {
            in_env = true;
            continue;
        }
        if (name == "nohup" || name == "exec") continue;
        if (!in_env) return false; // the program itself
        if (arg.starts_with('-') || arg.starts_with("PATH=")) return true;
        if (arg.find('=') == std::string_view::npos) return false; // env's program
    }
    return false;
}

// engine.binary.found for a command started on the host. Inside a container (toolbox run,
// podman exec, distrobox enter) the program is the container's, and the host's files cannot say
// whether it is there: nothing is set, as when the machine cannot answer (a fixture root without
// $PATH, or an `env` that changes the lookup), so no rule judges what was not seen.
void binary_facts(const Host& host, const std::vector<std::string>& argv, const EngineCommand& command, FactSink& sink)
{
    if (command.wrapper != "host" || env_moves_lookup(argv)) return;
    const ProgramLookup lookup = find_program(host, command.binary);
    switch (lookup.outcome) {
    case ProgramLookup::Outcome::found: sink.set("engine.binary.found", "true", lookup.detail); break;
    case ProgramLookup::Outcome::missing: sink.set("engine.binary.found", "false", lookup.detail); break;
    case ProgramLookup::Outcome::undecidable: break;
    }
}

void image_facts(const std::string& container, FactSink& sink)
{
    const rules::Facts& facts = sink.facts();
    const std::string prefix = "container." + container + ".";
    for (const char* suffix : {"image", "image.tag", "image.tag_base", "image.created", "image.digest", "image.id"}) {
        if (auto v = facts.get(prefix + suffix)) sink.set(std::string("engine.") + suffix, *v, "containers");
    }
    // The container's own environment is where every command run in it starts; [engine.env] and
    // the command (set before this) win over it.
    const std::string env_prefix = prefix + "env.";
    for (auto it = facts.all().lower_bound(env_prefix); it != facts.all().end() && it->first.starts_with(env_prefix);
         ++it) {
        const std::string key = "engine.env." + it->first.substr(env_prefix.size());
        if (!facts.contains(key)) sink.set(key, it->second.value, "containers");
    }
    auto status = facts.probes().find("containers");
    if (facts.get(prefix + "id")) {
        sink.set("engine.container.exists", "true", "containers");
    } else if (status != facts.probes().end() && (status->second.state == rules::ProbeState::ok ||
                                                  status->second.state == rules::ProbeState::not_applicable)) {
        sink.set("engine.container.exists", "false", "containers");
    } else {
        sink.unknown("engine.image.*", "the containers probe did not read the container's image");
    }
}

rules::ProbeStatus collect(const ProbeContext& context, FactSink& sink)
{
    auto found = find_command(context);
    if (!found) return status_failed(found.error().message);
    if (!*found) return status_not_applicable("no engine configured (no [engine] table in the configuration)");
    const Source& source = **found;
    auto command = parse_engine_command(source.argv);
    if (!command)
        return status_failed(fmt::format("engine command from {}: {}", source.origin, command.error().message));
    EngineCommand& c = *command;
    if (!c.container && source.config && source.config->container) c.container = source.config->container;
    for (auto& [key, value] : engine_command_facts(c)) sink.set(key, value, source.origin);
    if (source.config && !source.config->name.empty()) sink.set("engine.name", source.config->name, source.origin);
    if (source.config && wants_api_key(*source.config)) sink.set("engine.api_key", "set", source.origin);
    // [engine.env] is the environment the command starts in; the command's own settings
    // (env NAME=…, podman exec -e) come later and win.
    if (source.config) {
        for (const auto& [name, value] : source.config->env) {
            if (env_name_recorded(name) && c.env.count(name) == 0)
                sink.set("engine.env." + name, value, source.origin + " [engine.env]");
        }
    }
    if (c.model_path) sink.set("engine.model.path", expand_home(context.host, *c.model_path), source.origin);
    binary_facts(context.host, source.argv, c, sink);

    if (c.container) image_facts(*c.container, sink);
    if (source.config && source.config->backend) {
        sink.set("engine.backend", *source.config->backend, source.origin);
    } else {
        const std::string tag = sink.facts().get("engine.image.tag").value_or("");
        if (auto backend = guess_backend(tag, c.container.value_or(""), c.binary); !backend.empty())
            sink.set("engine.backend", backend, tag.empty() ? "container name" : "image tag");
    }
    if (!c.model_path) {
        header_unknown(sink, c.hf_repo ? "the model comes from -hf; no local file to read"
                                       : "the engine command has no -m/--model");
        return status_ok();
    }
    if (auto reason = model_facts(context.host, *c.model_path, sink); !reason.empty()) return status_partial(reason);
    return status_ok();
}

constexpr std::string_view k_sources[] = {
    "halo-check run -- COMMAND…",        "$XDG_CONFIG_HOME/halo-check/config.toml",
    "~/.config/halo-check/config.toml",  "/etc/halo-check/config.toml",
    "the model file's GGUF header (-m)", "the engine program, on $PATH or at its path (a command run on the host)",
};
constexpr std::string_view k_provides[] = {"engine.*"};
constexpr std::string_view k_reads[] = {"containers"}; // container.* for engine.image.*, and its status

} // namespace

const ProbeInfo k_engine_probe{
    "engine",  "the engine command (container, llama-server flags) and its model's GGUF header",
    k_sources, k_provides,
    k_reads,   false,
    &collect,
};

} // namespace halo::probes
