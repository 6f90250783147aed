#include "daemon/checkd/leftover_stop.hpp"

#include "common/fd.hpp"
#include "daemon/checkd/pidfd.hpp"
#include "daemon/checkd/supervision.hpp"
#include "probes/host.hpp"
#include "probes/port_owner.hpp"

#include <fmt/core.h>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>

namespace halo::checkd {

namespace {

// After SIGKILL only the kernel's teardown is left; this bounds a wait that should be short.
constexpr int k_after_kill_ms = 5000;

} // namespace

Result<std::vector<StoppedLeftover>> stop_leftover_engines(const app::EngineConfig& config)
{
    std::vector<StoppedLeftover> stopped;
    if (config.command.empty()) return stopped;
    const int port = app::endpoint_from_command(config.command).port;
    auto listeners = probes::port_listeners(probes::Host("/"), port);
    if (!listeners) {
        return Error{fmt::format("{}; could not look for a leftover engine on port {}; run as the engine's user (or "
                                 "root) with /proc mounted",
                                 listeners.error().message, port)};
    }
    for (const probes::PortListener& l : *listeners) {
        if (!is_leftover_engine(l, config.command, ::getpid())) continue;
        Fd pidfd(open_process_fd(l.pid));
        if (pidfd.get() < 0) continue; // gone since the look-up
        // The pid may have been reused between the look-up and the pidfd: ask again, now pinned.
        auto again = probes::port_listeners(probes::Host("/"), port);
        const bool same = again && std::any_of(again->begin(), again->end(), [&](const probes::PortListener& a) {
                              return a.pid == l.pid && a.argv == l.argv;
                          });
        if (!same) continue;
        if (signal_process_fd(pidfd.get(), SIGTERM) < 0) {
            return Error{fmt::format("Failed to send SIGTERM to the leftover engine on port {} ({}): {}; it keeps the "
                                     "port; stop it by hand",
                                     port, probes::describe_listener(l), std::strerror(errno)),
                         errno};
        }
        const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.stop_timeout);
        StoppedLeftover s{l.pid, false};
        if (!process_fd_exited(pidfd.get(), static_cast<int>(std::max<std::int64_t>(timeout.count(), 0)))) {
            s.killed = true;
            signal_process_fd(pidfd.get(), SIGKILL);
            if (!process_fd_exited(pidfd.get(), k_after_kill_ms)) {
                return Error{fmt::format("the leftover engine on port {} ({}) is still there {} ms after SIGKILL; it "
                                         "keeps the port; look at its state in /proc/{}/status",
                                         port, probes::describe_listener(l), k_after_kill_ms, l.pid)};
            }
        }
        stopped.push_back(s);
    }
    return stopped;
}

} // namespace halo::checkd
