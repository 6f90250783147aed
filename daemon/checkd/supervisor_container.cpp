// The Supervisor's part for an engine inside a container (toolbox run, podman exec, distrobox
// enter): the process it launches is only a client, and the engine is a process of the
// container (a child of a detached conmon) that nothing sent to the client reaches. The engine
// found listening on the port when it became ready is stopped with the client, through a pidfd,
// and a stop is complete only when both are gone (container_stop_complete, supervision.hpp).

#include "common/fd.hpp"
#include "daemon/checkd/callback_guard.hpp"
#include "daemon/checkd/pidfd.hpp"
#include "daemon/checkd/supervisor.hpp"
#include "probes/host.hpp"
#include "probes/port_owner.hpp"

#include <fmt/core.h>

#include <signal.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace halo::checkd {

void Supervisor::record_listener()
{
    forget_listener();
    if (!launches_in_container(m_config.command)) return;
    const int port = app::endpoint_from_command(m_config.command).port;
    auto listeners = probes::port_listeners(probes::Host("/"), port);
    std::optional<pid_t> pid =
        listeners ? container_engine_pid(*listeners, m_config.command, ::getpid()) : std::nullopt;
    if (pid) {
        Fd pidfd(open_process_fd(*pid));
        // Pinned now: ask again, so that the pidfd is the process that listens.
        auto again = probes::port_listeners(probes::Host("/"), port);
        if (pidfd.get() >= 0 && again && container_engine_pid(*again, m_config.command, ::getpid()) == pid) {
            m_listener_fd = std::move(pidfd);
            m_listener_pid = *pid;
            m_status.listener_pid = *pid;
            return;
        }
    }
    m_log.daemon(LOG_WARNING,
                 fmt::format("engine {}: found no process inside the container listening on port {} with the engine's "
                             "command{}; stopping the engine will stop only its launcher, and the engine may keep the "
                             "port; check the command's --port",
                             m_config.name, port, listeners ? "" : ": " + listeners.error().message));
}

void Supervisor::forget_listener()
{
    m_listener_source.reset();
    m_listener_fd.reset();
    m_listener_pid = 0;
    m_status.listener_pid = 0;
}

void Supervisor::signal_listener(int sig) noexcept
{
    if (m_listener_fd) signal_process_fd(m_listener_fd.get(), sig);
}

bool Supervisor::await_listener()
{
    if (!m_listener_fd || m_listener_source) return false;
    const bool running = !process_fd_exited(m_listener_fd.get());
    if (container_stop_complete(false, running)) {
        forget_listener();
        return false;
    }
    cancel_checks();
    if (m_after_exit == ExitPlan::classify) {
        // The launcher went without being asked; the engine it started would keep the port.
        m_log.daemon(LOG_WARNING,
                     fmt::format("engine {}: its launcher exited but the engine inside the container (pid {}) still "
                                 "runs; stopping it (SIGTERM, SIGKILL after {})",
                                 m_config.name, m_listener_pid, app::format_duration(m_config.stop_timeout)),
                     {{"HALO_ENGINE_PID", std::to_string(m_listener_pid)}});
        signal_listener(SIGTERM);
        arm_timer(m_kill_timer, std::chrono::duration_cast<std::chrono::microseconds>(m_config.stop_timeout),
                  &Supervisor::on_kill_timer);
    }
    sd_event_source* source = nullptr;
    const int r = sd_event_add_io(m_event, &source, m_listener_fd.get(), EPOLLIN, &Supervisor::on_listener_exit, this);
    if (r < 0) {
        m_log.daemon(LOG_WARNING,
                     fmt::format("engine {}: Failed to watch the engine inside the container (pid {}): {}; "
                                 "sent it SIGKILL and going on without waiting for it",
                                 m_config.name, m_listener_pid, std::strerror(-r)));
        signal_listener(SIGKILL);
        forget_listener();
        return false;
    }
    m_listener_source.reset(source);
    return true;
}

int Supervisor::on_listener_exit(sd_event_source*, int, uint32_t, void* userdata) noexcept
{
    auto* self = static_cast<Supervisor*>(userdata);
    return guard_callback(
        "supervisor.on_listener_exit", 0,
        [self] {
            const pid_t pid = self->m_listener_pid;
            self->forget_listener();
            self->m_log.daemon(
                LOG_INFO,
                fmt::format("engine {}: the engine inside the container (pid {}) is gone", self->m_config.name, pid),
                {{"HALO_ENGINE_PID", std::to_string(pid)}});
            if (self->m_deferred_exit) self->on_exit(*std::exchange(self->m_deferred_exit, std::nullopt));
        },
        [self](std::string_view what) { self->fail_internally("on_listener_exit", what); });
}

} // namespace halo::checkd
