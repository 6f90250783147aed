#include "probes/client_probe.hpp"

#include "probes/host.hpp"
#include "probes/runner.hpp"
#include "rules/facts.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace halo::probes;
using halo::rules::ProbeState;

namespace {

const std::string k_homes = std::string(HALO_TEST_DATA) + "/claude-homes/";
constexpr std::string_view k_token = "sk-local-not-a-real-token-7f3a";

// The client probe on a fixture home, after an engine that listens on `engine_port` (none: no
// engine configured).
halo::rules::Facts probe(const std::string& home, std::optional<std::string> engine_port = "8081",
                         const std::string& engine_host = "127.0.0.1")
{
    Host host(k_homes + home);
    host.set_env("HOME", "/home/user");
    const ProbeContext context{host, std::chrono::milliseconds(5000), {}, {}, {}};
    halo::rules::Facts facts;
    if (engine_port) {
        FactSink engine(facts, "engine");
        engine.set("engine.host", engine_host, "test");
        engine.set("engine.port", *engine_port, "test");
    }
    run_probe_in_process(k_client_probe, context, facts);
    return facts;
}

std::string get(const halo::rules::Facts& f, std::string_view key) { return f.get(key).value_or("<absent>"); }
const halo::rules::ProbeStatus& status(const halo::rules::Facts& f) { return f.probes().at("client"); }

} // namespace

TEST_CASE("the field report's settings: base URL, models, token set, header off", "[probes][client]")
{
    const auto f = probe("good", "8080");
    CHECK(status(f).state == ProbeState::ok);
    CHECK(get(f, "client.kind") == "claude-code");
    CHECK(get(f, "client.claude_code.settings") == "/home/user/.claude/settings.json");
    CHECK(get(f, "client.claude_code.base_url") == "http://localhost:8080");
    CHECK(get(f, "client.claude_code.base_url.host") == "localhost");
    CHECK(get(f, "client.claude_code.base_url.port") == "8080");
    CHECK(get(f, "client.claude_code.base_url.loopback") == "true");
    CHECK(get(f, "client.claude_code.points_at_engine") == "true");
    // ANTHROPIC_MODEL wins over the settings' "model".
    CHECK(get(f, "client.claude_code.model") == "glm-4.7-flash");
    CHECK(get(f, "client.claude_code.small_fast_model") == "glm-4.7-flash");
    CHECK(get(f, "client.claude_code.auth_token") == "set");
    CHECK(get(f, "client.claude_code.attribution_header") == "off");
    for (const auto& [key, fact] : f.all()) {
        INFO(key);
        CHECK(fact.value.find(k_token) == std::string::npos);
        CHECK(fact.source.find(k_token) == std::string::npos);
    }
}

TEST_CASE("a base URL on another port than the engine's", "[probes][client]")
{
    const auto f = probe("wrong-port", "8081");
    CHECK(status(f).state == ProbeState::ok);
    CHECK(get(f, "client.claude_code.base_url.port") == "8080");
    CHECK(get(f, "client.claude_code.points_at_engine") == "other-port");
    CHECK(get(f, "client.claude_code.attribution_header") == "on"); // unset: Claude Code sends it
    CHECK(get(f, "client.claude_code.auth_token") == "unset");
    CHECK_FALSE(f.contains("client.claude_code.small_fast_model"));
    // No engine configured: nothing to compare with.
    CHECK_FALSE(probe("wrong-port", std::nullopt).contains("client.claude_code.points_at_engine"));
}

TEST_CASE("bad JSON is the probe's failure, with the file and line and what to do", "[probes][client]")
{
    const auto f = probe("bad-json");
    CHECK(status(f).state == ProbeState::failed);
    INFO(status(f).reason);
    CHECK_THAT(status(f).reason, Catch::Contains("'/home/user/.claude/settings.json'"));
    CHECK_THAT(status(f).reason, Catch::Contains("line 5"));
    CHECK_THAT(status(f).reason, Catch::Contains("Fix the JSON"));
    CHECK_FALSE(f.contains("client.claude_code.base_url"));
    CHECK(f.unknown_reason("client.claude_code.base_url").has_value());
}

TEST_CASE("no settings file, or no home: not applicable", "[probes][client]")
{
    const auto f = probe("no-file");
    CHECK(status(f).state == ProbeState::not_applicable);
    CHECK_THAT(status(f).reason, Catch::Contains("/home/user/.claude/settings.json"));
    CHECK(f.all().size() == 2); // the engine's two

    Host host(k_homes + "good");
    halo::rules::Facts none;
    run_probe_in_process(k_client_probe, ProbeContext{host, std::chrono::milliseconds(5000), {}, {}, {}}, none);
    CHECK(none.probes().at("client").state == ProbeState::not_applicable);

    // CLAUDE_CONFIG_DIR moves the directory, as it does for Claude Code.
    host.set_env("CLAUDE_CONFIG_DIR", "/home/user/.claude");
    halo::rules::Facts moved;
    run_probe_in_process(k_client_probe, ProbeContext{host, std::chrono::milliseconds(5000), {}, {}, {}}, moved);
    CHECK(moved.get("client.claude_code.base_url") == std::optional<std::string>("http://localhost:8080"));
}

