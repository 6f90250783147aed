#include "daemon/checkd/output_pacing.hpp"

namespace halo::checkd {

PacingClock::duration output_write_delay(std::optional<PacingClock::time_point> last_write, PacingClock::time_point now,
                                         PacingClock::duration interval)
{
    if (!last_write) return PacingClock::duration::zero();
    const PacingClock::duration since = now - *last_write;
    // A clock that went back (it does not, for steady_clock) must not stall the writes.
    if (since >= interval || since < PacingClock::duration::zero()) return PacingClock::duration::zero();
    return interval - since;
}

} // namespace halo::checkd
