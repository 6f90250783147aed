#pragma once
// `halo-checkd --stop-leftover`: what the unit's ExecStopPost runs. A daemon killed with -9 (or
// one whose engine runs inside a container, where no KillMode reaches it) can leave the engine
// running with the port bound; this finds it exactly as a starting daemon does (a listener on
// the engine's port running the engine's command or its inner part, is_leftover_engine) and
// stops it: SIGTERM through a pidfd, SIGKILL after stop_timeout. Reports, never logs.

#include "common/result.hpp"
#include "daemon/config.hpp"

#include <sys/types.h>

#include <vector>

namespace halo::checkd {

struct StoppedLeftover {
    pid_t pid = 0;
    bool killed = false; // it outlived stop_timeout and got SIGKILL
};

// The leftovers stopped (none: nothing of ours was on the port). An error when the port's
// listeners cannot be read, or a leftover could not be signalled or outlived its SIGKILL.
Result<std::vector<StoppedLeftover>> stop_leftover_engines(const app::EngineConfig& config);

} // namespace halo::checkd
