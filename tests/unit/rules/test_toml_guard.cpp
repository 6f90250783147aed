#include "rules/toml_guard.hpp"
#include "rules/facts_io.hpp"
#include "rules/rule_loader.hpp"

#include <catch2/catch.hpp>

using namespace halo::rules;

TEST_CASE("code points toml++ 3.3.0 mishandles never reach it and read back unchanged", "[rules][toml_guard]")
{
    // U+FCFF after a value and U+0160 inside a value's lookahead reached undefined behaviour inside
    // toml++ 3.3.0 (found by fuzz/fuzz_facts): now they are ordinary parse errors.
    auto bad = parse_facts_toml("[facts]\n\"a\" = 5\xEF\xB3\xBF\n", "f.toml");
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.error().message, Catch::StartsWith("f.toml:2:"));
    auto bad2 = parse_facts_toml("[facts]\n\"k\" = 8.5-26_64\"00.x8\xC5\xA0" "64\"\n", "g.toml");
    REQUIRE_FALSE(bad2.ok());

    // The same characters inside strings and keys are read exactly as written.
    auto facts = parse_facts_toml("[facts]\n\"vulkan.0.name\" = \"Radeon\xE2\x84\xA2 \xC5\xA0 \xEF\xB3\xBF \xE3\x80\x80 \xE2\x80\x94\"\n"
                                  "\"container.\xC3\xA9t\xC3\xA9.state\" = 'caf\xC3\xA9'\n",
                                  "ok.toml");
    REQUIRE(facts.ok());
    CHECK(facts->get("vulkan.0.name") == std::optional<std::string>("Radeon\xE2\x84\xA2 \xC5\xA0 \xEF\xB3\xBF \xE3\x80\x80 \xE2\x80\x94"));
    CHECK(facts->get("container.\xC3\xA9t\xC3\xA9.state") == std::optional<std::string>("caf\xC3\xA9"));
}

TEST_CASE("the guard refuses NUL bytes and the private range it uses", "[rules][toml_guard]")
{
    auto nul = prepare_toml_input(std::string_view("a = \"\0\"", 7), "nul.toml");
    REQUIRE_FALSE(nul.ok());
    CHECK_THAT(nul.error().message, Catch::StartsWith("nul.toml:1:6: NUL byte"));
    auto pua = prepare_toml_input("a = \"\xEE\x80\x80\"\n", "pua.toml");
    REQUIRE_FALSE(pua.ok());
    CHECK_THAT(pua.error().message, Catch::StartsWith("pua.toml:1:6: private-use character U+E000"));
    CHECK(restore_toml_text(*prepare_toml_input("\xC2\xA1\xD2\x99\xE2\xB1\x8E\xE3\x81\x87\xEF\xAC\xA6\xEF\xBB\xBE", "x")) ==
          "\xC2\xA1\xD2\x99\xE2\xB1\x8E\xE3\x81\x87\xEF\xAC\xA6\xEF\xBB\xBE");
}

TEST_CASE("toml++ defects are parse errors through the product's paths", "[rules][toml_guard]")
{
    RulesFile file = parse_rules_file("[|]\n", "pipe.toml");
    REQUIRE(file.has_errors());
    CHECK_THAT(file.diagnostics[0].message, Catch::StartsWith("pipe.toml:1:"));
    RulesFile uni = parse_rules_file("[[rule]]\ni =0\"\"\"\"\"e\xEF\xBB\xAA\"\"\"\"\"\"\"\"\"veriti", "u.toml");
    CHECK(uni.has_errors());
}
