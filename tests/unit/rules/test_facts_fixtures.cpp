// The facts files under tests/data/facts are what the CLI tests feed to `check --facts`: each must
// parse, use only catalogue keys, and the bad ones must fail with a location, never crash.

#include "rules/fact_catalogue.hpp"
#include "rules/facts_io.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

namespace {

const std::filesystem::path k_facts_dir = std::filesystem::path(HALO_TEST_DATA) / "facts";

} // namespace

TEST_CASE("facts fixtures parse and use only catalogue keys", "[rules][facts][fixtures]")
{
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(k_facts_dir)) {
        if (!entry.is_regular_file()) continue;
        const std::string path = entry.path().string();
        INFO(path);
        auto facts = halo::rules::load_facts_file(path);
        REQUIRE(facts);
        CHECK(facts->size() > 50);
        CHECK_FALSE(facts->snapshot.taken.empty());
        // Every probe's status, but in the partial-* captures, which leave some out on purpose.
        if (!entry.path().filename().string().starts_with("partial-")) CHECK(facts->probes().size() >= 10);
        for (const auto& [key, fact] : facts->all()) {
            INFO(key);
            CHECK(halo::rules::in_catalogue(key));
        }
        for (const auto& [pattern, reason] : facts->unknown()) {
            INFO(pattern);
            CHECK(halo::rules::in_catalogue(pattern));
            CHECK_FALSE(reason.empty());
        }
        ++files;
    }
    CHECK(files >= 7);
}

TEST_CASE("the JSON fixture holds the same facts as its TOML twin", "[rules][facts][fixtures]")
{
    auto toml = halo::rules::load_facts_file((k_facts_dir / "ok-vulkan-radv.toml").string());
    auto json = halo::rules::load_facts_file((k_facts_dir / "ok-vulkan-radv.json").string());
    REQUIRE(toml);
    REQUIRE(json);
    REQUIRE(toml->size() == json->size());
    for (const auto& [key, fact] : toml->all()) {
        INFO(key);
        CHECK(json->get(key) == fact.value);
    }
}

TEST_CASE("the undecided fixture marks gpu facts unknown", "[rules][facts][fixtures]")
{
    auto facts = halo::rules::load_facts_file((k_facts_dir / "undecided-gpu-unknown.toml").string());
    REQUIRE(facts);
    CHECK_FALSE(facts->contains("gpu.0.firmware.mes"));
    CHECK(facts->unknown_reason("gpu.0.firmware.mes").has_value());
    CHECK(facts->unknown_reason("gpu.*.firmware.mes").has_value());
    REQUIRE(facts->probes().count("drm") == 1);
    CHECK(facts->probes().at("drm").state == halo::rules::ProbeState::failed);
    CHECK(facts->get("engine.backend") == "rocm");
}

TEST_CASE("bad facts files fail with their name and a location", "[rules][facts][fixtures]")
{
    const std::filesystem::path bad = k_facts_dir / "bad";
    struct Case {
        const char* file;
        const char* needle;
    };
    for (const Case c : {Case{"malformed.toml", "malformed.toml:"}, Case{"malformed.json", "malformed.json:"},
                         Case{"table-value.toml", "kernel.release"}, Case{"object-value.json", "kernel.release"}}) {
        INFO(c.file);
        auto facts = halo::rules::load_facts_file((bad / c.file).string());
        REQUIRE_FALSE(facts);
        CHECK(facts.error().message.find(c.needle) != std::string::npos);
    }
    // The malformed TOML breaks at its unterminated header on line 5.
    auto toml = halo::rules::load_facts_file((bad / "malformed.toml").string());
    REQUIRE_FALSE(toml);
    CHECK(toml.error().message.find("malformed.toml:5:") != std::string::npos);
}
