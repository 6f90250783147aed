#include "daemon/checkd/http_client.hpp"

#include "daemon/checkd/callback_guard.hpp"
#include "watch_test_support.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

using namespace halo;
using namespace halo::checkd;
using namespace std::chrono_literals;

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

// Nothing listens on port 1 of loopback: the request is refused at once.
constexpr const char* k_refused = "http://127.0.0.1:1/health";

} // namespace

TEST_CASE("http client: a refused request ends in one callback with curl's reason", "[daemon][http_client]")
{
    test::EventLoop loop;
    auto http = HttpClient::create(loop.e);
    REQUIRE(http.ok());
    std::vector<HttpResponse> answers;
    REQUIRE((*http)->request(k_refused, {}, 2000ms, [&](const HttpResponse& r) { answers.push_back(r); }).ok());
    REQUIRE(loop.run_until([&] { return !answers.empty(); }, 5'000'000));
    loop.run_for(50'000);
    REQUIRE(answers.size() == 1);
    CHECK(answers[0].status == 0);
    CHECK_FALSE(answers[0].error.empty());
    CHECK((*http)->in_flight() == 0);
}

TEST_CASE("http client: a cancelled request never calls back", "[daemon][http_client]")
{
    test::EventLoop loop;
    auto http = HttpClient::create(loop.e);
    REQUIRE(http.ok());
    int calls = 0;
    auto id = (*http)->request(k_refused, {}, 2000ms, [&](const HttpResponse&) { ++calls; });
    REQUIRE(id.ok());
    (*http)->cancel(*id);
    CHECK((*http)->in_flight() == 0);
    loop.run_for(200'000);
    CHECK(calls == 0);
}

TEST_CASE("http client: a throwing callback is reported and costs the other requests nothing",
          "[daemon][http_client]")
{
    Recording rec;
    test::EventLoop loop;
    auto http = HttpClient::create(loop.e);
    REQUIRE(http.ok());
    int answered = 0;
    for (int i = 0; i < 3; ++i) {
        REQUIRE((*http)->request(k_refused, {}, 2000ms, [&answered](const HttpResponse&) {
            ++answered;
            throw std::runtime_error("owner failed");
        }).ok());
    }
    REQUIRE(loop.run_until([&] { return answered == 3; }, 5'000'000));
    CHECK((*http)->in_flight() == 0);
    REQUIRE(g_reports.size() == 3);
    for (const auto& r : g_reports) CHECK(r == "http_client.done: owner failed");
}