TEST_CASE("settings.local.json overrides settings.json key by key", "[probes][client]")
{
    const auto f = probe("local-override", "8081", "127.0.0.1");
    CHECK(status(f).state == ProbeState::ok);
    CHECK(get(f, "client.claude_code.base_url") == "http://[::1]:8081");
    CHECK(get(f, "client.claude_code.base_url.host") == "::1");
    CHECK(get(f, "client.claude_code.points_at_engine") == "true");
    CHECK(get(f, "client.claude_code.model") == "glm-4.7-flash");
    CHECK(get(f, "client.claude_code.small_fast_model") == "qwen3-4b"); // only in settings.json
    CHECK(get(f, "client.claude_code.attribution_header") == "off");    // a JSON 0
    CHECK_THAT(f.all().at("client.claude_code.base_url").source, Catch::Contains("settings.local.json"));
}

TEST_CASE("base URLs: parts, defaults and errors", "[probes][client]")
{
    auto u = parse_base_url("HTTPS://User:pw@Example.COM/v1?x=1");
    REQUIRE(u.ok());
    CHECK(u->scheme == "https");
    CHECK(u->host == "example.com");
    CHECK(u->port == "443");
    u = parse_base_url("http://10.0.0.5");
    REQUIRE(u.ok());
    CHECK(u->port == "80");
    CHECK_THAT(parse_base_url("localhost:8080").error().message, Catch::Contains("no scheme"));
    CHECK_THAT(parse_base_url("ftp://x").error().message, Catch::Contains("not http or https"));
    CHECK_THAT(parse_base_url("http://x:99999").error().message, Catch::Contains("invalid port '99999'"));
    CHECK_THAT(parse_base_url("http://[::1:80").error().message, Catch::Contains("']'"));
    CHECK_THAT(parse_base_url("http://:80").error().message, Catch::Contains("no host"));
}

TEST_CASE("whether a base URL reaches the engine's address", "[probes][client]")
{
    const auto at = [](const char* url) { return *parse_base_url(url); };
    CHECK(reaches_engine(at("http://localhost:8080"), "127.0.0.1", "8081") == "other-port");
    CHECK(reaches_engine(at("http://localhost:8080"), "127.0.0.1", "8080") == "true");
    CHECK(reaches_engine(at("http://192.168.1.20:8080"), "0.0.0.0", "8080") == "true");
    // A loopback-bound engine cannot be reached at another address, nor a LAN-bound one on loopback.
    CHECK(reaches_engine(at("http://192.168.1.20:8080"), "127.0.0.1", "8080") == "other-host");
    CHECK(reaches_engine(at("http://127.0.0.1:8080"), "192.168.1.20", "8080") == "other-host");
    CHECK(reaches_engine(at("http://192.168.1.21:8080"), "192.168.1.20", "8080") == "other-host");
    // A host name against one address: the text cannot tell.
    CHECK_FALSE(reaches_engine(at("http://strix.lan:8080"), "192.168.1.20", "8080").has_value());
}

TEST_CASE("settings JSON: types are checked, numbers read as text", "[probes][client]")
{
    auto s = parse_claude_settings(R"({"env":{"A":"x","B":1,"C":true}})");
    REQUIRE(s.ok());
    CHECK(s->env.at("B") == "1");
    CHECK(s->env.at("C") == "true");
    CHECK_THAT(parse_claude_settings("[]").error().message, Catch::Contains("not an object"));
    CHECK_THAT(parse_claude_settings(R"({"env":[]})").error().message, Catch::Contains("\"env\" is a JSON array"));
    CHECK_THAT(parse_claude_settings(R"({"env":{"A":{}}})").error().message, Catch::Contains("\"env\".\"A\""));
    CHECK_THAT(parse_claude_settings(R"({"model":3})").error().message, Catch::Contains("\"model\""));
    CHECK_THAT(parse_claude_settings("{\n\n  \"a\" 1}").error().message, Catch::Contains("line 3"));
}

TEST_CASE("under a root, the user is the programs' and the files are the root's", "[probes][client]")
{
    // The machine judged has no environment of its own; $HOME comes from the configuration's
    // host, as halo-check passes its own.
    const Host machine(k_homes + "wrong-port");
    Host programs("/nonexistent-config-root");
    programs.set_env("HOME", "/home/user");
    ProbeContext context{machine, std::chrono::milliseconds(5000), {}, {}, {}};
    context.config_host = programs;
    halo::rules::Facts facts;
    run_probe_in_process(k_client_probe, context, facts);
    CHECK(facts.get("client.claude_code.base_url") == std::optional<std::string>("http://127.0.0.1:8080/"));
    CHECK(facts.probes().at("client").state == ProbeState::ok);
}
