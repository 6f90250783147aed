#include "daemon/checkd/watchdog_pinger.hpp"

#include "tests/unit/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace halo;
using namespace halo::checkd;

TEST_CASE("the watchdog is pinged every eighth of its period, at least every millisecond", "[daemon][watchdog]")
{
    CHECK_FALSE(watchdog_ping_interval(0));
    CHECK(watchdog_ping_interval(2'000'000) == 250'000u);
    CHECK(watchdog_ping_interval(30'000'000) == 3'750'000u);
    CHECK(watchdog_ping_interval(4000) == 1000u);
}

namespace {

// A notify socket of our own in NOTIFY_SOCKET, and WATCHDOG_USEC as systemd sets it; both
// restored afterwards.
struct NotifySocket {
    explicit NotifySocket(const std::string& path, const char* watchdog_usec)
    {
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        REQUIRE(fd >= 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        REQUIRE(path.size() < sizeof addr.sun_path);
        std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        setenv("NOTIFY_SOCKET", path.c_str(), 1);
        if (watchdog_usec) setenv("WATCHDOG_USEC", watchdog_usec, 1);
        else unsetenv("WATCHDOG_USEC");
        unsetenv("WATCHDOG_PID");
    }
    ~NotifySocket()
    {
        unsetenv("NOTIFY_SOCKET");
        unsetenv("WATCHDOG_USEC");
        close(fd);
    }
    NotifySocket(const NotifySocket&) = delete;
    NotifySocket& operator=(const NotifySocket&) = delete;

    std::vector<std::string> received()
    {
        std::vector<std::string> out;
        char buf[256];
        for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) > 0;) out.emplace_back(buf, static_cast<std::size_t>(n));
        return out;
    }
    int fd = -1;
};

// Runs the loop until `want` datagrams came or 10 s passed; returns them all.
std::vector<std::string> run_until(sd_event* event, NotifySocket& sock, std::size_t want)
{
    std::vector<std::string> got;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
        REQUIRE(sd_event_run(event, 5'000) >= 0);
        for (std::string& m : sock.received()) got.push_back(std::move(m));
    }
    return got;
}

} // namespace

TEST_CASE("a watchdog asked for is pinged from the loop with WATCHDOG=1, again and again", "[daemon][watchdog]")
{
    test::TempDir dir("halo-watchdog");
    NotifySocket sock((dir.path / "notify").string(), "80000");
    sd_event* raw = nullptr;
    REQUIRE(sd_event_new(&raw) >= 0);
    SdEvent event(raw);
    auto pinger = WatchdogPinger::start(event.get());
    REQUIRE(pinger);
    const auto got = run_until(event.get(), sock, 4);
    REQUIRE(got.size() >= 4);
    for (const std::string& m : got) CHECK(m == "WATCHDOG=1");
}

TEST_CASE("without a watchdog nothing is sent", "[daemon][watchdog]")
{
    test::TempDir dir("halo-watchdog");
    NotifySocket sock((dir.path / "notify").string(), nullptr);
    sd_event* raw = nullptr;
    REQUIRE(sd_event_new(&raw) >= 0);
    SdEvent event(raw);
    auto pinger = WatchdogPinger::start(event.get());
    REQUIRE(pinger);
    for (int i = 0; i < 5; ++i) REQUIRE(sd_event_run(event.get(), 10'000) >= 0);
    CHECK(sock.received().empty());
}
