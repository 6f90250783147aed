// A test engine that behaves like llama.cpp's llama-server where a supervisor can tell
// (research/llama-server-behaviour.md): it binds its HTTP socket before "loading", answers
// GET /health 503 {"error":{…"Loading model"…}} while loading and 200 {"status":"ok"} after,
// answers POST /v1/chat/completions with choices, usage and timings, logs on stderr, exits 0 on
// SIGTERM ("cleaning up before exit...") and 1 on a bad argument, a busy port or a model that
// does not load. A real HTTP/1.1 server on loopback: plain sockets, one thread, poll().
//
// Arguments: --host H --port P -m MODEL [--alias A]; --free-port prints a free port and exits.
// Environment: FAKE_LLAMA_LOAD_MS (default 300), FAKE_LLAMA_MODE (or --fake-mode):
//   normal       serve forever
//   exit1        bad arguments: exit 1 at once
//   load-fail    503 while "loading", then exit 1 "exiting due to model loading error"
//   abort        SIGABRT FAKE_LLAMA_AFTER_MS (default 300) after ready, after printing
//                "terminate called after throwing an instance of 'vk::DeviceLostError'"
//   crash-line   prints a prompt-cache warning and a known ROCm crash line, then aborts
//   hang         FAKE_LLAMA_AFTER_MS after ready: stops answering entirely and ignores SIGTERM
//   health-dead  FAKE_LLAMA_AFTER_MS after ready: /health never answers (chat still works)
//   no-generate  /health ok, /v1/chat/completions never answers

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_term = 0;
void on_term(int) { g_term = 1; }

const auto g_start = std::chrono::steady_clock::now();

void log_line(char level, const std::string& text)
{
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - g_start).count();
    const int s = static_cast<int>(t);
    std::fprintf(stderr, "0.%02d.%03d.%03d %c %s\n", s / 60, s % 60, static_cast<int>((t - s) * 1000), level,
                 text.c_str());
    std::fflush(stderr);
}

long ms_since_start()
{
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - g_start).count());
}

struct Conn {
    int fd;
    std::string in;
    std::string out;
    bool parked = false; // a request we never answer
};

std::string response(int code, const std::string& body)
{
    const char* reason = code == 200   ? "OK"
                         : code == 503 ? "Service Unavailable"
                         : code == 404 ? "Not Found"
                                       : "Bad Request";
    return "HTTP/1.1 " + std::to_string(code) + " " + reason +
           "\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + body;
}

} // namespace

