#include "daemon/checkd/callback_guard.hpp"

#include "callback_recording.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

using namespace halo::checkd;

TEST_CASE("guard_callback passes the body's result through and reports nothing")
{
    halo::test::CallbackRecording r;
    CHECK(guard_callback("cb", -1, [] { return 7; }) == 7);
    CHECK(guard_callback("cb", -1, [] {}) == 0);
    CHECK(halo::test::CallbackRecording::reports().empty());
}

TEST_CASE("guard_callback reports an exception by name, recovers and returns the error value")
{
    halo::test::CallbackRecording r;
    bool recovered = false;
    const int rc = guard_callback(
        "supervisor.on_child", -5, []() -> int { throw std::runtime_error("state file full"); },
        [&] { recovered = true; });
    CHECK(rc == -5);
    CHECK(recovered);
    REQUIRE(halo::test::CallbackRecording::reports().size() == 1);
    CHECK(halo::test::CallbackRecording::reports()[0] == "supervisor.on_child: state file full");
}

TEST_CASE("guard_callback reports exceptions of unknown type and a failing recovery")
{
    halo::test::CallbackRecording r;
    const auto rc = guard_callback(
        "curl.write", std::size_t{0}, []() -> std::size_t { throw 42; }, [] { throw std::logic_error("x"); });
    CHECK(rc == 0);
    REQUIRE(halo::test::CallbackRecording::reports().size() == 2);
    CHECK(halo::test::CallbackRecording::reports()[0] == "curl.write: an exception of unknown type");
    CHECK(halo::test::CallbackRecording::reports()[1] == "curl.write: its recovery step failed too");
}

TEST_CASE("guard_callback hands the exception's message to a recovery step that takes one")
{
    halo::test::CallbackRecording r;
    std::string seen;
    const int rc = guard_callback(
        "supervisor.on_health_timer", -1, []() -> int { throw std::runtime_error("out of sources"); },
        [&](std::string_view what) { seen = std::string(what); });
    CHECK(rc == -1);
    CHECK(seen == "out of sources");
    REQUIRE(halo::test::CallbackRecording::reports().size() == 1);
    CHECK(halo::test::CallbackRecording::reports()[0] == "supervisor.on_health_timer: out of sources");

    seen.clear();
    CHECK(guard_callback(
              "cb", 3, []() -> int { throw 1; }, [&](std::string_view what) { seen = std::string(what); }) == 3);
    CHECK(seen == "an exception of unknown type");
}
