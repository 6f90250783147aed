#include "daemon/version_info.hpp"

#include <catch2/catch.hpp>

#include <string>

using halo::app::KnowledgeSummary;
using halo::app::summarise_knowledge;
using halo::app::version_text;

TEST_CASE("version info: the knowledge base's date is its newest entry, of any kind", "[daemon][version_info]")
{
    halo::rules::RuleSet set;
    set.rules.resize(2);
    set.rules[0].since = "2025-12-11";
    set.rules[1].since = "2026-01-25";
    set.known_good.resize(1);
    set.known_good[0].since = "2026-02-04";
    set.log_patterns.resize(3);
    set.log_patterns[0].since = "2026-01-02";
    set.log_patterns[1].since = ""; // an undated entry does not make the set undated
    set.log_patterns[2].since = "2025-11-30";
    const KnowledgeSummary k = summarise_knowledge(set);
    CHECK(k.newest == "2026-02-04");
    CHECK(k.rules == 2);
    CHECK(k.known_good == 1);
    CHECK(k.log_patterns == 3);

    set.known_good.clear();
    CHECK(summarise_knowledge(set).newest == "2026-01-25");
    CHECK(summarise_knowledge(halo::rules::RuleSet{}).newest.empty());
}

TEST_CASE("version info: the revision is shown only when the build had one", "[daemon][version_info]")
{
    const KnowledgeSummary k{"2026-12-01", 44, 6, 19};
    CHECK(version_text("halo-check", "0.1.0", "a333b5c8af20", k) ==
          "halo-check 0.1.0 (git a333b5c8af20)\n"
          "knowledge base: 2026-12-01, 44 rules, 6 known-good, 19 log patterns (embedded)");
    CHECK(version_text("halo-checkd", "0.1.0", "", k) ==
          "halo-checkd 0.1.0\n"
          "knowledge base: 2026-12-01, 44 rules, 6 known-good, 19 log patterns (embedded)");
    CHECK(version_text("halo-check", "0.2.0", "a333b5c8af20-dirty", KnowledgeSummary{}) ==
          "halo-check 0.2.0 (git a333b5c8af20-dirty)\n"
          "knowledge base: undated, 0 rules, 0 known-good, 0 log patterns (embedded)");
}

TEST_CASE("version info: this build names the embedded knowledge base", "[daemon][version_info]")
{
    const std::string text = halo::app::program_version_text("halo-check");
    CHECK(text.rfind(std::string("halo-check ") + HALO_VERSION, 0) == 0);
    CHECK(text.find("knowledge base: 20") != std::string::npos);
    CHECK(text.find(" 0 rules") == std::string::npos);
}
