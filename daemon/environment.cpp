#include "daemon/environment.hpp"

#include <cstdlib>

namespace halo::app {

std::optional<std::string> env_value(const char* name)
{
    const char* v = std::getenv(name);
    return v && *v ? std::optional<std::string>(v) : std::nullopt;
}

} // namespace halo::app
