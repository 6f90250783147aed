#pragma once
// A small blocking HTTP client for the command line (`halo-check bench`, and any command that
// asks the engine a question). libcurl is opened with dlopen on the first request, never linked:
// halo-check must not load the HTTP stack (libcurl, its TLS library …) on every run for the few
// commands that talk to the engine (tests/integration/cli_footprint.sh). The daemon, which links
// libcurl, has its own non-blocking client (daemon/checkd/http_client.hpp).
//
// Request headers (an Authorization: Bearer key) go on the wire only: into no error text.

#include "common/result.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace halo::app {

struct HttpFetchRequest {
    std::string url;
    std::string json_body; // empty: GET; otherwise a POST of JSON
    std::vector<std::string> headers;
    std::chrono::milliseconds timeout{30'000};
    std::size_t max_body = 8u << 20; // a larger answer is an error, not a silent cut
    std::string ca_file{};           // empty: the system's CA bundle
};

struct HttpFetchAnswer {
    long status = 0;
    std::string body; // empty for a streamed request (the lines went to the handler)
    std::chrono::microseconds elapsed{0};
    // The final response's headers, names in lower case, in the order received.
    std::vector<std::pair<std::string, std::string>> headers;

    // The first header named `name` (lower case), or empty.
    std::string header(std::string_view name) const;
};

// One header line ("ETag: \"x\"\r\n") as a lower-case name and a trimmed value; nullopt for a
// status line, the blank line that ends the headers, or a line without a colon.
std::optional<std::pair<std::string, std::string>> parse_header_line(std::string_view line);

// One line of a streamed answer, without its line end. Return false to stop reading (the
// request then ends without error). An exception from the handler ends the request and is
// rethrown from http_fetch_lines, never through curl's C callback.
using HttpLineHandler = std::function<bool(std::string_view line)>;

// Loads libcurl (once); an error naming the library and the package to install.
Result<void> load_http_library();

// Sends the request and waits for the whole answer. Transport failures (refused, timed out,
// cut off) are errors naming the URL; any HTTP status is an answer.
Result<HttpFetchAnswer> http_fetch(const HttpFetchRequest& request);

// The same, with the answer handed over line by line as it arrives (server-sent events).
Result<HttpFetchAnswer> http_fetch_lines(const HttpFetchRequest& request, const HttpLineHandler& on_line);

// "Authorization: Bearer KEY", for an engine started with --api-key.
std::string bearer_header(std::string_view api_key);

// The first key in an --api-key-file style file (one per line, '#' comments); an error naming the
// file when it cannot be read or holds none.
Result<std::string> read_api_key_file(const std::string& path);

} // namespace halo::app
