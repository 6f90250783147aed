#pragma once
// The HTTP requests the supervisor sends the engine, and how it reads their answers: GET
// /health (llama-server answers 503 while the model loads, 200 once it serves) and the
// generation smoke test, a short chat completion whose usage and timings give the figures the
// state file keeps.

#include "daemon/checkd/http_client.hpp"
#include "daemon/config.hpp"
#include "daemon/engine_status.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace halo::checkd {

// How long one health request may take: 2 s while waiting for readiness; the liveness interval
// (within 100 ms … 10 s) once ready, so a slow answer does not overlap the next poll.
std::chrono::milliseconds health_request_timeout(app::EngineState state, app::Duration liveness_interval);

Result<std::uint64_t> request_health(HttpClient& http, const app::EngineConfig& config, app::EngineState state,
                                     HttpCallback done);

// The chat request: "Count 1 to 5", at most 10 tokens, the prompt cache off so every run
// measures prompt processing; `model` when the command names an alias.
std::string smoke_request_body(const std::optional<std::string>& alias);

// "Authorization: Bearer KEY" when the engine wants a key (llama-server --api-key); none otherwise.
std::vector<std::string> smoke_request_headers(const std::optional<std::string>& api_key);

Result<std::uint64_t> request_smoke(HttpClient& http, const app::EngineConfig& config,
                                    const std::optional<std::string>& api_key, HttpCallback done);

// True when llama-server's /slots answer shows no slot processing a request (an array of slots,
// each with "is_processing" false). Anything else (not JSON, no array, a slot without the field)
// is false: the periodic smoke test runs only when the engine says it is idle.
bool slots_idle(std::string_view body);

// The figures of one smoke test from its answer: ok when a 200 carries generated tokens
// (usage.completion_tokens), the rates from llama-server's timings. `error` is the transport's
// reason when `status` is 0. `at` is left for the caller, who knows the time.
app::SmokeFigures smoke_figures_from_answer(long status, std::string_view body, std::chrono::microseconds elapsed,
                                            std::string_view error);

} // namespace halo::checkd
