#include "common/toml_guard.hpp"

#include <catch2/catch.hpp>

using namespace halo;

TEST_CASE("the guard refuses NUL bytes and the private range it uses", "[common][toml_guard]")
{
    auto nul = prepare_toml_input(std::string_view("a = \"\0\"", 7), "nul.toml");
    REQUIRE_FALSE(nul.ok());
    CHECK_THAT(nul.error().message, Catch::StartsWith("nul.toml:1:6: NUL byte"));
    auto pua = prepare_toml_input("a = \"\xEE\x80\x80\"\n", "pua.toml");
    REQUIRE_FALSE(pua.ok());
    CHECK_THAT(pua.error().message, Catch::StartsWith("pua.toml:1:6: private-use character U+E000"));
    CHECK(restore_toml_text(
              *prepare_toml_input("\xC2\xA1\xD2\x99\xE2\xB1\x8E\xE3\x81\x87\xEF\xAC\xA6\xEF\xBB\xBE", "x")) ==
          "\xC2\xA1\xD2\x99\xE2\xB1\x8E\xE3\x81\x87\xEF\xAC\xA6\xEF\xBB\xBE");
}
