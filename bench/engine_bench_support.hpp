// What the real-engine benchmarks share: a monotonic clock, one raw GET on loopback, waiting on
// halo-checkd's state file through inotify, a child process that dies with the bench, and the
// median/range summary. Header-only: bench/CMakeLists.txt makes one program of each .cpp.
#pragma once

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <netinet/in.h>
#include <poll.h>
#include <sstream>
#include <string>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace halo::bench {

inline double mono_ms()
{
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// GET PATH on 127.0.0.1:PORT; the HTTP status, or 0 when nothing answered (refused, reset,
// timeout). A socket of our own rather than libcurl: the poll must cost microseconds, so that
// polling every few milliseconds neither loads the 2 cores nor delays what it measures.
inline int http_status(int port, const char* path, int timeout_ms = 1000)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int status = 0;
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        const std::string req = fmt::format("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", path);
        char buf[64] = {};
        if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
            std::size_t got = 0;
            while (got < 12) {
                const ssize_t n = ::recv(fd, buf + got, sizeof buf - 1 - got, 0);
                if (n <= 0) break;
                got += static_cast<std::size_t>(n);
            }
            if (got >= 12 && std::strncmp(buf, "HTTP/1.", 7) == 0) status = std::atoi(buf + 9);
        }
    }
    ::close(fd);
    return status;
}

inline nlohmann::json read_json(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return nlohmann::json::parse(ss.str(), nullptr, false);
}

inline long engine_pid(const nlohmann::json& state)
{
    if (!state.is_object() || !state.contains("engine")) return 0;
    const auto& p = state["engine"]["pid"];
    return p.is_number_integer() ? p.get<long>() : 0;
}

inline std::string engine_state(const nlohmann::json& state)
{
    if (!state.is_object() || !state.contains("engine")) return {};
    const auto& s = state["engine"]["state"];
    return s.is_string() ? s.get<std::string>() : std::string();
}

// Watches the state directory: halo-checkd writes state.json to a temp file and renames it into
// place, so every new version is one IN_MOVED_TO. Reacting to that instead of polling puts the
// observation within microseconds of the write.
class StateWatch {
public:
    explicit StateWatch(std::string dir) : m_dir(std::move(dir))
    {
        m_fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (m_fd >= 0 && ::inotify_add_watch(m_fd, m_dir.c_str(), IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
            ::close(m_fd);
            m_fd = -1;
        }
    }
    ~StateWatch()
    {
        if (m_fd >= 0) ::close(m_fd);
    }
    StateWatch(const StateWatch&) = delete;
    StateWatch& operator=(const StateWatch&) = delete;
    bool ok() const { return m_fd >= 0; }
    std::string path() const { return m_dir + "/state.json"; }
    nlohmann::json read() const { return read_json(path()); }

    // Calls seen(state, time_ms) on the current file and then on each new version, until it
    // returns true (true) or until deadline_ms on the mono_ms() clock (false).
    bool until(const std::function<bool(const nlohmann::json&, double)>& seen, double deadline_ms)
    {
        if (seen(read(), mono_ms())) return true;
        alignas(inotify_event) char buf[4096];
        for (;;) {
            const double left = deadline_ms - mono_ms();
            if (left <= 0) return false;
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left) + 1) <= 0) continue;
            const double at = mono_ms();
            bool ours = false;
            for (ssize_t n; (n = ::read(m_fd, buf, sizeof buf)) > 0;) {
                for (char* c = buf; c < buf + n;) {
                    const auto* ev = reinterpret_cast<const inotify_event*>(c);
                    if (ev->len && std::strcmp(ev->name, "state.json") == 0) ours = true;
                    c += sizeof(inotify_event) + ev->len;
                }
            }
            if (ours && seen(read(), at)) return true;
        }
    }

private:
    std::string m_dir;
    int m_fd = -1;
};

// fork/exec with stdout and stderr to /dev/null; the child gets SIGKILL if the bench dies, so
// no engine outlives an interrupted run.
inline pid_t spawn(const std::vector<std::string>& argv)
{
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(127);
        const int null = ::open("/dev/null", O_RDWR);
        ::dup2(null, STDIN_FILENO);
        ::dup2(null, STDOUT_FILENO);
        ::dup2(null, STDERR_FILENO);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

// waitpid with a deadline: SIGTERM first, SIGKILL after grace_ms. The exit status.
inline int stop_child(pid_t pid, int grace_ms)
{
    ::kill(pid, SIGTERM);
    int status = 0;
    for (int waited = 0; waited < grace_ms; waited += 5) {
        if (::waitpid(pid, &status, WNOHANG) == pid) return status;
        ::usleep(5000);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return status;
}

struct Summary {
    std::size_t n = 0;
    double median = 0, min = 0, max = 0;
};

inline Summary summarize(std::vector<double> v)
{
    Summary s;
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    s.n = v.size();
    const std::size_t mid = v.size() / 2;
    s.median = v.size() % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
    s.min = v.front();
    s.max = v.back();
    return s;
}

inline std::string summary_text(const std::vector<double>& v, const char* unit = "ms")
{
    const Summary s = summarize(v);
    return fmt::format("median {:.1f} {}, range {:.1f}–{:.1f} (n={})", s.median, unit, s.min, s.max, s.n);
}

} // namespace halo::bench
