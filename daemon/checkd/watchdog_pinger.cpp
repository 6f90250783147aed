#include "daemon/checkd/watchdog_pinger.hpp"

#include <fmt/core.h>
#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cstring>

namespace halo::checkd {

std::optional<std::uint64_t> watchdog_ping_interval(std::uint64_t period_usec)
{
    if (period_usec == 0) return std::nullopt;
    return std::max<std::uint64_t>(period_usec / 8, 1000);
}

Result<std::unique_ptr<WatchdogPinger>> WatchdogPinger::start(sd_event* event)
{
    std::uint64_t period = 0;
    // 0: WATCHDOG_USEC and WATCHDOG_PID stay in the environment; the engine's is scrubbed apart.
    const int enabled = sd_watchdog_enabled(0, &period);
    auto interval = enabled > 0 ? watchdog_ping_interval(period) : std::nullopt;
    std::unique_ptr<WatchdogPinger> pinger(new WatchdogPinger(interval.value_or(0)));
    if (!interval) return pinger;
    sd_event_source* s = nullptr;
    const int r = sd_event_add_time_relative(event, &s, CLOCK_MONOTONIC, 0, 0, &WatchdogPinger::on_timer, pinger.get());
    if (r < 0) {
        return Error{fmt::format("Failed to add the watchdog timer to the event loop: {}; systemd would restart "
                                 "halo-checkd for missed pings",
                                 std::strerror(-r))};
    }
    pinger->m_timer.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_ON);
    return pinger;
}

int WatchdogPinger::on_timer(sd_event_source* s, uint64_t usec, void* userdata) noexcept
{
    // C calls only: nothing here can throw.
    const auto* self = static_cast<const WatchdogPinger*>(userdata);
    sd_notify(0, "WATCHDOG=1");
    return sd_event_source_set_time(s, usec + self->m_interval);
}

} // namespace halo::checkd
