#include "daemon/checkd/http_client.hpp"

#include "daemon/checkd/callback_guard.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace halo::checkd {

namespace {
constexpr std::size_t k_max_body = 1024 * 1024;

// curl_global_init is not thread-safe and must run once before any handle exists.
void global_init_once()
{
    static const bool done = [] {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        return true;
    }();
    (void)done;
}
} // namespace

struct HttpClient::Request {
    std::uint64_t id = 0;
    CurlEasy easy;
    CurlSlist headers;
    std::string body;
    HttpResponse response;
    HttpCallback done;
    std::chrono::steady_clock::time_point started;
    char error[CURL_ERROR_SIZE] = {};
    bool overflow = false;
};

HttpClient::HttpClient(sd_event* event) : m_event(event) {}

HttpClient::~HttpClient()
{
    cancel_all();
    m_sockets.clear();
    m_timer.reset();
}

Result<std::unique_ptr<HttpClient>> HttpClient::create(sd_event* event)
{
    global_init_once();
    std::unique_ptr<HttpClient> client(new HttpClient(event));
    client->m_multi.reset(curl_multi_init());
    if (!client->m_multi) return Error{"Failed to create a curl multi handle; out of memory"};
    CURLM* m = client->m_multi.get();
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, &HttpClient::on_socket);
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, client.get());
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, &HttpClient::on_timer);
    curl_multi_setopt(m, CURLMOPT_TIMERDATA, client.get());
    return client;
}

size_t HttpClient::on_write(char* data, size_t size, size_t n, void* userp) noexcept
{
    auto* r = static_cast<Request*>(userp);
    const size_t len = size * n;
    if (r->response.body.size() + len > k_max_body) {
        r->overflow = true;
        return 0; // aborts the transfer: no answer we ask for is this large
    }
    // A short count aborts the transfer, which then ends in its callback with curl's write error.
    return guard_callback("http_client.on_write", std::size_t{0}, [&] {
        r->response.body.append(data, len);
        return len;
    });
}

Result<std::uint64_t> HttpClient::request(const std::string& url, const std::string& json_body,
                                          std::chrono::milliseconds timeout, HttpCallback done)
{
    return request(url, json_body, {}, timeout, std::move(done));
}

Result<std::uint64_t> HttpClient::request(const std::string& url, const std::string& json_body,
                                          const std::vector<std::string>& headers, std::chrono::milliseconds timeout,
                                          HttpCallback done)
{
    auto r = std::make_unique<Request>();
    r->id = m_next_id++;
    r->easy.reset(curl_easy_init());
    if (!r->easy) return Error{"Failed to create a curl handle; out of memory"};
    r->body = json_body;
    r->done = std::move(done);
    CURL* e = r->easy.get();
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<long long>(timeout.count(), 5000)));
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->error);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    // The engine is local: a proxy from the environment must not see its traffic.
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &HttpClient::on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r.get());
    std::vector<std::string> all_headers = headers;
    if (!r->body.empty()) {
        all_headers.emplace_back("Content-Type: application/json");
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body.c_str());
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(r->body.size()));
    }
    for (const std::string& h : all_headers) {
        // curl copies each string; the list is freed with the request.
        curl_slist* list = curl_slist_append(r->headers.get(), h.c_str());
        if (!list) return Error{"Failed to build an HTTP request's headers; out of memory"};
        (void)r->headers.release();
        r->headers.reset(list);
    }
    if (r->headers) curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers.get());
    r->started = std::chrono::steady_clock::now();
    const std::uint64_t id = r->id;
    m_requests.emplace(e, std::move(r));
    if (curl_multi_add_handle(m_multi.get(), e) != CURLM_OK) {
        m_requests.erase(e);
        return Error{"Failed to start an HTTP request: curl_multi_add_handle failed"};
    }
    return id;
}

void HttpClient::cancel(std::uint64_t id)
{
    for (auto it = m_requests.begin(); it != m_requests.end(); ++it) {
        if (it->second->id != id) continue;
        curl_multi_remove_handle(m_multi.get(), it->first);
        m_requests.erase(it);
        return;
    }
}

void HttpClient::cancel_all()
{
    for (auto& [easy, r] : m_requests) curl_multi_remove_handle(m_multi.get(), easy);
    m_requests.clear();
}

int HttpClient::on_socket(CURL*, curl_socket_t fd, int what, void* userp, void*) noexcept
{
    // -1 makes curl fail the transfers on that socket; each still ends in its callback.
    return guard_callback("http_client.on_socket", -1,
                          [&] { return static_cast<HttpClient*>(userp)->socket_changed(fd, what); });
}

