#pragma once
// One halo-checkd per state directory: a second one would take over state.json and the control
// socket while the first one's engine keeps serving, out of anyone's reach. The lock is an
// flock on <state dir>/lock, held by the returned descriptor for the daemon's lifetime; the
// kernel drops it when the process ends, however it ends, so no stale lock needs clearing.

#include "common/fd.hpp"
#include "common/result.hpp"

#include <string>

namespace halo::checkd {

// The lock, or an Error saying who holds it (the pid the holder wrote) and what to do.
Result<Fd> lock_state_dir(const std::string& lock_path);

} // namespace halo::checkd
