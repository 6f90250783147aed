#include "probes/config_path.hpp"

namespace halo::probes {

std::string default_config_path(const Host& host)
{
    // The XDG base directory spec treats an empty variable as unset.
    std::string base;
    if (auto xdg = host.env("XDG_CONFIG_HOME"); xdg && !xdg->empty()) base = *xdg;
    else if (auto home = host.env("HOME"); home && !home->empty()) base = *home + "/.config";
    if (!base.empty()) {
        std::string user = base + "/halo-check/config.toml";
        if (host.exists(user)) return user;
    }
    return "/etc/halo-check/config.toml";
}

} // namespace halo::probes
