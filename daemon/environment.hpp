#pragma once
// What the programs read from their process environment.

#include <optional>
#include <string>

namespace halo::app {

// The variable's value, or nullopt when it is unset or empty.
std::optional<std::string> env_value(const char* name);

} // namespace halo::app
