#include "common/toml.hpp"

#include <catch2/catch.hpp>

using halo::parse_toml;

TEST_CASE("parse_toml: syntax errors name origin, line and column and say what to do", "[common][toml]")
{
    auto bad = parse_toml("a = 1\nb = \n", "/etc/halo-check/config.toml");
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.error().message,
               Catch::StartsWith("/etc/halo-check/config.toml:2:") && Catch::EndsWith("; fix the TOML syntax"));

    auto column = parse_toml("[engine\n", "c.toml");
    REQUIRE_FALSE(column.ok());
    CHECK_THAT(column.error().message, Catch::StartsWith("c.toml:1:8: "));
}

TEST_CASE("parse_toml: the guard's refusals come through with their position", "[common][toml]")
{
    auto nul = parse_toml(std::string_view("a = \"\0\"", 7), "nul.toml");
    REQUIRE_FALSE(nul.ok());
    CHECK_THAT(nul.error().message, Catch::StartsWith("nul.toml:1:6: NUL byte"));
    auto pua = parse_toml("a = \"\xEE\x80\x80\"\n", "pua.toml");
    REQUIRE_FALSE(pua.ok());
    CHECK_THAT(pua.error().message, Catch::StartsWith("pua.toml:1:6: private-use character U+E000"));
}

TEST_CASE("parse_toml: code points toml++ 3.3.0 mishandles are errors outside strings, text inside", "[common][toml]")
{
    // U+FCFF after a value and U+0160 inside a value's lookahead reached undefined behaviour inside
    // toml++ 3.3.0 (found by fuzz/fuzz_facts).
    auto after = parse_toml("[facts]\n\"a\" = 5\xEF\xB3\xBF\n", "f.toml");
    REQUIRE_FALSE(after.ok());
    CHECK_THAT(after.error().message, Catch::StartsWith("f.toml:2:"));
    CHECK_FALSE(parse_toml("[facts]\n\"k\" = 8.5-26_64\"00.x8\xC5\xA0"
                           "64\"\n",
                           "g.toml")
                    .ok());
    CHECK_FALSE(parse_toml("[|]\n", "pipe.toml").ok());

    // Values, keys and nested strings come back exactly as written.
    auto ok = parse_toml("\"\xC3\xA9t\xC3\xA9\" = \"Radeon\xE2\x84\xA2 \xC5\xA0 \xEF\xB3\xBF \xE3\x80\x80\"\n"
                         "[t]\nlist = ['caf\xC3\xA9', { \"\xD0\x96\" = \"\xD0\x96\" }]\n",
                         "ok.toml");
    REQUIRE(ok.ok());
    CHECK(ok->get_as<std::string>("\xC3\xA9t\xC3\xA9")->get() ==
          "Radeon\xE2\x84\xA2 \xC5\xA0 \xEF\xB3\xBF \xE3\x80\x80");
    const toml::array& list = *(*ok)["t"]["list"].as_array();
    CHECK(list[0].value<std::string>() == std::optional<std::string>("caf\xC3\xA9"));
    CHECK(list[1].as_table()->get_as<std::string>("\xD0\x96")->get() == "\xD0\x96");
}

TEST_CASE("parse_toml: nodes keep the origin's positions", "[common][toml]")
{
    auto doc = parse_toml("[engine]\n  command = [\"x\"]\n", "c.toml");
    REQUIRE(doc.ok());
    const toml::node* command = (*doc)["engine"].as_table()->get("command");
    REQUIRE(command);
    CHECK(halo::toml_where("c.toml", command->source()) == "c.toml:2:13");
}
