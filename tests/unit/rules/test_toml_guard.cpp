#include "rules/toml_guard.hpp"
#include "rules/facts_io.hpp"
#include "rules/rule_loader.hpp"

#include <catch2/catch.hpp>

using namespace halo::rules;

TEST_CASE("non-ASCII outside strings is refused before toml++ sees it", "[rules][toml_guard]")
{
    // U+FCFF right after a value reaches undefined behaviour inside toml++ 3.3.0.
    auto r = check_toml_input("a = 5\xEF\xB3\xBF\n", "x.toml");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::StartsWith("x.toml:1:6: non-ASCII character outside a string"));

    auto facts = parse_facts_toml("[facts]\n\"a\" = 5\xEF\xB3\xBF\n", "f.toml");
    REQUIRE_FALSE(facts.ok());
    CHECK_THAT(facts.error().message, Catch::StartsWith("f.toml:2:8:"));

    RulesFile file = parse_rules_file("[[rule]]\xEF\xB3\xBF\n", "r.toml");
    REQUIRE(file.has_errors());
    CHECK_THAT(file.diagnostics[0].message, Catch::StartsWith("r.toml:1:9:"));
}

TEST_CASE("non-ASCII inside strings and comments is fine", "[rules][toml_guard]")
{
    CHECK(check_toml_input("# Grüße \xEF\xB3\xBF\na = \"Radeon™ 8060S\"\nb = 'ü'\nc = \"\"\"\nü \\\" \"\"\"\nd = '''ü'''\n", "ok.toml").ok());
    auto facts = parse_facts_toml("[facts]\n\"vulkan.0.name\" = \"AMD Radeon(TM) 8060S — ü\"\n", "f.toml");
    REQUIRE(facts.ok());
    CHECK(facts->get("vulkan.0.name") == std::optional<std::string>("AMD Radeon(TM) 8060S — ü"));
}

TEST_CASE("escaped quotes do not end a string early", "[rules][toml_guard]")
{
    CHECK(check_toml_input("a = \"x\\\"ü\"\n", "ok.toml").ok());
    CHECK_FALSE(check_toml_input("a = \"x\\\\\"ü\n", "bad.toml").ok()); // the string ended before ü
    CHECK_FALSE(check_toml_input(std::string_view("a = 1\0", 6), "nul.toml").ok());
    CHECK_FALSE(check_toml_input(std::string_view("a = \"\0\"", 7), "nul.toml").ok());
}

TEST_CASE("toml++ defects are parse errors through the product's paths", "[rules][toml_guard]")
{
    RulesFile file = parse_rules_file("[|]\n", "pipe.toml");
    REQUIRE(file.has_errors());
    CHECK_THAT(file.diagnostics[0].message, Catch::StartsWith("pipe.toml:1:"));
}
