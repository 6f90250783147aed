// The Notifier's failure paths and the gate in front of it. The real notification server
// (dbus-daemon + Xvfb + dunst) is driven by tests/integration/notify_dunst.sh.

#include "daemon/checkd/notifier.hpp"
#include "tests/unit/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

using namespace halo::checkd;
namespace fs = std::filesystem;

namespace {

// Sets or unsets environment variables for one scope, restoring them after.
class EnvGuard {
public:
    void set(const char* name, const char* value)
    {
        const char* old = std::getenv(name);
        m_saved.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
        if (value) ::setenv(name, value, 1);
        else ::unsetenv(name);
    }
    ~EnvGuard()
    {
        for (auto it = m_saved.rbegin(); it != m_saved.rend(); ++it) {
            if (it->second) ::setenv(it->first.c_str(), it->second->c_str(), 1);
            else ::unsetenv(it->first.c_str());
        }
    }

private:
    std::vector<std::pair<std::string, std::optional<std::string>>> m_saved;
};

using halo::test::TempDir;

Notification broken_notification()
{
    Notification n;
    n.topic = "verdict.now";
    n.summary = "ROCm engine broken";
    n.body = "Fix: something";
    n.urgency = Urgency::critical;
    n.severity = halo::rules::Severity::broken;
    return n;
}

} // namespace

TEST_CASE("no session bus: a clear error, no crash", "[daemon][notifier]")
{
    EnvGuard env;
    env.set("DBUS_SESSION_BUS_ADDRESS", nullptr);
    env.set("XDG_RUNTIME_DIR", nullptr);
    auto n = Notifier::connect_session();
    REQUIRE_FALSE(n.ok());
    CHECK(n.error().errno_value == ENOMEDIUM);
    CHECK_THAT(n.error().message, Catch::Contains("No desktop session bus") && Catch::Contains("journal only"));
}

TEST_CASE("a bus address that leads nowhere: an error naming it", "[daemon][notifier]")
{
    TempDir dir;
    const std::string address = "unix:path=" + (dir.path / "no-bus").string();
    auto n = Notifier::connect_address(address);
    REQUIRE_FALSE(n.ok());
    CHECK_THAT(n.error().message, Catch::Contains("'" + address + "'"));

    EnvGuard env;
    env.set("DBUS_SESSION_BUS_ADDRESS", address.c_str());
    auto session = Notifier::connect_session();
    if (session.ok()) {
        // sd-bus may connect lazily: then the first call is the one that fails.
        auto id = session->notify(broken_notification());
        REQUIRE_FALSE(id.ok());
        CHECK_FALSE(id.error().message.empty());
    } else {
        CHECK_THAT(session.error().message, Catch::Contains(address));
    }
}

TEST_CASE("the gate reports an unavailable desktop once, retries on later events, and says when it is back",
          "[daemon][notifier]")
{
    int attempts = 0;
    auto failing = [&attempts]() -> halo::Result<Notifier> {
        ++attempts;
        return halo::Error{"No desktop session bus: test", ENOMEDIUM};
    };
    DesktopNotifier gate({true, halo::rules::Severity::warning}, failing, std::chrono::seconds(0));
    auto first = gate.send(broken_notification());
    CHECK(first.kind == DesktopNotifier::Outcome::Kind::unavailable);
    REQUIRE(first.log);
    CHECK_THAT(*first.log,
               Catch::Contains("No desktop session bus: test") && Catch::Contains("next event tries again"));
    for (int i = 0; i < 50; ++i) {
        auto again = gate.send(broken_notification());
        CHECK(again.kind == DesktopNotifier::Outcome::Kind::unavailable);
        CHECK_FALSE(again.log); // one log line, not fifty
    }
    CHECK(attempts == 51);
    CHECK_FALSE(gate.available());

    Notification info = broken_notification();
    info.topic = "engine";
    info.severity = halo::rules::Severity::info;
    CHECK(gate.send(info).kind == DesktopNotifier::Outcome::Kind::filtered); // below warning: not even a connect
    CHECK(attempts == 51);

    gate.set_policy({false, halo::rules::Severity::info});
    CHECK(gate.send(broken_notification()).kind == DesktopNotifier::Outcome::Kind::filtered);
    CHECK(attempts == 51);
}

