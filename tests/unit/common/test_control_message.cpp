#include "common/control_message.hpp"
#include "common/printable.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace halo;

TEST_CASE("a control request is one known verb on one line", "[common][control]")
{
    auto r = parse_control_request("restart\n");
    REQUIRE(r.ok());
    CHECK(r->complete);
    CHECK(r->verb == ControlVerb::restart);
    for (const char* verb : {"status", "stop", "start", "reload", "smoke"}) {
        auto v = parse_control_request(std::string(verb) + "\n");
        REQUIRE(v.ok());
        CHECK(to_string(v->verb) == verb);
    }
    // Not all there yet: more may come.
    auto partial = parse_control_request("rest");
    REQUIRE(partial.ok());
    CHECK_FALSE(partial->complete);
}

TEST_CASE("a bad control request is refused with a printable reason", "[common][control]")
{
    auto unknown = parse_control_request("\x1b]0;x\x07\n");
    REQUIRE_FALSE(unknown.ok());
    CHECK(unknown.error().message == "unknown request '?]0;x?'");
    auto nul = parse_control_request(std::string("stop\0x\n", 7));
    REQUIRE_FALSE(nul.ok());
    CHECK(nul.error().message == "unknown request 'stop?x'");
    auto two = parse_control_request("stop\nstart\n");
    REQUIRE_FALSE(two.ok());
    CHECK(two.error().message == "more than one request on one connection");
    auto long_one = parse_control_request(std::string(kControlRequestMax, 'a'));
    REQUIRE_FALSE(long_one.ok());
    CHECK(long_one.error().message == "request longer than 64 bytes");
}

TEST_CASE("control replies round-trip, made printable and cut to size", "[common][control]")
{
    CHECK(format_control_reply({ControlReplyKind::taken, "pid 7"}) == "taken pid 7\n");
    auto r = parse_control_reply("failed smoke test not run: engine stopped");
    REQUIRE(r.ok());
    CHECK(r->kind == ControlReplyKind::failed);
    CHECK(r->message == "smoke test not run: engine stopped");
    CHECK(format_control_reply({ControlReplyKind::done, "a\nrefused b"}) == "done a?refused b\n");
    CHECK(format_control_reply({ControlReplyKind::done, std::string(10000, 'x')}).size() == kControlReplyMax);
    auto bogus = parse_control_reply("\x1b[2Jhello");
    REQUIRE_FALSE(bogus.ok());
    CHECK(bogus.error().message == "not a halo-checkd reply: '?[2Jhello'");
}

TEST_CASE("printable replaces C0, DEL and C1 controls and keeps tabs and UTF-8", "[common][control]")
{
    CHECK(printable("a\tb") == "a\tb");
    CHECK(printable("a\nb\rc\x7f") == "a?b?c?");
    CHECK(printable("\xc2\x9b"
                    "2J") == "?2J"); // C1 CSI
    CHECK(printable("caf\xc3\xa9 \xc2\xb0") == "caf\xc3\xa9 \xc2\xb0");
}
