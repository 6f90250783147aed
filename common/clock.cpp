#include "common/clock.hpp"

#include <fmt/core.h>

namespace halo {

std::string rfc3339_utc(const timespec& t, TimePrecision precision)
{
    std::tm tm{};
    gmtime_r(&t.tv_sec, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &tm);
    if (precision == TimePrecision::milliseconds) return fmt::format("{}.{:03}Z", buffer, t.tv_nsec / 1'000'000);
    return fmt::format("{}Z", buffer);
}

std::string rfc3339_utc(std::time_t t) { return rfc3339_utc(timespec{t, 0}); }

std::string now_rfc3339(TimePrecision precision)
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return rfc3339_utc(ts, precision);
}

std::uint64_t clock_usec(clockid_t clock) noexcept
{
    timespec ts{};
    clock_gettime(clock, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

} // namespace halo
