#pragma once
// halo-checkd's end of the control channel: a Unix stream socket in the state directory
// (<state dir>/control.sock), created at start-up. Each connection carries one request
// (common/control_message.hpp). The kernel says who is on the other end (SO_PEERCRED), so no
// file and no pid has to be trusted: root and the daemon's own user are served, anyone else is
// refused. The manager answers; a connection stays open until its outcome is known, the client
// hangs up, or the daemon exits.

#include "common/control_message.hpp"
#include "common/fd.hpp"
#include "common/result.hpp"
#include "daemon/checkd/sd_handles.hpp"

#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace halo::checkd {

class LogSink;

// Who may ask: root, and the user the daemon runs as. Pure, for the unit tests.
bool control_peer_trusted(uid_t peer, uid_t daemon_user) noexcept;

class ControlServer {
public:
    using OnRequest = std::function<void(std::uint64_t id, ControlVerb verb, const ucred& peer)>;

    // Binds `path` (a stale socket from an earlier daemon is replaced: the caller holds the
    // state directory's lock) with mode 0600.
    static Result<std::unique_ptr<ControlServer>> create(sd_event* event, std::string path, LogSink& log,
                                                         OnRequest on_request);
    ~ControlServer();
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // Sends one line to connection `id`; `last` closes it. False when it is gone (hung up).
    bool reply(std::uint64_t id, const ControlReply& reply, bool last);
    bool connected(std::uint64_t id) const { return m_connections.count(id) != 0; }
    const std::string& path() const { return m_path; }

private:
    struct Connection {
        Fd fd;
        SdEventSource source;
        std::string received;
        ucred peer{};
        bool requested = false;
    };
    ControlServer(sd_event* event, std::string path, LogSink& log, OnRequest on_request, Fd listener);
    void accept_one();
    void readable(std::uint64_t id, std::uint32_t events);
    void close(std::uint64_t id);
    static int on_listener(sd_event_source* s, int fd, std::uint32_t events, void* userdata) noexcept;
    static int on_connection(sd_event_source* s, int fd, std::uint32_t events, void* userdata) noexcept;

    sd_event* m_event;
    std::string m_path;
    LogSink& m_log;
    OnRequest m_on_request;
    Fd m_listener;
    SdEventSource m_listener_source;
    std::uint64_t m_next_id = 1;
    std::map<std::uint64_t, std::unique_ptr<Connection>> m_connections;
};

} // namespace halo::checkd
