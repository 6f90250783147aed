#include "daemon/feed_store.hpp"
#include "tests/unit/support/temp_dir.hpp"

#include <catch2/catch.hpp>

using namespace halo::app;
using namespace std::chrono;

namespace {

FeedCandidate candidate(std::int64_t version, std::string signed_version)
{
    FeedCandidate c;
    c.header.version = version;
    c.header.published = sys_days{2026y / 11 / 1};
    c.header.expires = sys_days{2027y / 2 / 1};
    c.header.min_halo_check = "0.1.0";
    c.signed_version = std::move(signed_version);
    return c;
}

const sys_seconds k_now = sys_days{2026y / 12 / 1};

} // namespace

TEST_CASE("judge_feed refuses each case in order", "[daemon][feed]")
{
    CHECK(judge_feed(candidate(5, "5"), 4, false, k_now, "0.1.0") == FeedRefusal::none);
    CHECK(judge_feed(candidate(5, "6"), 4, false, k_now, "0.1.0") == FeedRefusal::version_mismatch);
    CHECK(judge_feed(candidate(5, ""), 4, false, k_now, "0.1.0") == FeedRefusal::version_mismatch);
    CHECK(judge_feed(candidate(5, "5"), 4, false, k_now, "0.0.9") == FeedRefusal::not_for_client);
    CHECK(judge_feed(candidate(5, "5"), 5, false, k_now, "0.1.0") == FeedRefusal::not_newer);
    CHECK(judge_feed(candidate(5, "5"), 9, true, k_now, "0.1.0") == FeedRefusal::none);
    CHECK(judge_feed(candidate(5, "5"), 4, false, sys_days{2027y / 3 / 1}, "0.1.0") == FeedRefusal::expired);
    CHECK_THAT(refusal_message(FeedRefusal::not_newer, candidate(5, "5"), 7, "0.1.0", "f.toml"),
               Catch::Contains("--allow-downgrade"));
}

TEST_CASE("install keeps the 3 newest, rollback steps back, highest never goes down", "[daemon][feed]")
{
    halo::test::TempDir state;
    const std::filesystem::path dir = state.path;
    auto none = read_installed_feed(dir);
    REQUIRE(none);
    CHECK_FALSE(*none);
    CHECK(highest_installed_version(dir) == 0);
    for (std::int64_t v : {1, 2, 3, 4}) REQUIRE(install_feed(dir, v, "feed " + std::to_string(v), "sig"));
    CHECK(installed_versions(dir) == std::vector<std::int64_t>{4, 3, 2});
    auto current = read_installed_feed(dir);
    REQUIRE(current);
    REQUIRE(*current);
    CHECK((*current)->text == "feed 4");
    auto back = rollback_feed(dir);
    REQUIRE(back);
    CHECK(*back == 3);
    CHECK(highest_installed_version(dir) == 4);
    CHECK((*read_installed_feed(dir))->text == "feed 3");
    REQUIRE(rollback_feed(dir));
    auto none_left = rollback_feed(dir);
    REQUIRE_FALSE(none_left);
    CHECK_THAT(none_left.error().message, Catch::Contains("nothing to roll back to"));
    CHECK_THAT(feed_version_line(dir), Catch::Contains("knowledge feed: 2 (unreadable"));
}

TEST_CASE("an expired feed adds a warning finding, never broken", "[daemon][feed]")
{
    FeedCandidate c = candidate(5, "5");
    CHECK_FALSE(feed_expired_rule(c.header, 5, k_now));
    auto rule = feed_expired_rule(c.header, 5, sys_days{2027y / 2 / 11});
    REQUIRE(rule);
    CHECK(rule->id == "feed.expired");
    CHECK(rule->severity == halo::rules::Severity::warning);
    CHECK(rule->title == "The knowledge feed (feed 5) expired 10 days ago");
    CHECK_THAT(rule->fix, Catch::Contains("halo-check update"));
    halo::rules::Report report;
    add_feed_finding(report, *rule, halo::rules::FailOn::warning);
    CHECK(report.verdict == halo::rules::Verdict::warning);
    CHECK(report.exit_code == halo::ExitCode::warning);
    halo::rules::Report broken;
    broken.verdict = halo::rules::Verdict::broken;
    broken.exit_code = halo::ExitCode::broken;
    add_feed_finding(broken, *rule, halo::rules::FailOn::warning);
    CHECK(broken.verdict == halo::rules::Verdict::broken);
    REQUIRE(broken.findings.size() == 1);
}
