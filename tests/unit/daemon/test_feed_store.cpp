#include "daemon/feed_store.hpp"
#include "daemon/knowledge.hpp"
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
    // "feed 2" is no feed file: skipped with a warning, the embedded knowledge alone.
    const InstalledKnowledge unreadable = find_installed_knowledge(dir, {});
    CHECK_FALSE(unreadable.feed);
    REQUIRE(unreadable.warnings.size() == 1);
    CHECK_THAT(unreadable.warnings[0], Catch::StartsWith("feed 2:"));
    CHECK(feed_version_line(unreadable) == "knowledge feed: none installed (embedded knowledge only)");
}

TEST_CASE("the server's validators are stored for the version and URL they came from", "[daemon][feed]")
{
    halo::test::TempDir state;
    CHECK_FALSE(read_feed_validators(state.path));
    REQUIRE(install_feed(state.path, 7, "feed 7", "sig"));
    REQUIRE(write_feed_validators(state.path, {7, "https://x/feed.toml", "\"e7\"", "Thu, 01 Jan 2026 00:00:00 GMT"}));
    auto v = read_feed_validators(state.path);
    REQUIRE(v);
    CHECK(v->version == 7);
    CHECK(v->url == "https://x/feed.toml");
    CHECK(v->etag == "\"e7\"");
    CHECK(v->last_modified == "Thu, 01 Jan 2026 00:00:00 GMT");
    // Only one of them is enough; a value that could split a header line is never stored.
    REQUIRE(write_feed_validators(state.path, {8, "https://x/feed.toml", "", "Fri, 02 Jan 2026 00:00:00 GMT"}));
    CHECK(read_feed_validators(state.path)->etag.empty());
    REQUIRE(write_feed_validators(state.path, {9, "https://x/feed.toml", "\"a\"\r\nX-Evil: 1", ""}));
    CHECK_FALSE(read_feed_validators(state.path));
    REQUIRE(write_feed_validators(state.path, {9, "https://x/feed.toml", "", ""}));
    CHECK_FALSE(read_feed_validators(state.path));
}
