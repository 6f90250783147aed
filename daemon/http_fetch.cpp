#include "daemon/http_fetch.hpp"

#include <curl/curl.h>
#include <fmt/core.h>

#include <dlfcn.h>

#include <cctype>
#include <exception>
#include <fstream>
#include <memory>

namespace halo::app {

namespace {

constexpr const char* k_soname = "libcurl.so.4";

struct CurlLibrary {
    decltype(&::curl_global_init) global_init;
    decltype(&::curl_easy_init) easy_init;
    decltype(&::curl_easy_setopt) easy_setopt;
    decltype(&::curl_easy_perform) easy_perform;
    decltype(&::curl_easy_getinfo) easy_getinfo;
    decltype(&::curl_easy_cleanup) easy_cleanup;
    decltype(&::curl_easy_strerror) easy_strerror;
    decltype(&::curl_slist_append) slist_append;
    decltype(&::curl_slist_free_all) slist_free_all;
};

CurlLibrary g_curl{};

template <typename F>
void bind(void* handle, F& slot, const char* name, std::string& missing)
{
    slot = reinterpret_cast<F>(::dlsym(handle, name));
    if (!slot && missing.empty()) missing = name;
}

Result<void> load_once()
{
    // RTLD_LOCAL keeps curl's symbols to this table; the handle stays open for the process.
    void* handle = ::dlopen(k_soname, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* why = ::dlerror();
        return Error{fmt::format("Failed to load '{}': {}; install libcurl (Fedora: libcurl, Debian: libcurl4) to "
                                 "talk to the engine",
                                 k_soname, why ? why : "unknown error")};
    }
    std::string missing;
    CurlLibrary& l = g_curl;
    bind(handle, l.global_init, "curl_global_init", missing);
    bind(handle, l.easy_init, "curl_easy_init", missing);
    bind(handle, l.easy_setopt, "curl_easy_setopt", missing);
    bind(handle, l.easy_perform, "curl_easy_perform", missing);
    bind(handle, l.easy_getinfo, "curl_easy_getinfo", missing);
    bind(handle, l.easy_cleanup, "curl_easy_cleanup", missing);
    bind(handle, l.easy_strerror, "curl_easy_strerror", missing);
    bind(handle, l.slist_append, "curl_slist_append", missing);
    bind(handle, l.slist_free_all, "curl_slist_free_all", missing);
    if (!missing.empty()) return Error{fmt::format("'{}' has no '{}': not a libcurl 7 or 8", k_soname, missing)};
    if (l.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return Error{"Failed to initialise libcurl"};
    return {};
}

struct EasyDeleter {
    void operator()(CURL* e) const noexcept { g_curl.easy_cleanup(e); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const noexcept { g_curl.slist_free_all(l); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

// What the write callback fills: the body, or the lines for a handler. Nothing it calls may
// throw through curl: an exception is kept and rethrown once curl_easy_perform has returned.
struct Sink {
    const HttpLineHandler* on_line = nullptr;
    std::size_t max_body = 0;
    std::size_t received = 0;
    std::string body;
    std::string partial; // a line not yet ended
    bool overflow = false;
    bool stopped = false;
    std::exception_ptr failure;

    bool deliver(std::string_view line)
    {
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (!(*on_line)(line)) stopped = true;
        return !stopped;
    }
};

size_t on_write(char* data, size_t size, size_t n, void* userp) noexcept
{
    auto* s = static_cast<Sink*>(userp);
    const size_t len = size * n;
    s->received += len;
    if (s->received > s->max_body) {
        s->overflow = true;
        return 0; // a short count aborts the transfer
    }
    try {
        if (!s->on_line) {
            s->body.append(data, len);
            return len;
        }
        s->partial.append(data, len);
        std::size_t start = 0;
        for (std::size_t nl = s->partial.find('\n'); nl != std::string::npos; nl = s->partial.find('\n', start)) {
            if (!s->deliver(std::string_view(s->partial).substr(start, nl - start))) return 0;
            start = nl + 1;
        }
        s->partial.erase(0, start);
        return len;
    } catch (...) {
        s->failure = std::current_exception();
        return 0;
    }
}

// What the header callback fills: each response's headers (a 100 Continue's are dropped when the
// next status line comes). Bounded: curl caps one header line, this caps them all.
struct HeaderSink {
    std::vector<std::pair<std::string, std::string>> headers;
    std::size_t bytes = 0;
    bool overflow = false;
    std::exception_ptr failure;
};

constexpr std::size_t k_max_header_bytes = 256u << 10;

size_t on_header(char* data, size_t size, size_t n, void* userp) noexcept
{
    auto* h = static_cast<HeaderSink*>(userp);
    const size_t len = size * n;
    try {
        const std::string_view line(data, len);
        if (line.starts_with("HTTP/")) {
            h->headers.clear();
            h->bytes = 0;
            return len;
        }
        h->bytes += len;
        if (h->bytes > k_max_header_bytes) {
            h->overflow = true;
            return 0;
        }
        if (auto header = parse_header_line(line)) h->headers.push_back(std::move(*header));
        return len;
    } catch (...) {
        h->failure = std::current_exception();
        return 0;
    }
}

Result<HttpFetchAnswer> perform(const HttpFetchRequest& request, Sink& sink)
{
    if (auto loaded = load_http_library(); !loaded) return loaded.error();
    Easy easy(g_curl.easy_init());
    if (!easy) return Error{"Failed to create a curl handle; out of memory"};
    CURL* e = easy.get();
    char error[CURL_ERROR_SIZE] = {};
    auto& set = g_curl.easy_setopt;
    set(e, CURLOPT_URL, request.url.c_str());
    set(e, CURLOPT_NOSIGNAL, 1L);
    set(e, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
    set(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<long long>(request.timeout.count(), 5000)));
    set(e, CURLOPT_ERRORBUFFER, error);
    set(e, CURLOPT_PROTOCOLS_STR, "http,https");
    set(e, CURLOPT_FOLLOWLOCATION, 0L);
    // The engine is local: a proxy from the environment must not see its traffic (or its key).
    set(e, CURLOPT_PROXY, "");
    if (!request.ca_file.empty()) set(e, CURLOPT_CAINFO, request.ca_file.c_str());
    set(e, CURLOPT_WRITEFUNCTION, &on_write);
    set(e, CURLOPT_WRITEDATA, &sink);
    HeaderSink header_sink;
    set(e, CURLOPT_HEADERFUNCTION, &on_header);
    set(e, CURLOPT_HEADERDATA, &header_sink);
    std::vector<std::string> headers = request.headers;
    if (!request.json_body.empty()) {
        headers.emplace_back("Content-Type: application/json");
        set(e, CURLOPT_POSTFIELDS, request.json_body.c_str());
        set(e, CURLOPT_POSTFIELDSIZE, static_cast<long>(request.json_body.size()));
    }
    Slist list;
    for (const std::string& h : headers) {
        curl_slist* grown = g_curl.slist_append(list.get(), h.c_str());
        if (!grown) return Error{"Failed to build an HTTP request's headers; out of memory"};
        (void)list.release(); // curl_slist_append returned the same list, now longer
        list.reset(grown);
    }
    if (list) set(e, CURLOPT_HTTPHEADER, list.get());
    const auto started = std::chrono::steady_clock::now();
    const CURLcode code = g_curl.easy_perform(e);
    HttpFetchAnswer answer;
    answer.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started);
    if (sink.failure) std::rethrow_exception(sink.failure);
    if (header_sink.failure) std::rethrow_exception(header_sink.failure);
    if (code != CURLE_OK && !(code == CURLE_WRITE_ERROR && sink.stopped)) {
        const std::string why = sink.overflow ? fmt::format("the answer is larger than {} bytes", request.max_body)
                                : header_sink.overflow
                                    ? fmt::format("the answer's headers are larger than {} bytes", k_max_header_bytes)
                                : error[0] ? std::string(error)
                                           : std::string(g_curl.easy_strerror(code));
        return Error{fmt::format("Failed to get an answer from '{}': {}", request.url, why)};
    }
    if (sink.on_line && !sink.stopped && !sink.partial.empty()) (void)sink.deliver(sink.partial);
    g_curl.easy_getinfo(e, CURLINFO_RESPONSE_CODE, &answer.status);
    answer.body = std::move(sink.body);
    answer.headers = std::move(header_sink.headers);
    return answer;
}

} // namespace

std::optional<std::pair<std::string, std::string>> parse_header_line(std::string_view line)
{
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
    const auto colon = line.find(':');
    if (line.empty() || line.starts_with("HTTP/") || colon == std::string_view::npos || colon == 0) return std::nullopt;
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    const auto first = value.find_first_not_of(" \t");
    if (first == std::string_view::npos) return std::pair{std::move(name), std::string()};
    value = value.substr(first, value.find_last_not_of(" \t") - first + 1);
    return std::pair{std::move(name), std::string(value)};
}

std::string HttpFetchAnswer::header(std::string_view name) const
{
    for (const auto& [key, value] : headers)
        if (key == name) return value;
    return {};
}

Result<void> load_http_library()
{
    static const Result<void> loaded = load_once();
    return loaded;
}

Result<HttpFetchAnswer> http_fetch(const HttpFetchRequest& request)
{
    Sink sink;
    sink.max_body = request.max_body;
    return perform(request, sink);
}

Result<HttpFetchAnswer> http_fetch_lines(const HttpFetchRequest& request, const HttpLineHandler& on_line)
{
    Sink sink;
    sink.on_line = &on_line;
    sink.max_body = request.max_body;
    return perform(request, sink);
}

std::string bearer_header(std::string_view api_key) { return fmt::format("Authorization: Bearer {}", api_key); }

Result<std::string> read_api_key_file(const std::string& path)
{
    std::ifstream in(path);
    if (!in) return Error{fmt::format("Failed to read API key file '{}': cannot open it; check the path", path)};
    std::string line;
    while (std::getline(in, line)) {
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') continue;
        const auto last = line.find_last_not_of(" \t\r");
        return line.substr(first, last - first + 1);
    }
    return Error{fmt::format("API key file '{}' holds no key; write the key on a line of its own", path)};
}

} // namespace halo::app
