#include "daemon/http_fetch.hpp"

#include <catch2/catch.hpp>

using halo::app::HttpFetchAnswer;
using halo::app::parse_header_line;

TEST_CASE("a header line is a lower-case name and a trimmed value, other lines are not headers", "[daemon][http]")
{
    auto etag = parse_header_line("ETag: \"feed-7\"\r\n");
    REQUIRE(etag);
    CHECK(etag->first == "etag");
    CHECK(etag->second == "\"feed-7\"");
    auto modified = parse_header_line("Last-Modified:   Thu, 01 Jan 2026 00:00:00 GMT \t\r\n");
    REQUIRE(modified);
    CHECK(modified->first == "last-modified");
    CHECK(modified->second == "Thu, 01 Jan 2026 00:00:00 GMT");
    auto empty = parse_header_line("X-Empty:\r\n");
    REQUIRE(empty);
    CHECK(empty->second.empty());
    CHECK_FALSE(parse_header_line("HTTP/1.1 304 Not Modified\r\n"));
    CHECK_FALSE(parse_header_line("\r\n"));
    CHECK_FALSE(parse_header_line("no colon here\r\n"));
    CHECK_FALSE(parse_header_line(": no name\r\n"));

    HttpFetchAnswer answer;
    answer.headers = {{"etag", "\"a\""}, {"etag", "\"b\""}};
    CHECK(answer.header("etag") == "\"a\"");
    CHECK(answer.header("last-modified").empty());
}
