#include "probes/engine_command.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <sstream>

using halo::probes::engine_command_facts;
using halo::probes::parse_engine_command;

namespace {

std::vector<std::string> split(const std::string& line)
{
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string word; in >> word;) out.push_back(word);
    return out;
}

std::map<std::string, std::string> facts_of(const std::string& line)
{
    const auto argv = split(line);
    auto parsed = parse_engine_command(argv);
    REQUIRE(parsed.ok());
    std::map<std::string, std::string> facts;
    for (auto& [k, v] : engine_command_facts(*parsed)) facts[k] = v;
    return facts;
}

std::string error_of(const std::string& line)
{
    const auto argv = split(line);
    auto parsed = parse_engine_command(argv);
    REQUIRE_FALSE(parsed.ok());
    return parsed.error().message;
}

} // namespace

TEST_CASE("the field report's production command", "[probes][engine_command]")
{
    const auto f = facts_of("nohup toolbox run -c llama-vulkan-radv llama-server "
                            "-m /mnt/ai-models/GLM-4.7-Flash-REAP-23B-A3B/GLM-4.7-Flash-REAP-23B-A3B-Q8_K_XL.gguf "
                            "--alias glm-4.7-flash-reap --jinja --ctx-size 65536 --temp 0.7 --top-p 1.0 --fit on "
                            "--sleep-idle-seconds 300 --host 0.0.0.0 --port 8080 -ngl 999 --no-mmap "
                            "--no-prefill-assistant --reasoning-budget 0");
    const std::map<std::string, std::string> expected{
        {"engine.wrapper", "toolbox"},
        {"engine.container", "llama-vulkan-radv"},
        {"engine.binary", "llama-server"},
        {"engine.model.path", "/mnt/ai-models/GLM-4.7-Flash-REAP-23B-A3B/GLM-4.7-Flash-REAP-23B-A3B-Q8_K_XL.gguf"},
        {"engine.alias", "glm-4.7-flash-reap"},
        {"engine.jinja", "on"},
        {"engine.ctx_size", "65536"},
        {"engine.flash_attn", "auto"},
        {"engine.host", "0.0.0.0"},
        {"engine.port", "8080"},
        {"engine.n_gpu_layers", "999"},
        {"engine.mmap", "off"},
        {"engine.prefill_assistant", "off"},
        {"engine.reasoning_budget", "0"},
    };
    CHECK(f == expected);
}

TEST_CASE("defaults when flags are absent", "[probes][engine_command]")
{
    const auto f = facts_of("llama-server -m model.gguf");
    CHECK(f.at("engine.wrapper") == "host");
    CHECK_FALSE(f.count("engine.container"));
    CHECK(f.at("engine.flash_attn") == "auto");
    CHECK(f.at("engine.host") == "127.0.0.1");
    CHECK(f.at("engine.port") == "8080");
    CHECK(f.at("engine.mmap") == "on");
    CHECK(f.at("engine.prefill_assistant") == "on");
    CHECK_FALSE(f.count("engine.ctx_size"));
    CHECK_FALSE(f.count("engine.jinja"));
    CHECK_FALSE(f.count("engine.n_gpu_layers"));
}

TEST_CASE("flash attention spellings", "[probes][engine_command]")
{
    CHECK(facts_of("llama-server -fa 1").at("engine.flash_attn") == "on");
    CHECK(facts_of("llama-server -fa on").at("engine.flash_attn") == "on");
    CHECK(facts_of("llama-server -fa true").at("engine.flash_attn") == "on");
    CHECK(facts_of("llama-server --flash-attn off").at("engine.flash_attn") == "off");
    CHECK(facts_of("llama-server --flash-attn=0").at("engine.flash_attn") == "off");
    CHECK(facts_of("llama-server --flash-attn false").at("engine.flash_attn") == "off");
    CHECK(facts_of("llama-server -fa auto").at("engine.flash_attn") == "auto");
    // Older builds: bare -fa = on, and the next flag is not its value.
    const auto bare = facts_of("llama-server -fa --no-mmap");
    CHECK(bare.at("engine.flash_attn") == "on");
    CHECK(bare.at("engine.mmap") == "off");
    CHECK(facts_of("llama-server -m x.gguf -fa").at("engine.flash_attn") == "on");
    // Last one wins.
    CHECK(facts_of("llama-server -fa on -fa off").at("engine.flash_attn") == "off");
    CHECK_THAT(error_of("llama-server --flash-attn=maybe"), Catch::Contains("invalid --flash-attn value 'maybe'"));
}

