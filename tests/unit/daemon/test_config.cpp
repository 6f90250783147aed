#include "daemon/config.hpp"

#include "probes/engine_config.hpp"

#include <catch2/catch.hpp>
#include <fmt/core.h>

using namespace halo::app;
using namespace std::chrono_literals;

TEST_CASE("durations: seconds, units, and bad input with a reason", "[daemon][config]")
{
    CHECK(parse_duration("90").value() == 90s);
    CHECK(parse_duration("90s").value() == 90s);
    CHECK(parse_duration("10m").value() == 600s);
    CHECK(parse_duration("1h").value() == 3600s);
    CHECK(parse_duration("500ms").value() == 500ms);
    CHECK(parse_duration(" 2m ").value() == 120s);
    for (const char* bad : {"", "s", "-1s", "10 parsecs", "1.5s", "10d", "99999999999999999999", "1e9h"}) {
        INFO(bad);
        CHECK_FALSE(parse_duration(bad).ok());
    }
    CHECK(format_duration(600s) == "10m");
    CHECK(format_duration(1500ms) == "1500ms");
}

TEST_CASE("endpoint from llama-server arguments", "[daemon][config]")
{
    auto ep = endpoint_from_command({"toolbox", "run", "-c", "llama-vulkan-radv", "llama-server", "--host", "0.0.0.0",
                                     "--port", "9000", "-a", "glm"});
    CHECK(ep.host == "127.0.0.1");
    CHECK(ep.port == 9000);
    CHECK(ep.alias == "glm");
    auto def = endpoint_from_command({"llama-server", "--port=abc"});
    CHECK(def.port == 8080);
    CHECK(endpoint_from_command({"llama-server", "--host=::"}).host == "::1");
    CHECK(endpoint_from_command({"llama-server", "--port"}).port == 8080); // a dangling flag is ignored
}

TEST_CASE("a full config parses with defaults filled in", "[daemon][config]")
{
    auto c = parse_config(R"(
[engine]
name = "glm-4.7-flash"
container = "llama-vulkan-radv"
command = ["toolbox", "run", "-c", "llama-vulkan-radv", "llama-server", "-m", "/m.gguf", "--port", "8081"]
ready_timeout = "15m"
liveness_interval = 10
[engine.env]
HSA_OVERRIDE = "1"
[engine.restart]
max = 2
[daemon]
policy = "known-good-only"
[notify]
min_severity = "broken"
)",
                          "c.toml");
    REQUIRE(c.ok());
    CHECK(c->engine.name == "glm-4.7-flash");
    CHECK(c->engine.health_url == "http://127.0.0.1:8081/health");
    CHECK(c->engine.base_url == "http://127.0.0.1:8081");
    CHECK(c->engine.ready_timeout == 15min);
    CHECK(c->engine.liveness_interval == 10s);
    CHECK(c->engine.liveness_failures == 3);
    CHECK(c->engine.stop_timeout == 30s);
    CHECK(c->engine.regression_threshold == Approx(0.7));
    CHECK(c->engine.idle_smoke_interval == 0s);
    CHECK(c->engine.env.at("HSA_OVERRIDE") == "1");
    CHECK(c->engine.restart.max == 2);
    CHECK(c->engine.restart.window == 10min);
    CHECK(c->engine.restart.backoff_max == 60s);
    CHECK(c->daemon.policy == Policy::known_good_only);
    CHECK_FALSE(c->daemon.stop_on_refusal);
    CHECK(c->notify.min_severity == "broken");
}

TEST_CASE("regression_threshold and idle_smoke_interval are read", "[daemon][config]")
{
    auto c = parse_config("[engine]\ncommand = [\"x\"]\nregression_threshold = 0.5\nidle_smoke_interval = \"15m\"\n",
                          "c.toml");
    REQUIRE(c.ok());
    CHECK(c->engine.regression_threshold == Approx(0.5));
    CHECK(c->engine.idle_smoke_interval == 15min);
}

TEST_CASE("health_url overrides the default and sets the chat base", "[daemon][config]")
{
    auto c = parse_config("[engine]\ncommand = [\"x\"]\nhealth_url = \"http://127.0.0.1:7000/v1/health\"\n", "c.toml");
    REQUIRE(c.ok());
    CHECK(c->engine.base_url == "http://127.0.0.1:7000");
    CHECK(c->engine.name == "x");
}

