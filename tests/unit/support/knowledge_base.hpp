#pragma once
// The embedded knowledge base and the facts fixtures under tests/data/facts, loaded once for the
// tests that judge realistic machines.

#include "rules/facts.hpp"
#include "rules/facts_io.hpp"
#include "rules/rule_loader.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

namespace halo::test {

inline const rules::RuleSet& embedded_kb()
{
    static const rules::LoadedRules loaded = rules::load_embedded_rules();
    return loaded.rules;
}

// tests/data/facts/NAME, read as `halo-check check --facts` reads it.
inline rules::Facts facts_fixture(const char* name)
{
    auto facts = rules::load_facts_file((std::filesystem::path(HALO_TEST_DATA) / "facts" / name).string());
    REQUIRE(facts);
    return *facts;
}

} // namespace halo::test
