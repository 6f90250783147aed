#include "daemon/environment.hpp"

#include <cstdlib>

namespace halo::daemon {

std::optional<std::string> env_value(const char* name)
{
    const char* v = std::getenv(name);
    return v && *v ? std::optional<std::string>(v) : std::nullopt;
}

std::string rfc3339_utc(std::time_t t)
{
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buffer[32];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buffer;
}

std::string now_rfc3339()
{
    return rfc3339_utc(std::time(nullptr));
}

} // namespace halo::daemon