TEST_CASE("[client] kind: auto by default, claude-code and none when written", "[daemon][config]")
{
    auto none = parse_config("[engine]\ncommand = [\"x\"]\n", "c.toml");
    REQUIRE(none.ok());
    CHECK(none->client.kind == ClientKind::auto_detect);
    for (auto [text, kind] : {std::pair{"claude-code", ClientKind::claude_code}, std::pair{"none", ClientKind::none},
                              std::pair{"auto", ClientKind::auto_detect}}) {
        auto c = parse_config(fmt::format("[engine]\ncommand = [\"x\"]\n[client]\nkind = \"{}\"\n", text), "c.toml");
        REQUIRE(c.ok());
        CHECK(c->client.kind == kind);
        CHECK(to_string(kind) == text);
    }
    CHECK(none->client.cache_check_interval == 0ms);
    auto timer = parse_config("[engine]\ncommand = [\"x\"]\n[client]\ncache_check_interval = \"6h\"\n", "c.toml");
    REQUIRE(timer.ok());
    CHECK(timer->client.cache_check_interval == 6h);
}

TEST_CASE("config errors name file:line:col and the fix", "[daemon][config]")
{
    struct Case {
        const char* text;
        const char* message;
    };
    const Case cases[] = {
        {"[engine]\ncommand = \"llama-server\"\n", "c.toml:2:11: [engine] command must be a non-empty array"},
        {"[engine]\ncommand = []\n", "c.toml:2:11: [engine] command must be a non-empty array"},
        {"[engine]\nname = \"x\"\n", "c.toml:1:1: [engine] has no 'command'"},
        {"[daemon]\npolicy = \"x\"\n", "no [engine] table"},
        {"[engine]\ncommand = [\"x\"]\nready_timeout = \"10 minutes\"\n",
         "c.toml:3:17: [engine] ready_timeout: '10 minutes' has an unknown unit"},
        {"[engine]\ncommand = [\"x\"]\nready_timeout = 0\n", "must be longer than 0"},
        {"[engine]\ncommand = [\"x\"]\n[daemon]\npolicy = \"yolo\"\n",
         "c.toml:4:10: [daemon] policy 'yolo' is not known"},
        {"[engine]\ncommand = [\"x\"]\ncomand = 1\n", "c.toml:3:10: unknown key 'comand' in [engine]"},
        {"[engine]\ncommand = [\"x\"]\n[engine.restart]\nmax = -1\n",
         "[engine.restart] max must be between 0 and 10000"},
        {"[engine]\ncommand = [\"x\"]\n[engine.env]\nA = 1\n", "[engine.env] A must be a string"},
        {"[engine]\ncommand = [\"x\"]\nregression_threshold = 70\n",
         "c.toml:3:24: [engine] regression_threshold must be a number between 0 and 1 (0.7 = 70%)"},
        {"[engine]\ncommand = [\"x\"]\nidle_smoke_interval = \"5 parsecs\"\n", "[engine] idle_smoke_interval"},
        {"[engine\ncommand = [\"x\"]\n", "c.toml:1:"},
        {"garbage \x01\x02", "c.toml:1:"},
        {"[engine]\ncommand = [\"x\"]\nname = \"x\\nSYSLOG_IDENTIFIER=sshd\"\n",
         "c.toml:3:8: [engine] name must be 1 to 64 letters, digits or . _ @ + - (it names the engine in the journal "
         "and in status); got 'x?SYSLOG_IDENTIFIER=sshd'"},
        {"[engine]\ncommand = [\"x\"]\nname = \"\\u001b]0;t\\u0007\"\n", "got '?]0;t?'"},
        {"[engine]\ncommand = [\"/opt/my server\"]\n", "got 'my server'; set [engine] name"},
        {"[engine]\ncommand = [\"x\"]\n[client]\nkind = \"cursor\"\n",
         "c.toml:4:8: [client] kind \"cursor\" is unknown; write \"claude-code\""},
        {"[engine]\ncommand = [\"x\"]\n[client]\nkinds = \"none\"\n", "c.toml:4:9: unknown key 'kinds' in [client]"},
        {"client = 1\n[engine]\ncommand = [\"x\"]\n", "c.toml:1:10: client must be a table ([client])"},
        {"[engine]\ncommand = [\"x\"]\n[client]\nkind = 1\n", "[client] kind must be a string"},
        {"[engine]\ncommand = [\"x\"]\n[client]\ncache_check_interval = \"daily\"\n", "[client] cache_check_interval"},
    };
    for (const Case& c : cases) {
        INFO(c.text);
        auto r = parse_config(c.text, "c.toml");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.error().message, Catch::Contains(c.message));
    }
}

