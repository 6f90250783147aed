#pragma once
// What both programs share about the engine API checks beyond the judges of
// daemon/engine_api_check.hpp: reading /props, /v1/models and a streamed answer, the
// count_tokens body; and what halo-checkd does with a run's results: the state file's "api"
// block, the engine.api.* facts, the status line and which changes are events. Pure: answers
// and results in, plain values out (docs/engine-check.md).

#include "daemon/config.hpp"
#include "daemon/engine_api_check.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace halo::app {

// What /props says about the running engine; defaults where it says nothing.
struct EngineProps {
    std::string build;                // build_info: "b8763-ff5ef8278"
    std::optional<long> build_number; // 8763
    std::string template_name;        // the chat template's first line (it has no name in /props)
    bool renders_tools = true;        // chat_template_caps.supports_tools
    long n_ctx = 0;                   // default_generation_settings.n_ctx
};
EngineProps props_from_answer(const ApiAnswer& answer);

// The number of a llama.cpp build: "b8763-ff5ef8278" → 8763, "b8763" → 8763; none for anything
// else ("unknown", "8763", "b-1").
std::optional<long> build_number_of(std::string_view build_info);

// The first id /v1/models serves, or empty.
std::string first_served_model(const ApiAnswer& answer);

// The count_tokens body: the messages request without max_tokens (the API refuses it there).
nlohmann::json count_tokens_request(const std::string& model);

// The payload of an SSE "data:" line (one leading space dropped), none for other lines.
std::optional<std::string> sse_data(std::string_view line);
// Every data: payload of a whole SSE body, in order (CRLF or LF line ends).
std::vector<std::string> sse_data_lines(std::string_view body);

// A request that got no HTTP answer (refused, timed out, cut off): a fail naming what was sent
// and why nothing came back.
ApiCheck transport_failure(const std::string& id, const std::string& what, const std::string& error);

// cache-reuse, in steps both programs send: a skip when the context cannot hold a ~1K-token
// prefix; the prefix's size (half the context, 1K to 8K tokens); the sample whose count gives the
// tokenizer's tokens per word; the words of each call; the judgement of the second answer.
std::optional<ApiCheck> cache_reuse_context_too_small(long n_ctx);
long cache_prefix_tokens(long n_ctx);
inline constexpr int k_cache_sample_words = 256;
nlohmann::json cache_sample_request(const std::string& model);
// From the sample's count_tokens answer (one token a word when it has none).
int cache_prefix_words(long target_tokens, const ApiAnswer& counted);
// The two calls' answers; `wall_ms`: the second's time, when its answer has no timings.
ApiCheck judge_cache_answers(const ApiAnswer& first, const ApiAnswer& second, double wall_ms, long n_ctx);
inline constexpr const char* k_cache_nonce_first = "a1b2c";
inline constexpr const char* k_cache_nonce_second = "f9e8d";

// The checks halo-checkd runs after each ready: the cheap ones, in this order. cache-reuse
// (prompt-sized) and the generation-heavy ones stay with `halo-check engine-check`.
const std::vector<std::string>& daemon_api_check_ids();

// One run of the daemon's checks.
struct ApiResults {
    std::string at; // RFC 3339, when the run ended
    EngineProps props;
    std::vector<ApiCheck> checks;
    // When a check kept from an earlier run was measured (see merge_api_run), by id; the others
    // were measured at `at`.
    std::map<std::string, std::string> kept_at;
    const std::string& measured_at(const std::string& id) const;
};

// What the state keeps after a run: its results, and the last run's results of the checks it
// did not measure, with the time they were measured. So a cheap run keeps the last cache-reuse
// result, which only the slow timer measures, and a cache-reuse run joins the last cheap checks.
// Without an earlier run, `run` as it is.
ApiResults merge_api_run(const ApiResults* last, ApiResults run);

// state.json's engine.api: {"at", "build", "build_number", "checks": [{"id", "status", "detail",
// "fix", "ms", "at"}]}.
nlohmann::ordered_json to_json(const ApiResults& results);
// Back from the state file (a daemon restart keeps what the last run found); none when `j` is no
// such object. Checks with an unknown status are dropped.
std::optional<ApiResults> api_results_from_json(const nlohmann::json& j);

// The facts a run gives the rules: engine.api.<id> = pass|warn|fail|skip, and engine.build /
// engine.build_number when /props said.
std::vector<std::pair<std::string, std::string>> api_facts(const ApiResults& results);

// `halo-check status`'s line: "api: 5 checks pass" (skips counted apart), else the checks that
// did not pass: "api: fail messages-stream, warn count-tokens (3 pass)".
std::string api_status_line(const ApiResults& results);

// The checks that turned fail from this run to the next: fail now, and before pass, warn, skip
// or no result (`before` null: no earlier run). A fail that stays a fail is no news.
std::vector<ApiCheck> api_new_failures(const ApiResults* before, const ApiResults& now);

// Whether halo-checkd runs the checks: always for claude-code, never for none; auto when the
// client probe found Claude Code's settings pointing at the engine
// (client.claude_code.points_at_engine = "true").
bool api_checks_wanted(ClientKind kind, const std::optional<std::string>& points_at_engine);

} // namespace halo::app
