#pragma once
// Starting the engine's process and signalling it. The command runs without a shell in a process
// group of its own (so helpers it starts, a toolbox's podman among them, go with it), with
// PR_SET_PDEATHSIG so it does not outlive the daemon, stdin on /dev/null and stdout and stderr
// into one pipe the supervisor reads. Its environment is the daemon's without what belongs to
// our own unit (the notify socket, the watchdog, socket activation), plus the configured
// overrides.

#include "common/fd.hpp"
#include "common/result.hpp"

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

namespace halo::checkd {

// `environ_list` is environ-like (NAME=value strings, null-terminated; null for none). Drops
// NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID, LISTEN_FDS, LISTEN_PID and every name `overrides`
// sets, keeps the rest in order and appends the overrides as NAME=value.
std::vector<std::string> engine_environment(const char* const* environ_list,
                                            const std::map<std::string, std::string>& overrides);

struct EngineProcess {
    pid_t pid = 0;      // also the process group's id
    Fd output;          // the read end of the pipe on its stdout and stderr, close-on-exec
    int exec_errno = 0; // why the child could not execute the command; 0 when it did
};

// Forks and executes `command` (argv[0] looked up in PATH) with `environment`. A command that
// cannot be executed still starts: the child prints why and exits 127 (not found) or 126, which
// the supervisor sees as an exit; `exec_errno` says exactly why, so that a wrapper's own 127
// ("toolbox run" not finding the engine in the container) is told apart from ours. Returns once
// the child has executed the command or failed to. Fails only when a pipe or the fork cannot be
// made.
Result<EngineProcess> spawn_engine(const std::vector<std::string>& command,
                                   const std::vector<std::string>& environment);

// `sig` to the engine's process group, or to the process alone when the group is gone.
void signal_engine(pid_t pid, int sig) noexcept;

} // namespace halo::checkd
