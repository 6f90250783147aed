#pragma once
// Rules written inline in a test, parsed as a rules file is; a test's own rules must be valid.

#include "rules/rule.hpp"
#include "rules/rule_file.hpp"

#include <catch2/catch.hpp>

#include <utility>

namespace halo::test {

inline rules::RuleSet load_rules_text(const char* text)
{
    rules::RulesFile file = rules::parse_rules_file(text, "t.toml");
    for (const auto& d : file.diagnostics) INFO(d.message);
    REQUIRE_FALSE(file.has_errors());
    return std::move(file.entries);
}

} // namespace halo::test
