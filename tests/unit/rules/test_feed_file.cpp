#include "rules/feed_file.hpp"

#include <catch2/catch.hpp>

using namespace halo::rules;

namespace {

std::string feed_text(const std::string& header_extra, const std::string& version = "3")
{
    return "[feed]\nname = \"t\"\nversion = " + version +
           "\npublished = 2026-11-01T00:00:00Z\nexpires = 2027-02-01T12:30:00+01:00\nmin_halo_check = \"0.1.0\"\n" +
           header_extra +
           "\n[[rule]]\nid = \"feed.r\"\nseverity = \"info\"\ntitle = \"t\"\nexplain = \"x\"\nfix = \"y\"\n"
           "links = [\"https://example.org\"]\nsince = 2026-11-01\nwhen = { \"host.os.id\" = \"*\" }\n";
}

} // namespace

TEST_CASE("a feed's header and entries parse, times in UTC", "[rules][feed]")
{
    auto feed = parse_feed(feed_text(""), "feed.toml");
    REQUIRE(feed);
    CHECK(feed->header.version == 3);
    CHECK(format_utc(feed->header.published) == "2026-11-01T00:00:00Z");
    CHECK(format_utc(feed->header.expires) == "2027-02-01T11:30:00Z");
    CHECK_FALSE(feed->rules.has_errors());
    REQUIRE(feed->rules.entries.rules.size() == 1);
    CHECK(feed->rules.entries.rules[0].id == "feed.r");
}

TEST_CASE("a bad [feed] table is an error with the place and the fix", "[rules][feed]")
{
    CHECK_THAT(parse_feed_header("[[rule]]\n", "f.toml").error().message, Catch::Contains("has no [feed] table"));
    CHECK_THAT(parse_feed_header(feed_text("colour = 1"), "f.toml").error().message,
               Catch::Contains("f.toml:7:1: [feed] unknown field 'colour'"));
    CHECK_THAT(parse_feed_header(feed_text("", "0"), "f.toml").error().message, Catch::Contains("'version'"));
    CHECK_THAT(parse_feed_header(feed_text("", "\"3\""), "f.toml").error().message, Catch::Contains("'version'"));
    std::string local = feed_text("");
    local.replace(local.find("2026-11-01T00:00:00Z"), 20, "2026-11-01T00:00:00");
    CHECK_THAT(parse_feed_header(local, "f.toml").error().message, Catch::Contains("with a time zone"));
}

TEST_CASE("a [feed] table after the entries is read, its errors at their lines", "[rules][feed]")
{
    const std::string rule =
        "[[rule]]\nid = \"r\"\nseverity = \"info\"\ntitle = \"t\"\nwhen = { \"host.os.id\" = \"*\" }\n";
    const std::string header = "[feed]\nname = \"t\"\nversion = 4\npublished = 2026-11-01T00:00:00Z\n"
                               "expires = 2027-02-01T00:00:00Z\nmin_halo_check = \"0.1.0\"\n";
    auto feed = parse_feed(rule + rule + header, "f.toml");
    REQUIRE(feed);
    CHECK(feed->header.version == 4);
    CHECK(feed->rules.has_errors()); // the duplicate id: the entries were read too
    auto late = parse_feed_header(rule + header + "colour = 1\n", "f.toml");
    CHECK_THAT(late.error().message, Catch::Contains("f.toml:12:1: [feed] unknown field 'colour'"));
    CHECK_THAT(parse_feed_header(rule + "[[rule]]\nid = \n" + header, "f.toml").error().message,
               Catch::StartsWith("f.toml:7:6:"));
}

TEST_CASE("min_halo_check orders as versions do", "[rules][feed]")
{
    FeedHeader h;
    h.min_halo_check = "0.1.0";
    CHECK(feed_fits_client(h, "0.1.0"));
    CHECK(feed_fits_client(h, "0.10.0"));
    h.min_halo_check = "0.2";
    CHECK_FALSE(feed_fits_client(h, "0.1.0"));
}
