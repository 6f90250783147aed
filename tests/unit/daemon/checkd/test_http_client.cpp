#include "daemon/checkd/http_client.hpp"

#include "callback_recording.hpp"
#include "daemon/checkd/callback_guard.hpp"
#include "watch_test_support.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <vector>

using namespace halo;
using namespace halo::checkd;
using namespace std::chrono_literals;

namespace {

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

TEST_CASE("http client: a throwing callback is reported and costs the other requests nothing", "[daemon][http_client]")
{
    halo::test::CallbackRecording rec;
    test::EventLoop loop;
    auto http = HttpClient::create(loop.e);
    REQUIRE(http.ok());
    int answered = 0;
    for (int i = 0; i < 3; ++i) {
        REQUIRE((*http)
                    ->request(k_refused, {}, 2000ms,
                              [&answered](const HttpResponse&) {
                                  ++answered;
                                  throw std::runtime_error("owner failed");
                              })
                    .ok());
    }
    REQUIRE(loop.run_until([&] { return answered == 3; }, 5'000'000));
    CHECK((*http)->in_flight() == 0);
    REQUIRE(halo::test::CallbackRecording::reports().size() == 3);
    for (const auto& r : halo::test::CallbackRecording::reports()) CHECK(r == "http_client.done: owner failed");
}

TEST_CASE("http client: request headers go on the wire with the request", "[daemon][http_client]")
{
    // A listening socket of our own: what arrives on it is what curl sent.
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(listener >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener, 4) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    const std::string url = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/v1/chat/completions";

    test::EventLoop loop;
    auto http = HttpClient::create(loop.e);
    REQUIRE(http.ok());
    std::vector<HttpResponse> answers;
    REQUIRE((*http)
                ->request(url, R"({"a":1})", {"Authorization: Bearer sk-test-1", "X-Other: 2"}, 2000ms,
                          [&](const HttpResponse& r) { answers.push_back(r); })
                .ok());
    int conn = -1;
    std::string received;
    const bool got = loop.run_until(
        [&] {
            if (conn < 0) conn = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            char buffer[4096];
            ssize_t n = 0;
            while (conn >= 0 && (n = ::read(conn, buffer, sizeof buffer)) > 0)
                received.append(buffer, static_cast<std::size_t>(n));
            return received.find("\r\n\r\n{\"a\":1}") != std::string::npos;
        },
        5'000'000);
    const std::string reply = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
    if (conn >= 0) (void)!::write(conn, reply.data(), reply.size());
    REQUIRE(loop.run_until([&] { return !answers.empty(); }, 5'000'000));
    if (conn >= 0) ::close(conn);
    ::close(listener);
    REQUIRE(got);
    CHECK_THAT(received, Catch::StartsWith("POST /v1/chat/completions HTTP/1.1\r\n"));
    CHECK_THAT(received, Catch::Contains("\r\nAuthorization: Bearer sk-test-1\r\n"));
    CHECK_THAT(received, Catch::Contains("\r\nX-Other: 2\r\n"));
    CHECK_THAT(received, Catch::Contains("\r\nContent-Type: application/json\r\n"));
    CHECK(answers[0].status == 204);
    // The plain request sends none of them.
    CHECK((*http)->in_flight() == 0);
}
