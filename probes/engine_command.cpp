#include "probes/engine_command.hpp"

#include "probes/recorded_env.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <string_view>

namespace halo::probes {

namespace {

std::string_view basename(std::string_view path)
{
    const auto slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool is_unsigned(std::string_view text, unsigned long long max)
{
    if (text.empty()) return false;
    unsigned long long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return ec == std::errc{} && end == text.data() + text.size() && value <= max;
}

bool is_integer(std::string_view text)
{
    if (text.starts_with('-')) text.remove_prefix(1);
    return is_unsigned(text, ~0ull);
}

bool any_of(std::string_view name, std::initializer_list<std::string_view> names)
{
    return std::find(names.begin(), names.end(), name) != names.end();
}

struct Flag {
    std::string name;
    std::optional<std::string> inline_value;
};

// `--flag=value` splits; a short flag (`-c`) never carries an inline value.
Flag split_flag(std::string_view token)
{
    if (token.starts_with("--")) {
        if (auto eq = token.find('='); eq != std::string_view::npos)
            return {std::string(token.substr(0, eq)), std::string(token.substr(eq + 1))};
    }
    return {std::string(token), std::nullopt};
}

class Args {
public:
    explicit Args(std::span<const std::string> argv) : m_argv(argv) {}
    bool done() const { return m_pos >= m_argv.size(); }
    std::string_view peek() const { return m_argv[m_pos]; }
    std::string_view next() { return m_argv[m_pos++]; }

    Result<std::string> value(std::string_view flag, const std::optional<std::string>& inline_value)
    {
        if (inline_value) return *inline_value;
        if (done()) return Error{fmt::format("option '{}' needs a value", flag)};
        return std::string(next());
    }

private:
    std::span<const std::string> m_argv;
    std::size_t m_pos = 0;
};

// NAME=value into `env`; a bare NAME (podman's "take it from my environment") or an empty
// name says nothing we can read.
void put_env(std::string_view assignment, EngineCommand& out)
{
    if (auto pair = split_env_assignment(assignment)) out.env[pair->first] = std::move(pair->second);
}

// Leading `nohup`, `env [-i] [VAR=value]…`, `exec`: they run the command that follows unchanged,
// with env's assignments added to its environment.
void skip_launchers(Args& args, EngineCommand& out)
{
    while (!args.done()) {
        const auto name = basename(args.peek());
        if (name == "nohup" || name == "exec") {
            args.next();
        } else if (name == "env") {
            args.next();
            while (!args.done() && (args.peek().starts_with('-') || args.peek().find('=') != std::string_view::npos)) {
                const std::string_view token = args.next();
                if (!token.starts_with('-')) put_env(token, out);
            }
        } else {
            return;
        }
    }
}

// Consumes wrapper options up to the wrapped command. `with_value` lists the options that take
// a value; `container_flags` those whose value is the container; `env_flags` those whose value
// is a NAME=value for the engine's environment.
Result<void> skip_options(Args& args, EngineCommand& out, std::initializer_list<std::string_view> with_value,
                          std::initializer_list<std::string_view> container_flags,
                          std::initializer_list<std::string_view> env_flags = {})
{
    while (!args.done()) {
        const std::string_view token = args.peek();
        if (token == "--") {
            args.next();
            return {};
        }
        if (!token.starts_with('-') || token == "-") return {};
        args.next();
        const Flag flag = split_flag(token);
        if (any_of(flag.name, container_flags)) {
            auto v = args.value(flag.name, flag.inline_value);
            if (!v) return v.error();
            out.container = std::move(*v);
        } else if (any_of(flag.name, env_flags)) {
            auto v = args.value(flag.name, flag.inline_value);
            if (!v) return v.error();
            put_env(*v, out);
        } else if (any_of(flag.name, with_value) && !flag.inline_value) {
            if (args.done()) return Error{fmt::format("option '{}' needs a value", flag.name)};
            args.next();
        }
    }
    return {};
}

Result<void> parse_toolbox(Args& args, EngineCommand& out)
{
    // toolbox [--log-level L] [-v] [-y] run [-c NAME] [-d DISTRO] [-r RELEASE] CMD…
    out.wrapper = "toolbox";
    HALO_TRY(skip_options(args, out, {"--log-level"}, {}));
    if (args.done() || args.peek() != "run")
        return Error{fmt::format("'toolbox {}' does not run an engine; expected 'toolbox run'",
                                 args.done() ? std::string_view{} : args.peek())};
    args.next();
    return skip_options(args, out, {"-d", "--distro", "-r", "--release", "--preserve-fds"}, {"-c", "--container"},
                        {"-e", "--env"});
}

Result<void> parse_podman(Args& args, EngineCommand& out)
{
    // podman [global opts] [container] exec [opts] NAME CMD…
    out.wrapper = "podman";
    HALO_TRY(skip_options(args, out,
                          {"--root", "--runroot", "--storage-driver", "--log-level", "--url", "--connection", "-c",
                           "--cgroup-manager", "--events-backend"},
                          {}));
    if (!args.done() && args.peek() == "container") args.next();
    if (args.done() || args.peek() != "exec")
        return Error{fmt::format("'podman {}' is not supported for the engine; run it with 'podman exec NAME …' "
                                 "or 'toolbox run -c NAME …'",
                                 args.done() ? std::string_view{} : args.peek())};
    args.next();
    HALO_TRY(skip_options(
        args, out,
        {"--env-file", "-u", "--user", "-w", "--workdir", "--detach-keys", "--preserve-fds", "--preserve-fd"}, {},
        {"-e", "--env"}));
    if (args.done()) return Error{"'podman exec' names no container"};
    out.container = std::string(args.next());
    return {};
}

Result<void> parse_distrobox(Args& args, EngineCommand& out, bool enter_given)
{
    // distrobox enter [-n NAME | NAME] [opts] -- CMD…   (also distrobox-enter …)
    out.wrapper = "distrobox";
    if (!enter_given) {
        if (args.done() || args.peek() != "enter") return Error{"expected 'distrobox enter NAME -- COMMAND…'"};
        args.next();
    }
    if (!args.done() && !args.peek().starts_with('-')) out.container = std::string(args.next());
    while (!args.done()) {
        const Flag flag = split_flag(args.next());
        if (flag.name == "--" || flag.name == "-e" || flag.name == "--exec") return {};
        if (any_of(flag.name, {"-n", "--name"})) {
            auto v = args.value(flag.name, flag.inline_value);
            if (!v) return v.error();
            out.container = std::move(*v);
        } else if (any_of(flag.name, {"-a", "--additional-flags"}) && !flag.inline_value) {
            if (args.done()) return Error{fmt::format("option '{}' needs a value", flag.name)};
            args.next();
        } else if (!flag.name.starts_with('-')) {
            // Old distrobox: the first positional after the options is the container.
            if (!out.container) out.container = flag.name;
        }
    }
    return {};
}

Result<std::string> normalise_flash_attn(std::string_view value)
{
    if (any_of(value, {"on", "1", "true", "enabled"})) return std::string("on");
    if (any_of(value, {"off", "0", "false", "disabled"})) return std::string("off");
    if (value == "auto") return std::string("auto");
    return Error{fmt::format("invalid --flash-attn value '{}' (expected on, off or auto)", value)};
}

bool is_flash_attn_value(std::string_view value)
{
    return any_of(value, {"on", "off", "auto", "1", "0", "true", "false", "enabled", "disabled"});
}

Result<void> parse_server_flags(Args& args, EngineCommand& out)
{
    while (!args.done()) {
        const std::string_view token = args.next();
        if (!token.starts_with('-')) continue; // a value of an option we do not know
        const Flag flag = split_flag(token);
        const std::string& name = flag.name;
        auto take = [&]() { return args.value(name, flag.inline_value); };

        if (any_of(name, {"-m", "--model"})) {
            auto v = take();
            if (!v) return v.error();
            out.model_path = std::move(*v);
        } else if (any_of(name, {"-hf", "-hfr", "--hf-repo"})) {
            auto v = take();
            if (!v) return v.error();
            out.hf_repo = std::move(*v);
        } else if (any_of(name, {"-c", "--ctx-size"})) {
            auto v = take();
            if (!v) return v.error();
            if (!is_integer(*v)) return Error{fmt::format("invalid context size '{}' for '{}'", *v, name)};
            out.ctx_size = std::move(*v);
        } else if (any_of(name, {"-fa", "--flash-attn"})) {
            // Older builds: bare `-fa` switches it on. Newer: a value follows.
            std::optional<std::string> value = flag.inline_value;
            if (!value && !args.done() && is_flash_attn_value(args.peek())) value = std::string(args.next());
            if (!value) {
                out.flash_attn = "on";
            } else {
                auto v = normalise_flash_attn(*value);
                if (!v) return v.error();
                out.flash_attn = std::move(*v);
            }
        } else if (name == "--no-flash-attn") {
            out.flash_attn = "off";
        } else if (name == "--host") {
            auto v = take();
            if (!v) return v.error();
            out.host = std::move(*v);
        } else if (name == "--port") {
            auto v = take();
            if (!v) return v.error();
            if (!is_unsigned(*v, 65535)) return Error{fmt::format("invalid port '{}'", *v)};
            out.port = std::move(*v);
        } else if (name == "--no-mmap") {
            out.mmap = "off";
        } else if (name == "--mmap") {
            out.mmap = "on";
        } else if (any_of(name, {"-ngl", "--n-gpu-layers", "--gpu-layers"})) {
            auto v = take();
            if (!v) return v.error();
            if (!is_integer(*v) && *v != "auto" && *v != "all")
                return Error{fmt::format("invalid GPU layer count '{}' for '{}'", *v, name)};
            out.n_gpu_layers = std::move(*v);
        } else if (name == "--jinja") {
            out.jinja = "on";
        } else if (name == "--no-jinja") {
            out.jinja = "off";
        } else if (name == "--reasoning-budget") {
            auto v = take();
            if (!v) return v.error();
            if (!is_integer(*v)) return Error{fmt::format("invalid reasoning budget '{}'", *v)};
            out.reasoning_budget = std::move(*v);
        } else if (name == "--chat-template-kwargs") {
            auto v = take();
            if (!v) return v.error();
            // Only the thinking switch matters to the rules; other keys and a value that is not a
            // JSON object (llama-server refuses it at start) set nothing.
            const auto kwargs = nlohmann::json::parse(*v, nullptr, false);
            if (kwargs.is_object()) {
                const auto it = kwargs.find("enable_thinking");
                if (it != kwargs.end() && it->is_boolean()) out.enable_thinking = it->get<bool>() ? "true" : "false";
            }
        } else if (name == "--no-prefill-assistant") {
            out.prefill_assistant = "off";
        } else if (name == "--prefill-assistant") {
            out.prefill_assistant = "on";
        } else if (any_of(name, {"-a", "--alias"})) {
            auto v = take();
            if (!v) return v.error();
            out.alias = std::move(*v);
        } else if (name == "--load-mode") {
            auto v = take();
            if (!v) return v.error();
            out.load_mode = std::move(*v);
        } else if (any_of(name, {"-dio", "--direct-io"})) {
            out.direct_io = "on";
        } else if (any_of(name, {"-ndio", "--no-direct-io"})) {
            out.direct_io = "off";
        } else if (name == "--api-key") {
            auto v = take();
            if (!v) return v.error();
            for (std::string& key : split_api_keys(*v)) out.api_keys.push_back(std::move(key));
        } else if (name == "--api-key-file") {
            auto v = take();
            if (!v) return v.error();
            out.api_key_files.push_back(std::move(*v));
        }
        // Anything else: a flag this parser does not model; its value (if any) is skipped by the
        // "not a flag" rule above.
    }
    return {};
}

} // namespace

Result<EngineCommand> parse_engine_command(std::span<const std::string> argv)
{
    EngineCommand out;
    Args args(argv);
    skip_launchers(args, out);
    if (args.done()) return Error{"the engine command is empty"};

    const std::string_view program = basename(args.peek());
    if (program == "toolbox") {
        args.next();
        HALO_TRY(parse_toolbox(args, out));
    } else if (program == "podman") {
        args.next();
        HALO_TRY(parse_podman(args, out));
    } else if (program == "distrobox") {
        args.next();
        HALO_TRY(parse_distrobox(args, out, false));
    } else if (program == "distrobox-enter") {
        args.next();
        HALO_TRY(parse_distrobox(args, out, true));
    }
    skip_launchers(args, out);
    if (args.done()) return Error{fmt::format("the engine command names no program after '{}'", out.wrapper)};
    out.binary = std::string(args.next());
    Args server = args;
    while (!args.done()) out.args.emplace_back(args.next());
    HALO_TRY(parse_server_flags(server, out));
    return out;
}

std::vector<std::string> split_api_keys(std::string_view list)
{
    std::vector<std::string> keys;
    for (std::size_t start = 0; start <= list.size();) {
        const std::size_t comma = std::min(list.find(',', start), list.size());
        if (comma > start) keys.emplace_back(list.substr(start, comma - start));
        start = comma + 1;
    }
    return keys;
}

std::vector<std::pair<std::string, std::string>> engine_command_facts(const EngineCommand& c)
{
    std::vector<std::pair<std::string, std::string>> facts;
    auto put = [&](const std::string& key, const std::string& value) { facts.emplace_back("engine." + key, value); };
    auto put_opt = [&](const std::string& key, const std::optional<std::string>& value) {
        if (value) put(key, *value);
    };
    put("wrapper", c.wrapper);
    put_opt("container", c.container);
    put("binary", c.binary);
    put_opt("model.path", c.model_path);
    put_opt("model.hf_repo", c.hf_repo);
    put_opt("ctx_size", c.ctx_size);
    put("flash_attn", c.flash_attn);
    put("host", c.host);
    put("port", c.port);
    put("mmap", c.mmap);
    put_opt("n_gpu_layers", c.n_gpu_layers);
    put_opt("jinja", c.jinja);
    put_opt("reasoning_budget", c.reasoning_budget);
    put_opt("enable_thinking", c.enable_thinking);
    put("prefill_assistant", c.prefill_assistant);
    put_opt("alias", c.alias);
    put_opt("load_mode", c.load_mode);
    put_opt("direct_io", c.direct_io);
    for (const auto& [name, value] : c.env) {
        if (env_name_recorded(name)) put("env." + name, value);
    }
    if (!c.api_keys.empty() || !c.api_key_files.empty()) put("api_key", "set");
    return facts;
}

} // namespace halo::probes
