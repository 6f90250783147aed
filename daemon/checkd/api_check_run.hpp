#pragma once
// One run of the engine API checks halo-checkd sends after each ready (docs/engine-check.md):
// GET /props, then the cheap checks of app::daemon_api_check_ids() one request after another on
// the HttpClient, so the event loop never waits on the engine; each request is bounded by a
// timeout. The answers are judged by daemon/engine_api_check.hpp, as `halo-check engine-check`
// judges them, and messages-stream is sent once more after a fail (pass then: warn
// "intermittent"). Or, on its own slow timer, cache-reuse alone: a counted sample and two
// prompt-sized calls.

#include "daemon/checkd/http_client.hpp"
#include "daemon/engine_api_results.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace halo::checkd {

struct ApiRunTarget {
    std::string base_url;               // "http://127.0.0.1:8080"
    std::string model;                  // the name the client sends; empty: the first id served
    std::optional<std::string> api_key; // the engine's key (never in a result); none: auth skipped
    std::chrono::milliseconds timeout{60'000};
    // cache-reuse alone (prompt-sized, on its own slow timer), instead of the cheap checks.
    bool cache_reuse = false;
};

class ApiCheckRun {
public:
    // Called once, from the loop, with the results (`at` left to the caller, who knows the
    // time). It may destroy the run.
    using Done = std::function<void(app::ApiResults)>;

    ApiCheckRun(HttpClient& http, ApiRunTarget target, Done done);
    // Cancels the request in flight; `done` is then never called.
    ~ApiCheckRun();
    ApiCheckRun(const ApiCheckRun&) = delete;
    ApiCheckRun& operator=(const ApiCheckRun&) = delete;

    void start();

private:
    enum class Step {
        props,
        models,
        messages,
        stream,
        stream_repeat,
        count_tokens,
        auth_without,
        auth_with,
        cache_sample,
        cache_first,
        cache_second,
        done
    };

    void send(Step step);
    void answered(Step step, const HttpResponse& r);
    // The next step after `step`, given what came back so far.
    Step after(Step step) const;
    void add(app::ApiCheck check, std::chrono::microseconds elapsed);
    void finish();

    HttpClient& m_http;
    ApiRunTarget m_target;
    Done m_done;
    std::optional<std::uint64_t> m_request;
    std::string m_model; // sent in the requests: the target's, else the first id served
    app::ApiResults m_results;
    std::optional<app::ApiCheck> m_first_stream; // a failed first stream, waiting for its repeat
    std::optional<HttpResponse> m_auth_without;
    int m_cache_words = 0;
    std::optional<HttpResponse> m_cache_first;
};

} // namespace halo::checkd
