#include "daemon/checkd/control_server.hpp"

#include "daemon/checkd/callback_guard.hpp"
#include "daemon/checkd/log_sink.hpp"

#include <fmt/core.h>

#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace halo::checkd {

namespace {

// More clients than this at once is not an admin at a terminal; the rest wait in the backlog.
constexpr std::size_t kMaxConnections = 16;

} // namespace

bool control_peer_trusted(uid_t peer, uid_t daemon_user) noexcept { return peer == 0 || peer == daemon_user; }

Result<std::unique_ptr<ControlServer>> ControlServer::create(sd_event* event, std::string path, LogSink& log,
                                                             OnRequest on_request)
{
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof(addr.sun_path)) {
        return Error{fmt::format("Failed to create the control socket '{}': the path is longer than {} bytes; pass a "
                                 "shorter --state-dir",
                                 path, sizeof(addr.sun_path) - 1)};
    }
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (!fd) return Error{fmt::format("Failed to create the control socket: {}", std::strerror(errno)), errno};
    // An earlier daemon's socket: nobody serves it, since we hold the state directory's lock.
    if (::unlink(path.c_str()) < 0 && errno != ENOENT) {
        return Error{fmt::format("Failed to replace the control socket '{}': {}", path, std::strerror(errno)), errno};
    }
    // Mode 0600 from the start (umask is per process; nothing else runs yet): root may connect
    // anyway, other users never.
    const mode_t old_umask = ::umask(0177);
    const int bound = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    const int bind_errno = errno;
    ::umask(old_umask);
    if (bound < 0) {
        return Error{fmt::format("Failed to bind the control socket '{}': {}", path, std::strerror(bind_errno)),
                     bind_errno};
    }
    if (::listen(fd.get(), 16) < 0) {
        return Error{fmt::format("Failed to listen on the control socket '{}': {}", path, std::strerror(errno)), errno};
    }
    std::unique_ptr<ControlServer> server(
        new ControlServer(event, std::move(path), log, std::move(on_request), std::move(fd)));
    sd_event_source* s = nullptr;
    const int r =
        sd_event_add_io(event, &s, server->m_listener.get(), EPOLLIN, &ControlServer::on_listener, server.get());
    if (r < 0) return Error{fmt::format("Failed to watch the control socket: {}", std::strerror(-r)), -r};
    server->m_listener_source.reset(s);
    return server;
}

ControlServer::ControlServer(sd_event* event, std::string path, LogSink& log, OnRequest on_request, Fd listener)
    : m_event(event), m_path(std::move(path)), m_log(log), m_on_request(std::move(on_request)),
      m_listener(std::move(listener))
{}

ControlServer::~ControlServer()
{
    m_connections.clear();
    m_listener_source.reset();
    // The file goes with the daemon, so a client finds nobody rather than a dead socket.
    ::unlink(m_path.c_str());
}

int ControlServer::on_listener(sd_event_source*, int, std::uint32_t, void* userdata) noexcept
{
    auto* self = static_cast<ControlServer*>(userdata);
    return guard_callback("control_server.on_listener", 0, [&] {
        self->accept_one();
        return 0;
    });
}

void ControlServer::accept_one()
{
    Fd fd(::accept4(m_listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!fd) return; // EAGAIN, or a client that gave up already
    if (m_connections.size() >= kMaxConnections) return;
    ucred peer{};
    socklen_t len = sizeof(peer);
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &peer, &len) < 0) return;
    if (!control_peer_trusted(peer.uid, ::geteuid())) {
        m_log.daemon(LOG_WARNING, fmt::format("refused a control request from uid {} (pid {}): only root and uid {} "
                                              "may control halo-checkd",
                                              peer.uid, peer.pid, ::geteuid()));
        const std::string line = format_control_reply(
            {ControlReplyKind::refused,
             fmt::format("uid {} may not control halo-checkd (root and uid {} may)", peer.uid, ::geteuid())});
        (void)!::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        return;
    }
    const std::uint64_t id = m_next_id++;
    auto c = std::make_unique<Connection>();
    c->peer = peer;
    sd_event_source* s = nullptr;
    if (sd_event_add_io(m_event, &s, fd.get(), EPOLLIN | EPOLLRDHUP, &ControlServer::on_connection, this) < 0) return;
    c->source.reset(s);
    c->fd = std::move(fd);
    m_connections.emplace(id, std::move(c));
}

int ControlServer::on_connection(sd_event_source*, int fd, std::uint32_t events, void* userdata) noexcept
{
    auto* self = static_cast<ControlServer*>(userdata);
    return guard_callback("control_server.on_connection", 0, [&] {
        for (const auto& [id, c] : self->m_connections) {
            if (c->fd.get() == fd) {
                self->readable(id, events);
                break;
            }
        }
        return 0;
    });
}

void ControlServer::readable(std::uint64_t id, std::uint32_t events)
{
    Connection& c = *m_connections.at(id);
    if (c.requested) {
        // A client that hung up no longer waits for its answer.
        if (events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) close(id);
        return;
    }
    char buffer[kControlRequestMax];
    const ssize_t n = ::recv(c.fd.get(), buffer, kControlRequestMax - c.received.size(), MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
        close(id);
        return;
    }
    c.received.append(buffer, static_cast<std::size_t>(n));
    auto request = parse_control_request(c.received);
    if (!request) {
        m_log.daemon(LOG_WARNING, fmt::format("refused a control request from uid {} (pid {}): {}", c.peer.uid,
                                              c.peer.pid, request.error().message));
        reply(id, {ControlReplyKind::refused, request.error().message}, true);
        return;
    }
    if (!request->complete) return;
    c.requested = true;
    // From now on only a hang-up matters; what else the client sends is not read.
    sd_event_source_set_io_events(c.source.get(), EPOLLRDHUP);
    const ucred peer = c.peer;
    m_on_request(id, request->verb, peer);
}

bool ControlServer::reply(std::uint64_t id, const ControlReply& reply, bool last)
{
    const auto it = m_connections.find(id);
    if (it == m_connections.end()) return false;
    const std::string line = format_control_reply(reply);
    // A reply is far smaller than a socket buffer; a client that does not read loses its answer.
    const ssize_t n = ::send(it->second->fd.get(), line.data(), line.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n != static_cast<ssize_t>(line.size()) || last) {
        close(id);
        return n == static_cast<ssize_t>(line.size());
    }
    return true;
}

void ControlServer::close(std::uint64_t id) { m_connections.erase(id); }

} // namespace halo::checkd