TEST_CASE("wrappers", "[probes][engine_command]")
{
    auto f = facts_of("toolbox run --container llama-rocm-7.2 llama-server -m /m.gguf");
    CHECK(f.at("engine.wrapper") == "toolbox");
    CHECK(f.at("engine.container") == "llama-rocm-7.2");
    f = facts_of("/usr/bin/toolbox run --container=llama-rocm-7.1.1 /usr/local/bin/llama-server --port 9000");
    CHECK(f.at("engine.container") == "llama-rocm-7.1.1");
    CHECK(f.at("engine.binary") == "/usr/local/bin/llama-server");
    CHECK(f.at("engine.port") == "9000");
    f = facts_of("toolbox --log-level debug run -c llama-vulkan-radv -- llama-server");
    CHECK(f.at("engine.container") == "llama-vulkan-radv");
    CHECK(f.at("engine.binary") == "llama-server");
    f = facts_of("toolbox run llama-server");
    CHECK(f.at("engine.wrapper") == "toolbox");
    CHECK_FALSE(f.count("engine.container")); // toolbox's default container

    f = facts_of("podman exec -it -e HSA_OVERRIDE=1 --workdir /srv llama-rocm-7.2 llama-server -c 8192");
    CHECK(f.at("engine.wrapper") == "podman");
    CHECK(f.at("engine.container") == "llama-rocm-7.2");
    CHECK(f.at("engine.ctx_size") == "8192");
    f = facts_of("podman container exec --env=A=B llama-vulkan-radv llama-server");
    CHECK(f.at("engine.container") == "llama-vulkan-radv");

    f = facts_of("distrobox enter llama-vulkan-radv -- llama-server -m /m.gguf");
    CHECK(f.at("engine.wrapper") == "distrobox");
    CHECK(f.at("engine.container") == "llama-vulkan-radv");
    CHECK(f.at("engine.model.path") == "/m.gguf");
    f = facts_of("distrobox enter --name llama-rocm-7.2 -- llama-server");
    CHECK(f.at("engine.container") == "llama-rocm-7.2");
    f = facts_of("distrobox-enter -n llama-rocm-7.2 -- llama-server");
    CHECK(f.at("engine.container") == "llama-rocm-7.2");

    f = facts_of("env HIP_VISIBLE_DEVICES=0 /opt/llama/llama-server --mmap");
    CHECK(f.at("engine.wrapper") == "host");
    CHECK(f.at("engine.binary") == "/opt/llama/llama-server");
}

TEST_CASE("flag spellings and values", "[probes][engine_command]")
{
    auto f = facts_of("llama-server --model=/a.gguf --ctx-size=4096 --n-gpu-layers=all -a glm --load-mode stream "
                      "--gpu-layers 12 --no-mmap --mmap --reasoning-budget=-1 --no-jinja");
    CHECK(f.at("engine.model.path") == "/a.gguf");
    CHECK(f.at("engine.ctx_size") == "4096");
    CHECK(f.at("engine.n_gpu_layers") == "12");
    CHECK(f.at("engine.alias") == "glm");
    CHECK(f.at("engine.load_mode") == "stream");
    CHECK(f.at("engine.mmap") == "on");
    CHECK(f.at("engine.reasoning_budget") == "-1");
    CHECK(f.at("engine.jinja") == "off");
    f = facts_of("llama-server -hf unsloth/GLM-4.7-Flash-GGUF:Q8_0 --unknown-flag 5 --another");
    CHECK(f.at("engine.model.hf_repo") == "unsloth/GLM-4.7-Flash-GGUF:Q8_0");
    CHECK_FALSE(f.count("engine.model.path"));
}

