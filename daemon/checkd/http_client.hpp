#pragma once
// HTTP requests on loopback without blocking the event loop: libcurl's multi interface driven by
// sd-event. curl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION → sd-event io sources)
// and when to call it back (CURLMOPT_TIMERFUNCTION → one sd-event time source); no thread, no
// poll of our own. Each request ends in exactly one callback, from the event loop.

#include "common/result.hpp"
#include "daemon/checkd/sd_handles.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace halo::checkd {

struct HttpResponse {
    long status = 0;   // 0 when no HTTP answer came (refused, timed out)
    std::string body;  // at most 1 MiB
    std::string error; // curl's reason when status is 0: "Connection refused", "Timeout was reached"
    std::chrono::microseconds elapsed{0};
};

using HttpCallback = std::function<void(const HttpResponse&)>;

class HttpClient {
public:
    static Result<std::unique_ptr<HttpClient>> create(sd_event* event);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    // Returns a request id for cancel(). An empty body makes a GET, otherwise a POST of JSON.
    Result<std::uint64_t> request(const std::string& url, const std::string& json_body,
                                  std::chrono::milliseconds timeout, HttpCallback done);
    // With request headers ("Authorization: Bearer …"): they go on the wire only, into no
    // message or error text.
    Result<std::uint64_t> request(const std::string& url, const std::string& json_body,
                                  const std::vector<std::string>& headers, std::chrono::milliseconds timeout,
                                  HttpCallback done);
    // Drops a request without calling its callback; unknown ids are ignored.
    void cancel(std::uint64_t id);
    void cancel_all();
    std::size_t in_flight() const { return m_requests.size(); }

private:
    struct Request;
    explicit HttpClient(sd_event* event);

    static size_t on_write(char* data, size_t size, size_t n, void* userp) noexcept;
    static int on_socket(CURL* easy, curl_socket_t fd, int what, void* userp, void* socketp) noexcept;
    static int on_timer(CURLM* multi, long timeout_ms, void* userp) noexcept;
    static int on_io(sd_event_source* s, int fd, uint32_t revents, void* userdata) noexcept;
    static int on_time(sd_event_source* s, uint64_t usec, void* userdata) noexcept;
    int socket_changed(curl_socket_t fd, int what);
    int timer_changed(long timeout_ms);
    void drive(curl_socket_t fd, int flags);
    void collect_done();
    void finish(Request& r) noexcept;
    // After an exception while driving curl: ends every request in flight with `why`.
    void fail_all(std::string_view why);

    sd_event* m_event;
    CurlMulti m_multi;
    SdEventSource m_timer;
    std::map<curl_socket_t, SdEventSource> m_sockets;
    std::map<CURL*, std::unique_ptr<Request>> m_requests;
    std::uint64_t m_next_id = 1;
};

} // namespace halo::checkd
