#pragma once
// WATCHDOG=1 from the event loop on a timer of our own, every eighth of the watchdog period.
// sd_event_set_watchdog() pings at a random point between half and three quarters of the period,
// so its pings alone are 1-1.5 s apart under a 2 s watchdog: a gap between pings could not tell a
// loop that stalled for 400 ms from one that never did. At an eighth, any gap longer than a
// quarter of the period means the loop was held up (bench/README-reprobe.md measures it).

#include "common/result.hpp"
#include "daemon/checkd/sd_handles.hpp"

#include <cstdint>
#include <memory>
#include <optional>

namespace halo::checkd {

// The interval between pings for a watchdog period (microseconds); none when there is no
// watchdog. At least 1 ms, so a tiny period does not spin the loop.
std::optional<std::uint64_t> watchdog_ping_interval(std::uint64_t period_usec);

class WatchdogPinger {
public:
    // Pings when the service manager asked for a watchdog (WATCHDOG_USEC for this pid); without
    // one, does nothing. A timer the loop refuses is an error (Result's message says so).
    static Result<std::unique_ptr<WatchdogPinger>> start(sd_event* event);

private:
    explicit WatchdogPinger(std::uint64_t interval) : m_interval(interval) {}
    static int on_timer(sd_event_source* s, uint64_t usec, void* userdata) noexcept;

    std::uint64_t m_interval;
    SdEventSource m_timer;
};

} // namespace halo::checkd