TEST_CASE("the thinking switch in --chat-template-kwargs becomes engine.enable_thinking", "[probes][engine_command]")
{
    CHECK(facts_of(R"(llama-server --chat-template-kwargs {"enable_thinking":false})").at("engine.enable_thinking") ==
          "false");
    CHECK(facts_of(R"(llama-server --chat-template-kwargs={"enable_thinking":true,"x":1})")
              .at("engine.enable_thinking") == "true");
    // Not a boolean, another key, or not JSON: nothing is claimed.
    CHECK_FALSE(
        facts_of(R"(llama-server --chat-template-kwargs {"enable_thinking":"no"})").count("engine.enable_thinking"));
    CHECK_FALSE(
        facts_of(R"(llama-server --chat-template-kwargs {"reasoning_effort":"low"})").count("engine.enable_thinking"));
    CHECK_FALSE(facts_of("llama-server --chat-template-kwargs not-json").count("engine.enable_thinking"));
    CHECK_FALSE(facts_of("llama-server --reasoning-budget 0").count("engine.enable_thinking"));
}

TEST_CASE("bad engine commands are errors with a reason", "[probes][engine_command]")
{
    CHECK_THAT(error_of(""), Catch::Contains("empty"));
    CHECK_THAT(error_of("llama-server -m"), Catch::Contains("option '-m' needs a value"));
    CHECK_THAT(error_of("llama-server -c lots"), Catch::Contains("invalid context size 'lots'"));
    CHECK_THAT(error_of("llama-server --port 70000"), Catch::Contains("invalid port '70000'"));
    CHECK_THAT(error_of("llama-server -ngl many"), Catch::Contains("invalid GPU layer count"));
    CHECK_THAT(error_of("toolbox run -c llama-vulkan-radv"), Catch::Contains("names no program"));
    CHECK_THAT(error_of("toolbox create foo"), Catch::Contains("expected 'toolbox run'"));
    CHECK_THAT(error_of("toolbox run -c"), Catch::Contains("needs a value"));
    CHECK_THAT(error_of("podman run -it img llama-server"), Catch::Contains("'podman run' is not supported"));
    CHECK_THAT(error_of("podman exec -it"), Catch::Contains("names no container"));
    CHECK_THAT(error_of("distrobox create x"), Catch::Contains("distrobox enter"));
}

TEST_CASE("API keys: every spelling is read, and only 'set' becomes a fact", "[probes][engine_command]")
{
    auto keys_of = [](const std::string& line) {
        const auto argv = split(line);
        auto parsed = parse_engine_command(argv);
        REQUIRE(parsed.ok());
        return std::pair(parsed->api_keys, parsed->api_key_files);
    };
    CHECK(keys_of("llama-server -m /a.gguf --api-key sk-one").first == std::vector<std::string>{"sk-one"});
    CHECK(keys_of("llama-server --api-key=sk-one -m /a.gguf").first == std::vector<std::string>{"sk-one"});
    // A comma-separated list, and each occurrence adds (llama-server accepts any of them).
    CHECK(keys_of("llama-server --api-key a,,b --api-key=c,").first == std::vector<std::string>{"a", "b", "c"});
    CHECK(keys_of("llama-server --api-key-file /run/keys --api-key-file=/etc/k").second ==
          std::vector<std::string>{"/run/keys", "/etc/k"});
    CHECK(keys_of("toolbox run -c llama-vulkan-radv llama-server --api-key sk-in-box").first ==
          std::vector<std::string>{"sk-in-box"});
    CHECK(keys_of("llama-server -m /a.gguf").first.empty());

    auto f = facts_of("llama-server -m /a.gguf --api-key sk-secret-value");
    CHECK(f.at("engine.api_key") == "set");
    for (const auto& [key, value] : f) CHECK(value.find("sk-secret-value") == std::string::npos);
    CHECK(facts_of("llama-server --api-key-file /run/keys").at("engine.api_key") == "set");
    CHECK_FALSE(facts_of("llama-server -m /a.gguf").count("engine.api_key"));
    // An empty list holds no key: the engine asks for none.
    CHECK_FALSE(facts_of("llama-server --api-key=").count("engine.api_key"));

    CHECK_THAT(error_of("llama-server --api-key"), Catch::Contains("option '--api-key' needs a value"));
    CHECK_THAT(error_of("llama-server --api-key-file"), Catch::Contains("option '--api-key-file' needs a value"));
}

