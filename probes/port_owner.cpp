#include "probes/port_owner.hpp"

#include <fmt/core.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <set>

namespace halo::probes {

namespace {

std::vector<std::string_view> fields(std::string_view line)
{
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        const std::size_t start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        if (i > start) out.push_back(line.substr(start, i - start));
    }
    return out;
}

template <typename T>
std::optional<T> number(std::string_view text, int base)
{
    T value{};
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

// The kernel prints each 32-bit word of the address as the number it is in memory, so the
// bytes come back in this machine's order.
std::optional<std::string> address_text(std::string_view hex, bool ipv6)
{
    const std::size_t words = ipv6 ? 4 : 1;
    if (hex.size() != words * 8) return std::nullopt;
    unsigned char bytes[16] = {};
    for (std::size_t w = 0; w < words; ++w) {
        auto word = number<std::uint32_t>(hex.substr(w * 8, 8), 16);
        if (!word) return std::nullopt;
        std::memcpy(bytes + w * 4, &*word, 4);
    }
    char text[INET6_ADDRSTRLEN] = {};
    if (!::inet_ntop(ipv6 ? AF_INET6 : AF_INET, bytes, text, sizeof text)) return std::nullopt;
    return std::string(text);
}

std::optional<TcpSocket> parse_line(std::string_view line, bool ipv6)
{
    const auto f = fields(line);
    if (f.size() < 10 || f[0].empty() || f[0].back() != ':') return std::nullopt;
    const std::size_t colon = f[1].rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    TcpSocket s;
    auto address = address_text(f[1].substr(0, colon), ipv6);
    auto port = number<int>(f[1].substr(colon + 1), 16);
    auto state = number<unsigned>(f[3], 16);
    auto uid = number<unsigned>(f[7], 10);
    auto inode = number<std::uint64_t>(f[9], 10);
    if (!address || !port || !state || !uid || !inode) return std::nullopt;
    s.address = std::move(*address);
    s.port = *port;
    s.listening = *state == 0x0A;
    s.uid = *uid;
    s.inode = *inode;
    return s;
}

std::string first_line(std::string text)
{
    if (auto nl = text.find('\n'); nl != std::string::npos) text.resize(nl);
    return text;
}

} // namespace

std::vector<TcpSocket> parse_proc_net_tcp(std::string_view text, bool ipv6)
{
    std::vector<TcpSocket> out;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        if (auto s = parse_line(text.substr(start, end - start), ipv6)) out.push_back(std::move(*s));
        start = end + 1;
    }
    return out;
}

std::optional<std::uint64_t> socket_inode(std::string_view link_target)
{
    constexpr std::string_view prefix = "socket:[";
    if (!link_target.starts_with(prefix) || !link_target.ends_with(']')) return std::nullopt;
    return number<std::uint64_t>(link_target.substr(prefix.size(), link_target.size() - prefix.size() - 1), 10);
}

std::vector<std::string> parse_cmdline(std::string_view text)
{
    std::vector<std::string> argv;
    if (text.empty()) return argv;
    if (text.back() == '\0') text.remove_suffix(1);
    std::size_t start = 0;
    while (true) {
        const std::size_t nul = text.find('\0', start);
        argv.emplace_back(text.substr(start, nul == std::string_view::npos ? std::string_view::npos : nul - start));
        if (nul == std::string_view::npos) break;
        start = nul + 1;
    }
    return argv;
}

std::optional<pid_t> parent_pid_from_stat(std::string_view text)
{
    // The name is between the first '(' and the last ')': it may hold both.
    const std::size_t close = text.rfind(')');
    if (close == std::string_view::npos || text.find('(') == std::string_view::npos) return std::nullopt;
    const auto rest = fields(text.substr(close + 1));
    if (rest.size() < 2) return std::nullopt;
    return number<pid_t>(rest[1], 10);
}

Result<std::vector<PortListener>> port_listeners(const Host& host, int port)
{
    std::vector<PortListener> found;
    std::vector<std::string> errors;
    for (const bool ipv6 : {false, true}) {
        auto text = host.read_file(ipv6 ? "/proc/net/tcp6" : "/proc/net/tcp", 64u << 20);
        if (!text) {
            errors.push_back(text.error().message);
            continue;
        }
        for (TcpSocket& s : parse_proc_net_tcp(*text, ipv6)) {
            if (s.listening && s.port == port) found.push_back({std::move(s), 0, {}, {}, 0, {}});
        }
    }
    if (errors.size() == 2) return Error{errors[0] + "; " + errors[1]};
    if (found.empty()) return found;

    std::set<std::uint64_t> wanted;
    for (const PortListener& l : found) wanted.insert(l.socket.inode);
    auto pids = host.list_dir("/proc");
    if (!pids) return found; // the sockets without their processes
    for (const std::string& pid_text : *pids) {
        const auto pid = number<pid_t>(pid_text, 10);
        if (!pid) continue;
        const std::string dir = "/proc/" + pid_text;
        auto fds = host.list_dir(dir + "/fd");
        if (!fds) continue; // gone, or another user's
        for (const std::string& fd : *fds) {
            auto target = host.read_link(dir + "/fd/" + fd);
            if (!target) continue;
            const auto inode = socket_inode(*target);
            if (!inode || !wanted.count(*inode)) continue;
            for (PortListener& l : found) {
                // A socket shared by a parent and its children (fork): the first holder names it.
                if (l.socket.inode != *inode || l.pid != 0) continue;
                l.pid = *pid;
                if (auto cmdline = host.read_file(dir + "/cmdline", 1u << 20)) l.argv = parse_cmdline(*cmdline);
                if (!l.argv.empty()) l.name = std::filesystem::path(l.argv[0]).filename().string();
                if (l.name.empty()) {
                    if (auto comm = host.read_file(dir + "/comm", 4096)) l.name = first_line(*comm);
                }
                if (auto stat = host.read_file(dir + "/stat", 4096)) {
                    if (auto parent = parent_pid_from_stat(*stat)) {
                        l.parent = *parent;
                        if (auto comm = host.read_file("/proc/" + std::to_string(*parent) + "/comm", 4096)) {
                            l.parent_name = first_line(*comm);
                        }
                    }
                }
            }
        }
    }
    return found;
}

std::string describe_listener(const PortListener& listener)
{
    if (listener.pid <= 0) return fmt::format("a process not visible here (socket inode {})", listener.socket.inode);
    if (listener.name.empty()) return fmt::format("pid {}", listener.pid);
    return fmt::format("pid {} ({})", listener.pid, listener.name);
}

} // namespace halo::probes
