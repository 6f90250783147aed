#pragma once
// What the front ends read from their process: environment variables and the wall clock.

#include <ctime>
#include <optional>
#include <string>

namespace halo::daemon {

// The variable's value, or nullopt when it is unset or empty.
std::optional<std::string> env_value(const char* name);

// "2026-11-27T10:00:00Z": UTC, RFC 3339, whole seconds.
std::string rfc3339_utc(std::time_t t);
std::string now_rfc3339();

} // namespace halo::daemon