TEST_CASE("the engine's environment: where the command sets it, and only GPU-runtime names", "[probes][engine_command]")
{
    // env before the wrapper, -e of podman exec, --env of toolbox run, env inside the container.
    auto f = facts_of("env HSA_OVERRIDE_GFX_VERSION=11.5.1 toolbox run -c llama-rocm-7.14 llama-server -m /a.gguf");
    CHECK(f.at("engine.env.HSA_OVERRIDE_GFX_VERSION") == "11.5.1");
    CHECK(f.at("engine.container") == "llama-rocm-7.14");
    f = facts_of("podman exec -e HSA_OVERRIDE_GFX_VERSION=12.0.1 --env=ROCBLAS_LAYER=1 --env GGML_VK_VISIBLE_DEVICES=0 "
                 "-u 1000 llama llama-server");
    CHECK(f.at("engine.env.HSA_OVERRIDE_GFX_VERSION") == "12.0.1");
    CHECK(f.at("engine.env.GGML_VK_VISIBLE_DEVICES") == "0");
    CHECK_FALSE(f.count("engine.env.ROCBLAS_LAYER")); // not on the allow-list
    CHECK(f.at("engine.container") == "llama");
    CHECK(f.at("engine.binary") == "llama-server");
    f = facts_of("toolbox run --env HSA_ENABLE_SDMA=0 -c llama-rocm-7.14 env RADV_PERFTEST=nogttspill llama-server");
    CHECK(f.at("engine.env.HSA_ENABLE_SDMA") == "0");
    CHECK(f.at("engine.env.RADV_PERFTEST") == "nogttspill");
    CHECK(f.at("engine.binary") == "llama-server");
    // The innermost setting is the one the engine sees.
    f = facts_of(
        "env HSA_OVERRIDE_GFX_VERSION=11.0.0 toolbox run -c box env HSA_OVERRIDE_GFX_VERSION=11.5.1 llama-server");
    CHECK(f.at("engine.env.HSA_OVERRIDE_GFX_VERSION") == "11.5.1");
    // podman's bare -e NAME takes the caller's value, which the command does not show.
    f = facts_of("podman exec -e HSA_OVERRIDE_GFX_VERSION llama llama-server");
    CHECK_FALSE(f.count("engine.env.HSA_OVERRIDE_GFX_VERSION"));
    CHECK(f.at("engine.binary") == "llama-server");

    // Secrets never become facts, whatever their prefix.
    f = facts_of("env LLAMA_API_KEY=sk-a LLAMA_ARG_API_KEY=sk-b HF_TOKEN=hf_c AMD_SECRET=d GGML_PASSWORD=e "
                 "HSA_TOKEN=f LLAMA_ARG_HF_TOKEN=g llama-server");
    for (const auto& [key, value] : f) {
        INFO(key);
        CHECK_FALSE(key.starts_with("engine.env."));
        for (const char* secret : {"sk-a", "sk-b", "hf_c"}) CHECK(value.find(secret) == std::string::npos);
    }
}

TEST_CASE("direct I/O flags", "[probes][engine_command]")
{
    CHECK_FALSE(facts_of("llama-server -m /a.gguf").count("engine.direct_io"));
    CHECK(facts_of("llama-server -m /a.gguf --direct-io").at("engine.direct_io") == "on");
    CHECK(facts_of("llama-server -dio -m /a.gguf").at("engine.direct_io") == "on");
    CHECK(facts_of("llama-server --direct-io --no-direct-io").at("engine.direct_io") == "off");
    CHECK(facts_of("llama-server -ndio").at("engine.direct_io") == "off");
}
