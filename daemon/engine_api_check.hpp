#pragma once
// `halo-check engine-check`: what Claude Code sends to the engine and how its answers are judged
// (docs/engine-check.md). Pure: request bodies in, answers (status and body) judged by plain
// functions, so every verdict is unit-tested with recorded answers; the requests themselves are
// sent by daemon/check/cli_engine_check.cpp.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace halo::app {

enum class ApiCheckStatus { pass, warn, fail, skip };
std::string_view to_string(ApiCheckStatus status);

struct ApiCheck {
    std::string id;
    ApiCheckStatus status = ApiCheckStatus::skip;
    std::string detail; // what was sent and what came back
    std::string fix;    // empty for a pass
    long ms = 0;
};

// One answer from the engine: the HTTP status and the body as it came.
struct ApiAnswer {
    long status = 0;
    std::string body;
};

struct EngineCheckReport {
    std::string url;
    std::string build; // /props build_info, or empty
    std::string model;
    long n_ctx = 0;
    std::vector<ApiCheck> checks;
};

// The check ids in the order they run; stable (documented in docs/engine-check.md).
const std::vector<std::string>& engine_check_ids();

// The request bodies, shaped as Claude Code sends them.
nlohmann::json messages_request(const std::string& model, bool stream);
nlohmann::json tools_request(const std::string& model);
nlohmann::json tool_result_request(const std::string& model, const nlohmann::json& assistant_content);
nlohmann::json prefill_request(const std::string& model);
nlohmann::json thinking_request(const std::string& model);
// Two calls of the cache-reuse pair: the same ~`words`-word system prompt after a billing-header
// line whose nonce is `nonce`.
nlohmann::json billing_request(const std::string& model, const std::string& nonce, int words);

// The error text of an answer: error.message of a JSON body, else the body's start, said to be
// no JSON (an HTML page from a proxy, a truncated answer).
std::string answer_error_text(const ApiAnswer& answer);

ApiCheck judge_models(const ApiAnswer& answer, const std::string& model);
ApiCheck judge_messages(const ApiAnswer& answer);
// The data: lines of a streamed answer in the order they came; `finished`: the stream ended
// (false: cut off or timed out).
ApiCheck judge_messages_stream(long status, const std::vector<std::string>& data_lines, bool finished);
// A check that failed and was sent once more: the repeat's pass makes the pair a warn that says
// "intermittent:" with the first failure's detail (a client then fails now and then, which is
// worth knowing but is no steady fail); a second fail stays a fail with both details.
ApiCheck judge_repeated(const ApiCheck& first, const ApiCheck& repeat);
// `followup` is judged only when the first answer held a valid tool call. `template_name` names
// the chat template in a fail; `renders_tools`: /props chat_template_caps.supports_tools (true
// when the engine does not say), so an answer without a call from such a template is a fail.
ApiCheck judge_tools(const ApiAnswer& first, const ApiAnswer* followup, const std::string& template_name,
                     bool renders_tools = true);
ApiCheck judge_prefill(const ApiAnswer& answer);
ApiCheck judge_thinking(const ApiAnswer& answer);
ApiCheck judge_count_tokens(const ApiAnswer& answer);
// `without`: a request with no key; `with`: one with Claude Code's token.
ApiCheck judge_auth(const ApiAnswer& without, const ApiAnswer& with);
// The second call of the pair: its prompt tokens, those the cache gave back, and its prompt time;
// the cost is extrapolated to `n_ctx`.
ApiCheck judge_cache_reuse(long prompt_n, long cache_n, double prompt_ms, long n_ctx);

// 0 all pass (or skip), 1 a warn, 2 a fail.
int engine_check_exit_code(const std::vector<ApiCheck>& checks);
std::string engine_check_verdict(const std::vector<ApiCheck>& checks);
nlohmann::json to_json(const EngineCheckReport& report);
std::string format_engine_check(const EngineCheckReport& report);

} // namespace halo::app
