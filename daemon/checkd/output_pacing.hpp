#pragma once
// When the engine's new output lines reach state.json (output_tail): the state file is written on
// every state change, and new output alone writes it at most once per interval, so a chatty
// engine costs one write (and fsync) a second, and a line printed after ready is there within it.

#include <chrono>
#include <optional>

namespace halo::checkd {

using PacingClock = std::chrono::steady_clock;

// How long to wait before writing the state file for new output: zero when the last write is
// `interval` or longer ago (or there was none), else the rest of the interval.
PacingClock::duration output_write_delay(std::optional<PacingClock::time_point> last_write, PacingClock::time_point now,
                                         PacingClock::duration interval);

} // namespace halo::checkd
