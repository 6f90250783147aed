#pragma once
// Starting the engine's process and signalling it. The command runs without a shell in a process
// group of its own (so helpers it starts, a toolbox's podman among them, go with it), with
// PR_SET_PDEATHSIG so it does not outlive the daemon, stdin on /dev/null and stdout and stderr
// into one pipe the supervisor reads, and no other descriptor of ours. Its environment is the
// daemon's without what belongs to our own unit (the notify socket, the watchdog, socket
// activation), plus the configured overrides; the program is found in that environment's PATH.

#include "common/fd.hpp"
#include "common/result.hpp"

#include <sys/types.h>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace halo::checkd {

// What systemd gives our unit, never the engine, whatever [engine.env] says: the notify socket
// and the watchdog (an engine that wrote READY=1 or WATCHDOG=1 there would speak for us), socket
// activation (the fds are ours and closed before the exec), our pid (SYSTEMD_EXEC_PID), and the
// unit's memory-pressure file.
inline constexpr std::string_view k_unit_variables[] = {
    "NOTIFY_SOCKET",  "WATCHDOG_USEC",    "WATCHDOG_PID",          "LISTEN_FDS",           "LISTEN_PID",
    "LISTEN_FDNAMES", "SYSTEMD_EXEC_PID", "MEMORY_PRESSURE_WATCH", "MEMORY_PRESSURE_WRITE"};
bool is_unit_variable(std::string_view name) noexcept;

// The names in `overrides` that engine_environment() drops, for the one warning at config load.
std::vector<std::string> ignored_overrides(const std::map<std::string, std::string>& overrides);

// `environ_list` is environ-like (NAME=value strings, null-terminated; null for none). Drops the
// unit's variables (k_unit_variables) and every name `overrides` sets, keeps the rest in order and
// appends the overrides as NAME=value, except the unit's variables.
std::vector<std::string> engine_environment(const char* const* environ_list,
                                            const std::map<std::string, std::string>& overrides);

// The path execvp(3) would run for `name`, searched in `environment`'s PATH (glibc's
// "/bin:/usr/bin" when it has none) rather than the daemon's; a name with a '/' is returned as it
// is. An error (errno ENOENT, or EACCES when only a non-executable file is there) says why.
Result<std::string> resolve_engine_program(const std::string& name, const std::vector<std::string>& environment);

struct EngineProcess {
    pid_t pid = 0;      // also the process group's id
    Fd output;          // the read end of the pipe on its stdout and stderr, close-on-exec
    int exec_errno = 0; // why the child could not execute the command; 0 when it did
};

// Forks and executes `command` (argv[0] looked up in `environment`'s PATH) with `environment`. A command that
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