int HttpClient::socket_changed(curl_socket_t fd, int what)
{
    if (what == CURL_POLL_REMOVE) {
        m_sockets.erase(fd);
        return 0;
    }
    uint32_t events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) events |= EPOLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) events |= EPOLLOUT;
    auto it = m_sockets.find(fd);
    if (it != m_sockets.end()) return sd_event_source_set_io_events(it->second.get(), events) < 0 ? -1 : 0;
    sd_event_source* s = nullptr;
    if (sd_event_add_io(m_event, &s, fd, events, &HttpClient::on_io, this) < 0) return -1;
    m_sockets.emplace(fd, SdEventSource(s));
    return 0;
}

int HttpClient::on_timer(CURLM*, long timeout_ms, void* userp) noexcept
{
    return guard_callback("http_client.on_timer", -1,
                          [&] { return static_cast<HttpClient*>(userp)->timer_changed(timeout_ms); });
}

int HttpClient::timer_changed(long timeout_ms)
{
    if (timeout_ms < 0) {
        if (m_timer) sd_event_source_set_enabled(m_timer.get(), SD_EVENT_OFF);
        return 0;
    }
    uint64_t now = 0;
    sd_event_now(m_event, CLOCK_MONOTONIC, &now);
    const uint64_t when = now + static_cast<uint64_t>(timeout_ms) * 1000;
    if (!m_timer) {
        sd_event_source* s = nullptr;
        if (sd_event_add_time(m_event, &s, CLOCK_MONOTONIC, when, 1000, &HttpClient::on_time, this) < 0) return -1;
        m_timer.reset(s);
        return 0;
    }
    sd_event_source_set_time(m_timer.get(), when);
    sd_event_source_set_enabled(m_timer.get(), SD_EVENT_ONESHOT);
    return 0;
}

int HttpClient::on_io(sd_event_source*, int fd, uint32_t revents, void* userdata) noexcept
{
    auto* self = static_cast<HttpClient*>(userdata);
    int flags = 0;
    if (revents & EPOLLIN) flags |= CURL_CSELECT_IN;
    if (revents & EPOLLOUT) flags |= CURL_CSELECT_OUT;
    if (revents & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
    return guard_callback(
        "http_client.on_io", 0, [&] { self->drive(fd, flags); },
        [self](std::string_view what) { self->fail_all(what); });
}

int HttpClient::on_time(sd_event_source*, uint64_t, void* userdata) noexcept
{
    auto* self = static_cast<HttpClient*>(userdata);
    return guard_callback(
        "http_client.on_time", 0, [&] { self->drive(CURL_SOCKET_TIMEOUT, 0); },
        [self](std::string_view what) { self->fail_all(what); });
}

void HttpClient::drive(curl_socket_t fd, int flags)
{
    int running = 0;
    curl_multi_socket_action(m_multi.get(), fd, flags, &running);
    collect_done();
}

void HttpClient::collect_done()
{
    // Read curl's queue to the end first, then call back: a callback may start or cancel
    // requests, which must not happen while the queue is being read. Until its callback a
    // finished request stays in m_requests, so an exception on the way loses none (fail_all).
    struct Done {
        CURL* easy;
        CURLcode code;
        std::uint64_t id; // an easy handle freed by a cancel may come back for a new request
    };
    std::vector<Done> done;
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(m_multi.get(), &left)) {
        if (msg->msg != CURLMSG_DONE) continue;
        const auto it = m_requests.find(msg->easy_handle);
        if (it != m_requests.end()) done.push_back({msg->easy_handle, msg->data.result, it->second->id});
    }
    for (const Done& d : done) {
        auto it = m_requests.find(d.easy);
        if (it == m_requests.end() || it->second->id != d.id) continue; // cancelled by an earlier callback
        std::unique_ptr<Request> r = std::move(it->second);
        m_requests.erase(it);
        curl_multi_remove_handle(m_multi.get(), d.easy);
        r->response.elapsed =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - r->started);
        if (d.code == CURLE_OK) {
            curl_easy_getinfo(d.easy, CURLINFO_RESPONSE_CODE, &r->response.status);
        } else {
            r->response.status = 0;
            r->response.error =
                r->overflow ? "answer larger than 1 MiB" : (r->error[0] ? r->error : curl_easy_strerror(d.code));
        }
        finish(*r);
    }
}

void HttpClient::finish(Request& r) noexcept
{
    if (!r.done) return;
    // One owner's failing callback must not cost the others theirs.
    (void)guard_callback("http_client.done", 0, [&] { r.done(r.response); });
}

void HttpClient::fail_all(std::string_view why)
{
    // Which transfers finished is no longer known: every request in flight ends now, with an
    // error its owner handles like any failed request (and may retry).
    std::map<CURL*, std::unique_ptr<Request>> requests;
    requests.swap(m_requests);
    const std::string error = fmt::format("internal error in the HTTP client: {}", why);
    for (auto& [easy, r] : requests) {
        curl_multi_remove_handle(m_multi.get(), easy);
        r->response.status = 0;
        r->response.error = error;
        r->response.elapsed =
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - r->started);
    }
    for (auto& [easy, r] : requests) finish(*r);
}

} // namespace halo::checkd
