#include "daemon/checkd/api_check_run.hpp"

#include "daemon/checkd/callback_guard.hpp"
#include "daemon/checkd/engine_checks.hpp"

#include <fmt/core.h>

#include <utility>

namespace halo::checkd {

using app::ApiAnswer;
using app::ApiCheck;
using app::ApiCheckStatus;
using std::chrono::microseconds;

namespace {

ApiAnswer answer_of(const HttpResponse& r) { return ApiAnswer{r.status, r.body}; }

const char* what_of(int step)
{
    static const char* const what[] = {"GET /props",
                                       "GET /v1/models",
                                       "POST /v1/messages",
                                       "POST /v1/messages stream",
                                       "POST /v1/messages stream, sent again",
                                       "POST /v1/messages/count_tokens",
                                       "a request without the key",
                                       "a request with the key",
                                       "POST /v1/messages/count_tokens of the cache sample",
                                       "the first call of the cache-reuse pair",
                                       "the second call of the cache-reuse pair"};
    return what[step];
}

// The check a step's answer goes to (props: the first check, which it precedes).
const char* check_of(int step)
{
    static const char* const id[] = {"models",          "models",       "messages",   "messages-stream",
                                     "messages-stream", "count-tokens", "auth",       "auth",
                                     "cache-reuse",     "cache-reuse",  "cache-reuse"};
    return id[step];
}

} // namespace

ApiCheckRun::ApiCheckRun(HttpClient& http, ApiRunTarget target, Done done)
    : m_http(http), m_target(std::move(target)), m_done(std::move(done)), m_model(m_target.model)
{}

ApiCheckRun::~ApiCheckRun()
{
    if (m_request) m_http.cancel(*m_request);
}

void ApiCheckRun::start() { send(Step::props); }

void ApiCheckRun::send(Step step)
{
    if (step == Step::done) return finish();
    std::string path = "/v1/messages";
    std::string body;
    std::vector<std::string> headers = smoke_request_headers(m_target.api_key);
    switch (step) {
    case Step::props: path = "/props"; break;
    case Step::models: path = "/v1/models"; break;
    case Step::messages:
    case Step::auth_with: body = app::messages_request(m_model, false).dump(); break;
    case Step::auth_without:
        body = app::messages_request(m_model, false).dump();
        headers.clear();
        break;
    case Step::stream:
    case Step::stream_repeat: body = app::messages_request(m_model, true).dump(); break;
    case Step::count_tokens:
        path = "/v1/messages/count_tokens";
        body = app::count_tokens_request(m_model).dump();
        break;
    case Step::cache_sample:
        path = "/v1/messages/count_tokens";
        body = app::cache_sample_request(m_model).dump();
        break;
    case Step::cache_first: body = app::billing_request(m_model, app::k_cache_nonce_first, m_cache_words).dump(); break;
    case Step::cache_second:
        body = app::billing_request(m_model, app::k_cache_nonce_second, m_cache_words).dump();
        break;
    case Step::done: break;
    }
    auto id =
        m_http.request(m_target.base_url + path, body, headers, m_target.timeout, [this, step](const HttpResponse& r) {
            // A throw here must still end the run: the results so far, with the error said.
            guard_callback(
                "api_check_run.answered", 0, [&] { answered(step, r); },
                [&](std::string_view what) {
                    m_results.checks.push_back(app::transport_failure(check_of(static_cast<int>(step)),
                                                                      what_of(static_cast<int>(step)),
                                                                      fmt::format("internal error: {}", what)));
                    finish();
                });
        });
    if (!id) {
        HttpResponse failed;
        failed.error = id.error().message;
        return answered(step, failed);
    }
    m_request = *id;
}

void ApiCheckRun::add(ApiCheck check, microseconds elapsed)
{
    check.ms += static_cast<long>(elapsed.count() / 1000);
    m_results.checks.push_back(std::move(check));
}

void ApiCheckRun::answered(Step step, const HttpResponse& r)
{
    m_request.reset();
    const std::string what = what_of(static_cast<int>(step));
    const bool answered = r.status != 0;
    switch (step) {
    case Step::props:
        m_results.props = app::props_from_answer(answer_of(r));
        if (m_target.cache_reuse) {
            if (auto small = app::cache_reuse_context_too_small(m_results.props.n_ctx)) add(*small, r.elapsed);
        }
        break;
    case Step::models:
        if (m_model.empty()) m_model = app::first_served_model(answer_of(r));
        add(answered ? app::judge_models(answer_of(r), m_target.model)
                     : app::transport_failure("models", what, r.error),
            r.elapsed);
        break;
    case Step::messages:
        add(answered ? app::judge_messages(answer_of(r)) : app::transport_failure("messages", what, r.error),
            r.elapsed);
        break;
    case Step::stream:
    case Step::stream_repeat: {
        const std::vector<std::string> data = app::sse_data_lines(r.body);
        ApiCheck c = !answered && data.empty() ? app::transport_failure("messages-stream", what, r.error)
                                               : app::judge_messages_stream(answered ? r.status : 200, data, answered);
        if (!answered && !data.empty()) c.detail += ": " + r.error;
        c.ms = static_cast<long>(r.elapsed.count() / 1000);
        // Only a stream that came to its end is worth a repeat: a timeout would cost one more.
        if (step == Step::stream && c.status == ApiCheckStatus::fail && answered) {
            m_first_stream = std::move(c);
        } else if (step == Step::stream_repeat && m_first_stream) {
            m_results.checks.push_back(app::judge_repeated(*m_first_stream, c));
        } else {
            m_results.checks.push_back(std::move(c));
        }
        break;
    }
    case Step::count_tokens:
        add(answered ? app::judge_count_tokens(answer_of(r)) : app::transport_failure("count-tokens", what, r.error),
            r.elapsed);
        break;
    case Step::auth_without: m_auth_without = r; break;
    case Step::auth_with:
        if (!m_auth_without || m_auth_without->status == 0)
            add(app::transport_failure("auth", what_of(static_cast<int>(Step::auth_without)),
                                       m_auth_without ? m_auth_without->error : std::string("not sent")),
                r.elapsed);
        else if (!answered) add(app::transport_failure("auth", what, r.error), r.elapsed);
        else add(app::judge_auth(answer_of(*m_auth_without), answer_of(r)), m_auth_without->elapsed + r.elapsed);
        break;
    case Step::cache_sample:
        m_cache_words = app::cache_prefix_words(app::cache_prefix_tokens(m_results.props.n_ctx), answer_of(r));
        break;
    case Step::cache_first:
        if (!answered) add(app::transport_failure("cache-reuse", what, r.error), r.elapsed);
        else m_cache_first = r;
        break;
    case Step::cache_second:
        if (!answered) add(app::transport_failure("cache-reuse", what, r.error), r.elapsed);
        else if (m_cache_first)
            add(app::judge_cache_answers(answer_of(*m_cache_first), answer_of(r),
                                         static_cast<double>(r.elapsed.count()) / 1000.0, m_results.props.n_ctx),
                m_cache_first->elapsed + r.elapsed);
        break;
    case Step::done: break;
    }
    send(after(step));
}

ApiCheckRun::Step ApiCheckRun::after(Step step) const
{
    switch (step) {
    case Step::props:
        if (!m_target.cache_reuse) return Step::models;
        return m_results.checks.empty() ? Step::cache_sample : Step::done; // a skip: too small
    case Step::cache_sample: return Step::cache_first;
    case Step::cache_first: return m_cache_first ? Step::cache_second : Step::done;
    case Step::cache_second: return Step::done;
    case Step::models: return Step::messages;
    case Step::messages: return Step::stream;
    case Step::stream:
        if (m_first_stream) return Step::stream_repeat;
        return Step::count_tokens;
    case Step::stream_repeat: return Step::count_tokens;
    case Step::count_tokens:
        if (m_target.api_key) return Step::auth_without;
        return Step::done;
    case Step::auth_without: return Step::auth_with;
    case Step::auth_with:
    case Step::done: break;
    }
    return Step::done;
}

void ApiCheckRun::finish()
{
    bool has_auth = false;
    for (const ApiCheck& c : m_results.checks) has_auth = has_auth || c.id == "auth";
    if (!has_auth && !m_target.api_key && !m_target.cache_reuse)
        m_results.checks.push_back(ApiCheck{"auth", ApiCheckStatus::skip,
                                            "the engine takes no API key (no --api-key, --api-key-file or [engine] "
                                            "api_key_file)",
                                            "", 0});
    // Last: `done` may destroy this run.
    Done done = std::move(m_done);
    m_done = nullptr;
    if (done) done(std::move(m_results));
}

} // namespace halo::checkd
