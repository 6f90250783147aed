#include "rules/rule.hpp"

#include <catch2/catch.hpp>

using namespace halo::rules;

TEST_CASE("severity names read back, anything else is no severity", "[rules][rule]")
{
    for (Severity s : {Severity::info, Severity::warning, Severity::broken})
        CHECK(severity_from_string(to_string(s)) == s);
    CHECK_FALSE(severity_from_string("fatal"));
    CHECK_FALSE(severity_from_string("Broken"));
}

TEST_CASE("a source location without a line is the file alone", "[rules][rule]")
{
    CHECK(SourceLocation{"embedded:kernel.toml", 12, 5}.str() == "embedded:kernel.toml:12:5");
    CHECK(SourceLocation{"/etc/halo-check/rules.d/local.toml", 0, 0}.str() == "/etc/halo-check/rules.d/local.toml");
}

TEST_CASE("a rule set finds each kind of entry by id, and only that kind", "[rules][rule]")
{
    RuleSet set;
    set.rules.push_back(Rule{});
    set.rules.back().id = "kernel.too-new";
    set.known_good.push_back(KnownGood{});
    set.known_good.back().id = "good.vulkan";
    set.log_patterns.push_back(LogPattern{});
    set.log_patterns.back().id = "log.mes";
    REQUIRE(set.find_rule("kernel.too-new"));
    CHECK(set.find_rule("kernel.too-new") == &set.rules[0]);
    CHECK(set.find_known_good("good.vulkan") == &set.known_good[0]);
    CHECK(set.find_log_pattern("log.mes") == &set.log_patterns[0]);
    CHECK_FALSE(set.find_rule("good.vulkan"));
    CHECK_FALSE(set.find_known_good("log.mes"));
    CHECK_FALSE(set.find_log_pattern("kernel.too-new"));
    CHECK_FALSE(set.find_rule("kernel"));
}
