#pragma once
// The clocks the programs read: wall-clock time as RFC 3339 text (state file, facts, journal)
// and CLOCK_MONOTONIC/CLOCK_REALTIME in microseconds (the sd-event and journal unit).

#include <time.h>

#include <cstdint>
#include <ctime>
#include <string>

namespace halo {

enum class TimePrecision { seconds, milliseconds };

// "2026-11-27T10:00:00Z" (seconds) or "2026-11-27T10:00:00.123Z" (milliseconds): UTC.
std::string rfc3339_utc(const timespec& t, TimePrecision precision = TimePrecision::seconds);
std::string rfc3339_utc(std::time_t t);
std::string now_rfc3339(TimePrecision precision = TimePrecision::seconds);

// The clock's value in microseconds.
std::uint64_t clock_usec(clockid_t clock) noexcept;

} // namespace halo