int main(int argc, char** argv)
{
    std::string host = "127.0.0.1", model, alias, mode;
    int port = 8080;
    if (const char* m = std::getenv("FAKE_LLAMA_MODE")) mode = m;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                log_line('E', "error: missing value for " + a);
                std::exit(1);
            }
            return argv[++i];
        };
        if (a == "--free-port") {
            const int fd = socket(AF_INET, SOCK_STREAM, 0);
            sockaddr_in sa{};
            sa.sin_family = AF_INET;
            sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
            socklen_t len = sizeof sa;
            if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0 ||
                getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len) < 0) {
                return 1;
            }
            std::printf("%d\n", ntohs(sa.sin_port));
            return 0;
        }
        if (a == "--host") host = next();
        else if (a == "--port") port = std::atoi(next().c_str());
        else if (a == "-m" || a == "--model") model = next();
        else if (a == "-a" || a == "--alias") alias = next();
        else if (a == "--fake-mode") mode = next();
        else if (a == "-c" || a == "-ngl" || a == "-np" || a == "--ctx-size" || a == "--n-gpu-layers") next();
        else {
            log_line('E', "error: invalid argument: " + a);
            return 1;
        }
    }
    if (mode == "exit1") {
        log_line('E', "error: invalid argument: --fake-mode exit1");
        return 1;
    }
    const long load_ms = std::getenv("FAKE_LLAMA_LOAD_MS") ? std::atol(std::getenv("FAKE_LLAMA_LOAD_MS")) : 300;
    const long after_ms = std::getenv("FAKE_LLAMA_AFTER_MS") ? std::atol(std::getenv("FAKE_LLAMA_AFTER_MS")) : 300;

    struct sigaction sa {};
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGINT, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);

    log_line('I', "build: 0 (fake) with a test compiler for x86_64-linux-gnu");
    const int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1 ||
        bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || listen(lfd, 16) < 0) {
        log_line('E', "srv    start: couldn't bind HTTP server socket, hostname: " + host +
                          ", port: " + std::to_string(port));
        log_line('E', "srv  llama_server: exiting due to HTTP server error");
        return 1;
    }
    fcntl(lfd, F_SETFL, O_NONBLOCK);
    const bool router = model.empty();
    const bool model_ok = router || access(model.c_str(), R_OK) == 0;
    log_line('I', router ? "srv  llama_server: no model given, starting in router mode"
                         : "srv  load_model: loading model '" + model + "'");

    bool ready = router;
    long ready_at = router ? 0 : -1;
    std::map<int, Conn> conns;
    while (!g_term) {
        const long now = ms_since_start();
        if (!ready && now >= load_ms) {
            if (!model_ok || mode == "load-fail") {
                log_line('E', "srv  load_model: failed to load model, '" + model + "'");
                log_line('E', "srv  llama_server: exiting due to model loading error");
                return 1;
            }
            ready = true;
            ready_at = now;
            log_line('I', "srv  llama_server: model loaded");
            log_line('I', "srv  llama_server: server is listening on http://" + host + ":" + std::to_string(port));
        }
        const bool after = ready && ready_at >= 0 && now - ready_at >= after_ms;
        if (after && mode == "abort") {
            log_line('E', "terminate called after throwing an instance of 'vk::DeviceLostError'");
            log_line('E', "  what():  vk::Queue::submit: ErrorDeviceLost");
            abort();
        }
        if (after && mode == "crash-line") {
            // An info line first: it must not become the crash's reason.
            log_line('W', "slot update_slots: id  0 | task 7 | forcing full prompt re-processing due to lack of cache "
                          "data (likely due to SWA or hybrid/recurrent memory)");
            log_line('E', "Memory access fault by GPU node-1 (Agent handle: 0x55d5) on address 0x7f00. Reason: Page "
                          "not present or supervisor privilege.");
            abort();
        }
        const bool hung = after && mode == "hang";
        if (hung) signal(SIGTERM, SIG_IGN);

        std::vector<pollfd> fds;
        if (!hung) fds.push_back({lfd, POLLIN, 0});
        for (auto& [fd, c] : conns) {
            if (hung || c.parked) continue;
            fds.push_back({fd, static_cast<short>(c.out.empty() ? POLLIN : POLLOUT), 0});
        }
        poll(fds.data(), fds.size(), 20);
        if (hung) continue;
        for (const pollfd& p : fds) {
            if (!p.revents) continue;
            if (p.fd == lfd) {
                const int cfd = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (cfd >= 0 && conns.size() < 64) conns[cfd] = Conn{cfd, {}, {}};
                else if (cfd >= 0) close(cfd);
                continue;
            }
            Conn& c = conns[p.fd];
            if (!c.out.empty()) {
                const ssize_t n = write(c.fd, c.out.data(), c.out.size());
                if (n > 0) c.out.erase(0, static_cast<size_t>(n));
                if (n < 0 || c.out.empty()) {
                    close(c.fd);
                    conns.erase(p.fd);
                }
                continue;
            }
            char buf[4096];
            const ssize_t n = read(c.fd, buf, sizeof buf);
            if (n <= 0 || c.in.size() > 65536) {
                close(c.fd);
                conns.erase(p.fd);
                continue;
            }
            c.in.append(buf, static_cast<size_t>(n));
            const size_t head_end = c.in.find("\r\n\r\n");
            if (head_end == std::string::npos) continue;
            size_t content_length = 0;
            const size_t cl = c.in.find("Content-Length:");
            if (cl != std::string::npos && cl < head_end)
                content_length = std::strtoul(c.in.c_str() + cl + 15, nullptr, 10);
            if (c.in.size() < head_end + 4 + content_length) continue;
            const std::string line = c.in.substr(0, c.in.find("\r\n"));
            const bool health = line.rfind("GET /health ", 0) == 0 || line.rfind("GET /v1/health ", 0) == 0;
            const bool chat = line.rfind("POST /v1/chat/completions ", 0) == 0;
            if (health) {
                if (mode == "health-dead" && after) {
                    c.parked = true;
                } else if (!ready) {
                    c.out =
                        response(503, R"({"error":{"code":503,"message":"Loading model","type":"unavailable_error"}})");
                } else {
                    c.out = response(200, R"({"status":"ok"})");
                }
            } else if (chat) {
                const std::string body = c.in.substr(head_end + 4);
                if (!ready) {
                    c.out =
                        response(503, R"({"error":{"code":503,"message":"Loading model","type":"unavailable_error"}})");
                } else if (body.find("\"messages\"") == std::string::npos) {
                    c.out = response(
                        400,
                        R"({"error":{"code":400,"message":"Expected 'messages' to be an array","type":"invalid_request_error"}})");
                } else if (mode == "no-generate") {
                    c.parked = true;
                } else {
                    const std::string name = alias.empty() ? model : alias;
                    c.out = response(
                        200,
                        R"({"choices":[{"finish_reason":"length","index":0,"message":{"role":"assistant","content":"1, 2, 3, 4, 5"}}],)"
                        R"("created":1764237302,"model":")" +
                            name +
                            R"(","object":"chat.completion",)"
                            R"("usage":{"completion_tokens":10,"prompt_tokens":14,"total_tokens":24,"prompt_tokens_details":{"cached_tokens":0}},)"
                            R"("timings":{"cache_n":0,"prompt_n":14,"prompt_ms":20.5,"prompt_per_token_ms":1.46,"prompt_per_second":682.9,)"
                            R"("predicted_n":10,"predicted_ms":250.0,"predicted_per_token_ms":25.0,"predicted_per_second":40.0}})");
                    log_line('I', "srv  log_server_r: request: POST /v1/chat/completions 127.0.0.1 200");
                }
            } else {
                c.out = response(404, R"({"error":{"code":404,"message":"File Not Found","type":"not_found_error"}})");
            }
        }
    }
    log_line('I', "srv    operator(): cleaning up before exit...");
    return 0;
}