TEST_CASE("a config with only [feed] is halo-check's, and halo-checkd refuses it saying what to add",
          "[daemon][config]")
{
    const std::string text = "[feed]\nurl = \"https://example.org/feed.toml\"\ntrusted_keys = [\"/k.pub\"]\n";
    auto cli = parse_config(text, "c.toml", ConfigUse::cli);
    REQUIRE(cli);
    CHECK(cli->engine.command.empty());
    CHECK(cli->feed.url == std::optional<std::string>("https://example.org/feed.toml"));
    auto daemon = parse_config(text, "c.toml");
    REQUIRE_FALSE(daemon);
    CHECK_THAT(daemon.error().message,
               Catch::StartsWith("c.toml:1:1: no [engine] table; halo-checkd needs") && Catch::Contains("command = "));
    // Without [engine] the other tables are still checked.
    auto bad = parse_config("[feed]\nurl = 3\n", "c.toml", ConfigUse::cli);
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message, Catch::StartsWith("c.toml:2:"));
    auto not_table = parse_config("engine = 1\n", "c.toml", ConfigUse::cli);
    REQUIRE_FALSE(not_table);
    CHECK_THAT(not_table.error().message, Catch::Contains("engine must be a table"));
}

TEST_CASE("a missing config file says how to fix it", "[daemon][config]")
{
    auto r = load_config(HALO_TEST_DATA "/no-such-config.toml");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("Failed to read config") && Catch::Contains("No such file"));
}

TEST_CASE("every [engine] key the shared parser leaves to the daemon is read by it", "[daemon][config]")
{
    // probes/engine_config accepts these keys because the daemon reads them: a wrong type must
    // then be an error here, naming the key where it stands.
    for (std::string_view key : halo::probes::engine_supervision_keys()) {
        INFO(key);
        auto r = parse_config(fmt::format("[engine]\ncommand = [\"x\"]\n{} = []\n", key), "c.toml");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.error().message, Catch::StartsWith("c.toml:3:") && Catch::Contains(std::string(key)));
    }
}

TEST_CASE("an unnamed engine takes its command's first word, the probe's part is shared", "[daemon][config]")
{
    auto c = parse_config(
        "[engine]\ncommand = [\"/opt/llama/bin/llama-server\", \"-a\", \"glm\"]\nbackend = \"rocm-7.2\"\n", "c.toml");
    REQUIRE(c.ok());
    CHECK(c->engine.name == "llama-server");
    CHECK(c->engine.backend == std::optional<std::string>("rocm-7.2"));
    CHECK(c->engine.alias == std::optional<std::string>("glm"));
    const halo::probes::EngineConfig& what = c->engine;
    CHECK(what.command.size() == 3);
}

TEST_CASE("[export] names the files and the re-check interval, and bad values say what to do", "[daemon][config]")
{
    auto none = parse_config("[engine]\ncommand = [\"x\"]\n", "c.toml");
    REQUIRE(none.ok());
    CHECK_FALSE(none->exporting.any());
    CHECK(none->exporting.interval == 5min);

    auto full =
        parse_config("[engine]\ncommand = [\"x\"]\n[export]\ntextfile = \"/var/lib/node_exporter/halo.prom\"\n"
                     "nfd = \"/etc/kubernetes/node-feature-discovery/features.d/halo-check\"\ninterval = \"2m\"\n",
                     "c.toml");
    REQUIRE(full.ok());
    CHECK(full->exporting.textfile == "/var/lib/node_exporter/halo.prom");
    CHECK(full->exporting.nfd == "/etc/kubernetes/node-feature-discovery/features.d/halo-check");
    CHECK(full->exporting.interval == 2min);

    struct Case {
        const char* text;
        const char* message;
    };
    const Case cases[] = {
        {"[engine]\ncommand = [\"x\"]\n[export]\ntextfil = \"/a.prom\"\n",
         "c.toml:4:11: unknown key 'textfil' in [export]"},
        {"[engine]\ncommand = [\"x\"]\n[export]\ntextfile = \"/a.txt\"\n",
         "c.toml:4:12: [export] textfile \"/a.txt\" must end in .prom"},
        {"[engine]\ncommand = [\"x\"]\n[export]\nnfd = \"features.d/x\"\n",
         "c.toml:4:7: [export] nfd must be an absolute path"},
        {"[engine]\ncommand = [\"x\"]\n[export]\ninterval = 0\n", "[export] interval must be longer than 0"},
        {"export = 1\n[engine]\ncommand = [\"x\"]\n", "c.toml:1:10: export must be a table"},
    };
    for (const Case& c : cases) {
        INFO(c.text);
        auto r = parse_config(c.text, "c.toml");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.error().message, Catch::Contains(c.message));
    }
}
