#include "daemon/feed_store.hpp"
#include "daemon/knowledge.hpp"
#include "rules/evaluate.hpp"
#include "tests/unit/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace halo::app;
using namespace std::chrono;

namespace {

std::string feed_text(int version, const std::string& expires = "2027-02-01T00:00:00Z")
{
    return "[feed]\nname = \"t\"\nversion = " + std::to_string(version) +
           "\npublished = 2026-11-01T00:00:00Z\nexpires = " + expires + "\nmin_halo_check = \"0.1.0\"\n" +
           "\n[[rule]]\nid = \"feed.r" + std::to_string(version) +
           "\"\nseverity = \"info\"\ntitle = \"t\"\nexplain = \"x\"\nfix = \"y\"\n"
           "links = [\"https://example.org\"]\nsince = 2026-11-01\nwhen = { \"host.os.id\" = \"*\" }\n";
}

const sys_seconds k_now = sys_days{2026y / 12 / 1};

bool has_rule(const halo::rules::RuleSet& set, const std::string& id)
{
    return std::any_of(set.rules.begin(), set.rules.end(), [&](const halo::rules::Rule& r) { return r.id == id; });
}

} // namespace

TEST_CASE("the newer of the user's and the system's feed is used, the user's on a tie", "[daemon][feed]")
{
    halo::test::TempDir own, system;
    CHECK_FALSE(find_installed_knowledge(own.path, system.path).feed);
    CHECK(knowledge_line(find_installed_knowledge(own.path, system.path), "2026-11-20", k_now) ==
          "embedded 2026-11-20");

    REQUIRE(install_feed(system.path, 7, feed_text(7), "sig"));
    auto k = find_installed_knowledge(own.path, system.path);
    REQUIRE(k.feed);
    CHECK(k.feed->version == 7);
    CHECK(k.feed->system);
    CHECK(k.feed->origin == "feed 7 (system, " + system.path.string() + ")");
    CHECK(knowledge_line(k, "2026-11-20", k_now) ==
          "feed 7 from " + system.path.string() + " (published 2026-11-01, expires 2027-02-01)");

    REQUIRE(install_feed(own.path, 5, feed_text(5), "sig"));
    CHECK(find_installed_knowledge(own.path, system.path).feed->version == 7);
    REQUIRE(install_feed(own.path, 7, feed_text(7), "sig"));
    CHECK_FALSE(find_installed_knowledge(own.path, system.path).feed->system);
    REQUIRE(install_feed(own.path, 8, feed_text(8), "sig"));
    k = find_installed_knowledge(own.path, system.path);
    CHECK(k.feed->version == 8);
    CHECK(k.feed->origin == "feed 8");
    CHECK(knowledge_json(k, "2026-11-20", k_now)["feed_version"] == 8);

    // The same directory twice (root's own state directory is the system's) is read once.
    CHECK(find_installed_knowledge(system.path, system.path).feed->origin == "feed 7");
}

TEST_CASE("an installed feed that does not parse is skipped with a warning, the other one used", "[daemon][feed]")
{
    halo::test::TempDir own, system;
    REQUIRE(install_feed(system.path, 4, feed_text(4), "sig"));
    REQUIRE(install_feed(own.path, 9, "[feed]\nname = \"t\"\n", "sig"));
    auto k = find_installed_knowledge(own.path, system.path);
    REQUIRE(k.feed);
    CHECK(k.feed->version == 4);
    REQUIRE(k.warnings.size() == 1);
    CHECK_THAT(k.warnings[0], Catch::Contains("feed 9") && Catch::Contains("halo-check update"));
}

TEST_CASE("an expired feed is still loaded and adds feed.expired to the rules, never broken", "[daemon][feed]")
{
    halo::test::TempDir own, system;
    REQUIRE(install_feed(own.path, 5, feed_text(5, "2027-02-01T00:00:00Z"), "sig"));
    halo::rules::RuleSources sources;
    sources.embedded = false;

    Knowledge current = load_knowledge(sources, find_installed_knowledge(own.path, system.path), k_now);
    CHECK(has_rule(current.loaded.rules, "feed.r5"));
    CHECK_FALSE(has_rule(current.loaded.rules, "feed.expired"));

    const sys_seconds later = sys_days{2027y / 2 / 11};
    Knowledge expired = load_knowledge(sources, find_installed_knowledge(own.path, system.path), later);
    CHECK(has_rule(expired.loaded.rules, "feed.r5"));
    REQUIRE(has_rule(expired.loaded.rules, "feed.expired"));
    const halo::rules::Rule& rule = expired.loaded.rules.rules.back();
    CHECK(rule.severity == halo::rules::Severity::warning);
    CHECK(rule.title == "The knowledge feed (feed 5) expired 10 days ago");
    CHECK(rule.where.file == "feed 5");
    CHECK_THAT(rule.fix, Catch::Contains("halo-check update"));
    CHECK_THAT(knowledge_line(expired.installed, "", later), Catch::EndsWith("expires 2027-02-01: expired)"));

    // Wherever the rules are judged: no conditions, so it holds on any facts.
    const halo::rules::Report report = halo::rules::evaluate(expired.loaded.rules, halo::rules::Facts{}, {});
    REQUIRE(report.findings.size() == 1);
    CHECK(report.findings[0].rule->id == "feed.expired");
    CHECK(report.verdict == halo::rules::Verdict::warning);
}