TEST_CASE("the gate's line for a missing session bus says 'journal only' once", "[daemon][notifier]")
{
    EnvGuard env;
    env.set("DBUS_SESSION_BUS_ADDRESS", nullptr);
    env.set("XDG_RUNTIME_DIR", nullptr);
    DesktopNotifier gate({true, halo::rules::Severity::warning}, &Notifier::connect_session, std::chrono::seconds(0));
    auto first = gate.send(broken_notification());
    REQUIRE(first.log);
    auto count = [](const std::string& text, const std::string& what) {
        std::size_t n = 0;
        for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
        return n;
    };
    CHECK(count(*first.log, "journal only") == 1);
    CHECK_THAT(*first.log, Catch::StartsWith("Desktop notifications are unavailable: No desktop session bus:") &&
                               Catch::EndsWith("; the next event tries again"));

    CHECK(unavailable_log("Failed to connect to the session bus: Connection refused") ==
          "Desktop notifications are unavailable: Failed to connect to the session bus: Connection refused; events go "
          "to the journal only, and the next event tries again");
}

TEST_CASE("the gate does not reconnect more often than its retry interval", "[daemon][notifier]")
{
    int attempts = 0;
    DesktopNotifier gate(
        {true, halo::rules::Severity::info},
        [&attempts]() -> halo::Result<Notifier> {
            ++attempts;
            return halo::Error{"down", ECONNREFUSED};
        },
        std::chrono::hours(1));
    for (int i = 0; i < 10; ++i)
        CHECK(gate.send(broken_notification()).kind == DesktopNotifier::Outcome::Kind::unavailable);
    CHECK(attempts == 1);
}

TEST_CASE("sd-login: no logind here is an empty list, not an error", "[daemon][notifier]")
{
    TempDir dir;
    auto buses = find_session_buses(dir.path.string());
    REQUIRE(buses.ok());
    for (const SessionBus& b : *buses) { // on a desktop machine: each one has a socket under the root
        CHECK_THAT(b.address, Catch::StartsWith("unix:path=" + dir.path.string()));
        CHECK(is_graphical_session_type(b.session_type));
    }
    CHECK(is_graphical_session_type("wayland"));
    CHECK(is_graphical_session_type("x11"));
    CHECK_FALSE(is_graphical_session_type("tty"));
    CHECK_FALSE(is_graphical_session_type(""));
}

TEST_CASE("open_details runs xdg-open with the path, unblocked signals and no terminal", "[daemon][notifier]")
{
    TempDir dir;
    const fs::path record = dir.path / "record";
    {
        std::ofstream script(dir.path / "xdg-open");
        script << "#!/bin/sh\n"
               << "{ printf '%s\\n' \"$#\" \"$1\"; grep '^SigIgn' /proc/self/status; ps -o tty= -p $$; } > '"
               << record.string() << "'\n";
    }
    fs::permissions(dir.path / "xdg-open", fs::perms::owner_all);
    EnvGuard env;
    env.set("PATH", (dir.path.string() + ":/usr/bin:/bin").c_str());

    // The daemon blocks SIGCHLD for sd-event and may ignore SIGPIPE; the opener gets neither.
    // (The blocked mask is also reset, but every shell resets it anyway, so only the ignored
    // set, which a shell must keep, is visible to a script.)
    sigset_t block;
    sigset_t old;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    REQUIRE(pthread_sigmask(SIG_BLOCK, &block, &old) == 0);
    struct sigaction ignore {};
    struct sigaction previous {};
    ignore.sa_handler = SIG_IGN;
    REQUIRE(::sigaction(SIGPIPE, &ignore, &previous) == 0);
    auto pid = open_details("/state/report with spaces.txt");
    ::sigaction(SIGPIPE, &previous, nullptr);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    REQUIRE(pid.ok());
    int status = 0;
    REQUIRE(::waitpid(*pid, &status, 0) == *pid);
    CHECK(WIFEXITED(status));
    std::ifstream in(record);
    std::string count, path, sigign;
    std::getline(in, count);
    std::getline(in, path);
    std::getline(in, sigign);
    CHECK(count == "1");
    CHECK(path == "/state/report with spaces.txt");
    REQUIRE_THAT(sigign, Catch::StartsWith("SigIgn:\t"));
    const unsigned long long ignored = std::stoull(sigign.substr(8), nullptr, 16);
    CHECK((ignored & (1ULL << (SIGPIPE - 1))) == 0);

    env.set("PATH", dir.path.string().c_str());
    fs::remove(dir.path / "xdg-open");
    auto missing = open_details("/x");
    REQUIRE_FALSE(missing.ok());
    CHECK_THAT(missing.error().message, Catch::Contains("xdg-open"));
}
