#include "daemon/checkd/callback_log.hpp"

#include "daemon/checkd/callback_guard.hpp"
#include "daemon/checkd/log_sink.hpp"
#include "watch_test_support.hpp"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

using namespace halo::checkd;
using halo::test::read_text;
using halo::test::TempDir;

namespace {

int throwing_callback() noexcept
{
    return guard_callback("manager.on_signal", -1, []() -> int { throw std::runtime_error("state file full"); });
}

} // namespace

TEST_CASE("caught callback errors go to the daemon's log while it is installed", "[daemon][callback]")
{
    TempDir dir;
    const std::string export_path = (dir.path() / "export").string();
    LogSink sink(export_path);
    {
        CallbackErrorsToLog installed(sink);
        CHECK(throwing_callback() == -1);
    }
    const std::string exported = read_text(export_path);
    CHECK(exported.find("MESSAGE=manager.on_signal failed: state file full\n") != std::string::npos);
    CHECK(exported.find("PRIORITY=3\n") != std::string::npos);
    CHECK(exported.find("HALO_CALLBACK=manager.on_signal\n") != std::string::npos);
    CHECK(exported.find("SYSLOG_IDENTIFIER=halo-checkd\n") != std::string::npos);

    // Uninstalled: the sink may be gone, so later reports must not reach it.
    CHECK(throwing_callback() == -1);
    CHECK(read_text(export_path) == exported);
}
