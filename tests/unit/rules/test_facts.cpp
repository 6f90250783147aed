#include "rules/facts.hpp"
#include "rules/facts_io.hpp"

#include <catch2/catch.hpp>

using namespace halo::rules;

TEST_CASE("key patterns match whole segments", "[rules][facts]")
{
    CHECK(key_matches("kernel.release", "kernel.release"));
    CHECK_FALSE(key_matches("kernel.release", "kernel.releases"));
    CHECK(key_matches("container.*.image.tag", "container.llama-rocm-7.2.image.tag")); // dots in the name
    CHECK_FALSE(key_matches("container.*.image.tag", "container.image.tag"));
    CHECK(key_matches("gpu.*.firmware.*", "gpu.0.firmware.mes"));
    CHECK(key_matches("container.*.image.tag", "container.llama-vulkan-radv.image.tag"));
    CHECK(key_matches("vulkan.*", "vulkan.0.name"));
    CHECK_FALSE(key_matches("vulkan.*.name", "vulkan.0.type"));
    CHECK_FALSE(key_matches("gpu.0", "gpu.0.driver"));
}

TEST_CASE("unknown patterns make missing keys unknown", "[rules][facts]")
{
    Facts facts;
    facts.mark_unknown("vulkan.*", "vulkan probe failed: crashed");
    CHECK(facts.unknown_reason("vulkan.0.driver_id") == std::optional<std::string>("vulkan probe failed: crashed"));
    CHECK_FALSE(facts.unknown_reason("kernel.release"));
    CHECK(facts.unknown_reason("vulkan.*.driver_id"));
}

TEST_CASE("facts round-trip through TOML and JSON", "[rules][facts_io]")
{
    Facts facts;
    facts.set("kernel.release", "6.18.5-200.fc43.x86_64", "kernel:/proc/sys/kernel/osrelease");
    facts.set("kernel.cmdline", "quote\"d \\ back\nslash", "kernel:/proc/cmdline");
    facts.mark_unknown("vulkan.*", "vulkan probe failed: no answer in 5 s");
    facts.set_probe_status("vulkan", {ProbeState::failed, "no answer in 5 s", 5000});
    facts.snapshot.taken = "2026-11-27T10:00:00Z";
    for (auto format : {FactsFormat::toml, FactsFormat::json}) {
        const std::string text = serialize_facts(facts, format);
        auto back = parse_facts(text, "round-trip");
        REQUIRE(back.ok());
        CHECK(back->get("kernel.release") == std::optional<std::string>("6.18.5-200.fc43.x86_64"));
        CHECK(back->find("kernel.release")->source == "kernel:/proc/sys/kernel/osrelease");
        CHECK(back->get("kernel.cmdline") == std::optional<std::string>("quote\"d \\ back\nslash"));
        CHECK(back->unknown_reason("vulkan.0.name"));
        REQUIRE(back->probes().count("vulkan") == 1);
        CHECK(back->probes().at("vulkan").state == ProbeState::failed);
        CHECK(back->snapshot.taken == "2026-11-27T10:00:00Z");
    }
}

TEST_CASE("facts files accept numbers and booleans as text", "[rules][facts_io]")
{
    auto facts = parse_facts_toml("[facts]\n\"engine.ctx_size\" = 65536\n\"rocm.kfd.present\" = true\n", "f.toml");
    REQUIRE(facts.ok());
    CHECK(facts->get("engine.ctx_size") == std::optional<std::string>("65536"));
    CHECK(facts->get("rocm.kfd.present") == std::optional<std::string>("true"));
}

TEST_CASE("malformed facts files name file, line and column", "[rules][facts_io]")
{
    auto bad = parse_facts_toml("[facts]\n\"kernel.release\" = \n", "bad.toml");
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.error().message, Catch::StartsWith("bad.toml:2:"));

    auto nested = parse_facts_toml("[facts]\n\"a.b\" = [1, 2]\n", "nested.toml");
    REQUIRE_FALSE(nested.ok());
    CHECK_THAT(nested.error().message, Catch::StartsWith("nested.toml:2:") && Catch::Contains("'a.b'"));

    auto json = parse_facts_json("{\n  \"facts\": {\n    \"a\": \"b\",,\n  }\n}", "bad.json");
    REQUIRE_FALSE(json.ok());
    CHECK_THAT(json.error().message, Catch::StartsWith("bad.json:3:"));

    auto missing = parse_facts_toml("[fact]\n", "typo.toml");
    REQUIRE_FALSE(missing.ok());
    CHECK_THAT(missing.error().message, Catch::Contains("[facts]"));
}

TEST_CASE("JSON facts with out-of-range numbers or wrong types are errors, not crashes", "[rules][facts_io]")
{
    auto big = parse_facts_json("{\"facts\": {\"a\": 1e999999}}", "big.json");
    REQUIRE_FALSE(big.ok());
    CHECK_THAT(big.error().message, Catch::StartsWith("big.json"));
    auto typed = parse_facts_json("{\"facts\": {}, \"snapshot\": {\"taken\": 5}}", "typed.json");
    REQUIRE_FALSE(typed.ok());
    CHECK_THAT(typed.error().message, Catch::StartsWith("typed.json"));
}

TEST_CASE("facts files: code points toml++ 3.3.0 mishandles never reach it and read back unchanged",
          "[rules][facts_io]")
{
    // U+FCFF after a value and U+0160 inside a value's lookahead reached undefined behaviour inside
    // toml++ 3.3.0 (found by fuzz/fuzz_facts): now they are ordinary parse errors.
    auto bad = parse_facts_toml("[facts]\n\"a\" = 5\xEF\xB3\xBF\n", "f.toml");
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.error().message, Catch::StartsWith("f.toml:2:"));
    auto bad2 = parse_facts_toml("[facts]\n\"k\" = 8.5-26_64\"00.x8\xC5\xA0"
                                 "64\"\n",
                                 "g.toml");
    REQUIRE_FALSE(bad2.ok());

    // The same characters inside strings and keys are read exactly as written.
    auto facts = parse_facts_toml(
        "[facts]\n\"vulkan.0.name\" = \"Radeon\xE2\x84\xA2 \xC5\xA0 \xEF\xB3\xBF \xE3\x80\x80 \xE2\x80\x94\"\n"
        "\"container.\xC3\xA9t\xC3\xA9.state\" = 'caf\xC3\xA9'\n",
        "ok.toml");
    REQUIRE(facts.ok());
    CHECK(facts->get("vulkan.0.name") ==
          std::optional<std::string>("Radeon\xE2\x84\xA2 \xC5\xA0 \xEF\xB3\xBF \xE3\x80\x80 \xE2\x80\x94"));
    CHECK(facts->get("container.\xC3\xA9t\xC3\xA9.state") == std::optional<std::string>("caf\xC3\xA9"));
}
