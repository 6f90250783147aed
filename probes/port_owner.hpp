#pragma once
// Who listens on a TCP port: the listening sockets from /proc/net/tcp and /proc/net/tcp6 (local
// address, port, state, inode), and the process holding each one, found by its socket inode among
// /proc/*/fd links ("socket:[INODE]"), with its argv (/proc/PID/cmdline) and parent
// (/proc/PID/stat). The parsers are pure, over the files' text; port_listeners() reads them
// through Host. The daemon asks before it launches the engine (a leftover engine on the port)
// and after the engine failed to bind (who holds it). Needs no privileges for the caller's own
// processes; another user's fd links need root (their sockets are then found without a pid).

#include "common/result.hpp"
#include "probes/host.hpp"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace halo::probes {

struct TcpSocket {
    std::string address; // "127.0.0.1", "::", "::1", "::ffff:127.0.0.1"
    int port = 0;
    bool listening = false; // state 0A (TCP_LISTEN)
    unsigned uid = 0;
    std::uint64_t inode = 0;
};

// The entries of one /proc/net/tcp (`ipv6` false) or /proc/net/tcp6 text; lines that do not
// parse are skipped. Addresses are words in this machine's byte order, as the kernel prints them.
std::vector<TcpSocket> parse_proc_net_tcp(std::string_view text, bool ipv6);

// The inode of an fd link's target "socket:[1458179]"; nullopt for anything else.
std::optional<std::uint64_t> socket_inode(std::string_view link_target);

// /proc/PID/cmdline: NUL-separated arguments (a trailing NUL or none).
std::vector<std::string> parse_cmdline(std::string_view text);

// The parent pid in /proc/PID/stat ("13882 (llama-server) S 13880 …"; the name may hold spaces
// and parentheses); nullopt when the text is no stat line.
std::optional<pid_t> parent_pid_from_stat(std::string_view text);

struct PortListener {
    TcpSocket socket;
    pid_t pid = 0;                 // 0: no readable /proc/*/fd holds it (another user's, another namespace)
    std::vector<std::string> argv; // empty when unreadable
    std::string name;              // argv[0]'s file name, or /proc/PID/comm
    pid_t parent = 0;
    std::string parent_name; // /proc/PARENT/comm
};

// The processes listening on `port` (TCP, any address). An empty list when nothing listens; an
// error only when neither /proc/net/tcp nor /proc/net/tcp6 can be read.
Result<std::vector<PortListener>> port_listeners(const Host& host, int port);

// "pid 1234 (python3)", or "a process halo-check cannot see (socket inode 1458195)".
std::string describe_listener(const PortListener& listener);

} // namespace halo::probes
