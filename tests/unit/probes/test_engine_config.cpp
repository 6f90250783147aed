#include "probes/engine_config.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace halo::probes;

TEST_CASE("[engine]: what the engine is, beside the daemon's keys and tables", "[probes][engine_config]")
{
    auto c = parse_engine_config(R"([engine]
name = "glm-4.7-flash"
container = "llama-vulkan-radv"
backend = "vulkan-radv"
command = ["toolbox", "run", "-c", "llama-vulkan-radv", "llama-server", "-m", "/m.gguf"]
ready_timeout = "15m"
liveness_interval = 10
health_url = "http://127.0.0.1:7000/health"
[engine.env]
RADV_PERFTEST = "sam"
[engine.restart]
max = 2
[daemon]
policy = "known-good-only"
[notify]
min_severity = "broken"
)",
                                 "c.toml");
    REQUIRE(c.ok());
    REQUIRE(c->has_value());
    const EngineConfig& e = **c;
    CHECK(e.name == "glm-4.7-flash");
    CHECK(e.container == std::optional<std::string>("llama-vulkan-radv"));
    CHECK(e.backend == std::optional<std::string>("vulkan-radv"));
    CHECK(e.command.size() == 7);
    CHECK(e.command.back() == "/m.gguf");
    CHECK(e.env == std::map<std::string, std::string>{{"RADV_PERFTEST", "sam"}});
}

TEST_CASE("[engine]: optional keys stay empty, no [engine] is no engine", "[probes][engine_config]")
{
    auto c = parse_engine_config("[engine]\ncommand = [\"llama-server\"]\n", "c.toml");
    REQUIRE(c.ok());
    REQUIRE(c->has_value());
    CHECK((*c)->name.empty()); // the probe reports no engine.name; the daemon defaults it
    CHECK_FALSE((*c)->container);
    CHECK_FALSE((*c)->backend);
    CHECK((*c)->env.empty());

    auto none = parse_engine_config("[daemon]\npolicy = \"refuse-broken\"\n", "c.toml");
    REQUIRE(none.ok());
    CHECK_FALSE(none->has_value());
}

TEST_CASE("[engine]: wrong types and unknown keys name file:line:col and the fix", "[probes][engine_config]")
{
    struct Case {
        const char* text;
        const char* message;
    };
    const Case cases[] = {
        {"engine = 1\n", "c.toml:1:10: engine must be a table ([engine])"},
        {"[engine]\nname = \"x\"\n", "c.toml:1:1: [engine] has no 'command'; write the engine's argv as an array"},
        {"[engine]\ncommand = \"llama-server -m x\"\n",
         "c.toml:2:11: [engine] command must be a non-empty array of strings"},
        {"[engine]\ncommand = []\n", "c.toml:2:11: [engine] command must be a non-empty array of strings"},
        {"[engine]\ncommand = [\"llama-server\", 8080]\n",
         "c.toml:2:28: [engine] command must hold non-empty strings only"},
        {"[engine]\ncommand = [\"llama-server\", \"\"]\n",
         "c.toml:2:28: [engine] command must hold non-empty strings only"},
        {"[engine]\ncommand = [\"x\"]\nname = 7\n", "c.toml:3:8: [engine] name must be a string (write name = \"…\")"},
        {"[engine]\ncommand = [\"x\"]\ncontainer = true\n", "c.toml:3:13: [engine] container must be a string"},
        {"[engine]\ncommand = [\"x\"]\nbackend = [\"rocm\"]\n", "c.toml:3:11: [engine] backend must be a string"},
        {"[engine]\ncommand = [\"x\"]\nenv = \"A=1\"\n", "c.toml:3:7: [engine] env must be a table of strings"},
        {"[engine]\ncommand = [\"x\"]\n[engine.env]\nA = 1\n", "c.toml:4:5: [engine.env] A must be a string"},
        {"[engine]\ncommand = [\"x\"]\n[engine.env]\n\"A=B\" = \"1\"\n",
         "c.toml:4:9: [engine.env] 'A=B' is not a valid variable name"},
        {"[engine]\ncommand = [\"x\"]\ncomand = 1\n",
         "c.toml:3:10: unknown key 'comand' in [engine] (did you mean 'command'?); see docs/config.md"},
        {"[engine]\ncommand = [\"x\"]\nmodel = \"/m.gguf\"\n", "c.toml:3:9: unknown key 'model' in [engine]"},
        {"[engine\ncommand = [\"x\"]\n", "c.toml:1:8: "},
    };
    for (const Case& c : cases) {
        INFO(c.text);
        auto r = parse_engine_config(c.text, "c.toml");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.error().message, Catch::StartsWith(c.message));
    }
}

TEST_CASE("[engine]: api_key_file names the key the daemon sends", "[probes][engine_config]")
{
    auto c = parse_engine_config("[engine]\ncommand = [\"llama-server\"]\napi_key_file = \"/run/secrets/llama\"\n",
                                 "c.toml");
    REQUIRE(c.ok());
    REQUIRE(c->has_value());
    CHECK((*c)->api_key_file == std::optional<std::string>("/run/secrets/llama"));
    c = parse_engine_config("[engine]\ncommand = [\"llama-server\"]\napi_key_file = \"~/.config/halo-check/key\"\n",
                            "c.toml");
    REQUIRE(c.ok());
    CHECK((*c)->api_key_file == std::optional<std::string>("~/.config/halo-check/key"));
    c = parse_engine_config("[engine]\ncommand = [\"llama-server\"]\n", "c.toml");
    REQUIRE(c.ok());
    CHECK_FALSE((*c)->api_key_file);

    struct Case {
        const char* text;
        const char* message;
    };
    const Case bad[] = {
        {"[engine]\ncommand = [\"x\"]\napi_key_file = 1\n", "c.toml:3:16: [engine] api_key_file must be a string"},
        {"[engine]\ncommand = [\"x\"]\napi_key_file = \"key.txt\"\n",
         "c.toml:3:16: [engine] api_key_file 'key.txt' must be an absolute path or start with ~/"},
        {"[engine]\ncommand = [\"x\"]\napi_key_file = \"\"\n",
         "c.toml:3:16: [engine] api_key_file '' must be an absolute path"},
        {"[engine]\ncommand = [\"x\"]\napi_key = \"sk-1\"\n", "c.toml:3:11: unknown key 'api_key' in [engine]"},
    };
    for (const Case& b : bad) {
        INFO(b.text);
        auto r = parse_engine_config(b.text, "c.toml");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.error().message, Catch::StartsWith(b.message));
    }
}

TEST_CASE("[engine]: the supervision keys are known, not the probe's", "[probes][engine_config]")
{
    const auto keys = engine_supervision_keys();
    for (const char* key : {"health_url", "ready_timeout", "restart", "early_exit"})
        CHECK(std::find(keys.begin(), keys.end(), key) != keys.end());
    for (const char* key : {"name", "command", "container", "backend", "env"})
        CHECK(std::find(keys.begin(), keys.end(), key) == keys.end());
}
