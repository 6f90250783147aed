#pragma once
// Where halo-check's configuration lives when no --config names it. One answer for the engine
// probe and for both programs, through the Host it is given: this machine in the programs (the
// configuration is never the --root machine's), a scratch tree with its own environment in tests.

#include "probes/host.hpp"

#include <string>

namespace halo::probes {

// $XDG_CONFIG_HOME/halo-check/config.toml (without $XDG_CONFIG_HOME: ~/.config/…) when that file
// exists, else /etc/halo-check/config.toml, which may not exist either: the caller decides
// whether a missing file is an error (the daemon) or means "nothing configured" (the probe).
// Paths are as the host sees them (absolute, not under its root prefix).
std::string default_config_path(const Host& host);

} // namespace halo::probes
