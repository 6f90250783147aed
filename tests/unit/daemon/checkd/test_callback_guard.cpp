#include "daemon/checkd/callback_guard.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

using namespace halo::checkd;

namespace {

std::vector<std::string> g_reports;

void record(std::string_view callback, std::string_view what) noexcept
{
    g_reports.push_back(std::string(callback) + ": " + std::string(what));
}

struct Recording {
    Recording()
    {
        g_reports.clear();
        set_callback_error_reporter(&record);
    }
    ~Recording() { set_callback_error_reporter(nullptr); }
};

} // namespace

TEST_CASE("guard_callback passes the body's result through and reports nothing")
{
    Recording r;
    CHECK(guard_callback("cb", -1, [] { return 7; }) == 7);
    CHECK(guard_callback("cb", -1, [] {}) == 0);
    CHECK(g_reports.empty());
}

TEST_CASE("guard_callback reports an exception by name, recovers and returns the error value")
{
    Recording r;
    bool recovered = false;
    const int rc = guard_callback(
        "supervisor.on_child", -5, []() -> int { throw std::runtime_error("state file full"); },
        [&] { recovered = true; });
    CHECK(rc == -5);
    CHECK(recovered);
    REQUIRE(g_reports.size() == 1);
    CHECK(g_reports[0] == "supervisor.on_child: state file full");
}

TEST_CASE("guard_callback reports exceptions of unknown type and a failing recovery")
{
    Recording r;
    const auto rc = guard_callback(
        "curl.write", std::size_t{0}, []() -> std::size_t { throw 42; }, [] { throw std::logic_error("x"); });
    CHECK(rc == 0);
    REQUIRE(g_reports.size() == 2);
    CHECK(g_reports[0] == "curl.write: an exception of unknown type");
    CHECK(g_reports[1] == "curl.write: its recovery step failed too");
}

TEST_CASE("guard_callback hands the exception's message to a recovery step that takes one")
{
    Recording r;
    std::string seen;
    const int rc = guard_callback(
        "supervisor.on_health_timer", -1, []() -> int { throw std::runtime_error("out of sources"); },
        [&](std::string_view what) { seen = std::string(what); });
    CHECK(rc == -1);
    CHECK(seen == "out of sources");
    REQUIRE(g_reports.size() == 1);
    CHECK(g_reports[0] == "supervisor.on_health_timer: out of sources");

    seen.clear();
    CHECK(guard_callback(
              "cb", 3, []() -> int { throw 1; }, [&](std::string_view what) { seen = std::string(what); }) == 3);
    CHECK(seen == "an exception of unknown type");
}
