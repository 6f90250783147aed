#include "daemon/checkd/log_event_news.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace halo;
using namespace halo::checkd;

namespace {

LogEvent mes_hang()
{
    LogEvent e;
    e.pattern_id = "log.mes-hang-firmware-20251125";
    e.severity = rules::Severity::broken;
    e.title = "MES firmware hang";
    e.fix = "Install linux-firmware 20251206 or later";
    e.first_line = "amdgpu 0000:c2:00.0: amdgpu: MES failed to respond";
    e.count = 1;
    e.first_usec = 1'768'209'243'000'000; // 2026-01-12T09:14:03Z
    e.last_usec = 1'768'209'244'500'000;
    e.source = LogOrigin::kernel;
    e.attributed = true;
    e.gpu_reset = true;
    return e;
}

} // namespace

TEST_CASE("a GPU reset gets its own notification, other log events the generic one", "[daemon][log_event]")
{
    LogEvent e = mes_hang();
    CHECK(log_event_notification(e) == NotificationKind::gpu_reset);
    CHECK(gpu_reset_reason(e) == "GPU reset in the kernel log: MES firmware hang");
    e.gpu_reset = false;
    CHECK(log_event_notification(e) == NotificationKind::log_event);
}

TEST_CASE("a log event's notification names the pattern, the lines of a burst, the fix and the severity",
          "[daemon][log_event]")
{
    LogEvent e = mes_hang();
    NotificationInput one;
    describe_log_event(one, e);
    CHECK(one.detail == "MES firmware hang");
    CHECK(one.fix == "Install linux-firmware 20251206 or later");
    CHECK(one.event_severity == rules::Severity::broken);

    e.count = 500;
    e.severity = rules::Severity::warning;
    NotificationInput burst;
    describe_log_event(burst, e);
    CHECK(burst.detail == "MES firmware hang (500 lines)");
    CHECK(burst.event_severity == rules::Severity::warning);
}

TEST_CASE("a log event in state.json, and only the latest ones kept", "[daemon][log_event]")
{
    CHECK(log_event_json(mes_hang()).dump() ==
          R"({"pattern":"log.mes-hang-firmware-20251125","severity":"broken","title":"MES firmware hang","count":1,)"
          R"("first":"2026-01-12T09:14:03Z","last":"2026-01-12T09:14:04Z","source":"kernel","attributed":true,)"
          R"("gpu_reset":true,"line":"amdgpu 0000:c2:00.0: amdgpu: MES failed to respond"})");

    RecentLogEvents recent;
    CHECK(recent.json() == nlohmann::ordered_json::array());
    for (std::uint64_t i = 1; i <= k_log_events_kept + 5; ++i) {
        LogEvent e = mes_hang();
        e.count = i;
        recent.add(e);
    }
    const nlohmann::ordered_json j = recent.json();
    REQUIRE(j.size() == k_log_events_kept);
    CHECK(j.front()["count"] == 6); // oldest first
    CHECK(j.back()["count"] == k_log_events_kept + 5);
}
