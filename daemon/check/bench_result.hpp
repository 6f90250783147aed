#pragma once
// `halo-check bench`'s figures as plain data: what one request's answer says (llama-server's
// `timings`), the summaries of repeated runs, the time to fill the context extrapolated from the
// measured depths, and the result as JSON, as a table and side by side with another. Pure: the
// requests and readings are in bench_measure.hpp, so every figure is tested with plain values.

#include "common/result.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace halo::check {

// llama-server's `timings` of one answer.
struct ServerTimings {
    long prompt_n = 0;
    double prompt_ms = 0;
    long predicted_n = 0;
    double predicted_ms = 0;
    long cache_n = 0;
    double prompt_per_second() const { return prompt_ms > 0 ? prompt_n * 1000.0 / prompt_ms : 0; }
    double predicted_per_second() const { return predicted_ms > 0 ? predicted_n * 1000.0 / predicted_ms : 0; }
};

// The timings of an answer (`timings` of a /completion or chat answer, or of a stream's last
// chunk). An error for an answer without them, with zero generated tokens when `need_generated`,
// or with absurd values (negative, not finite, faster than 10 million tokens/s, a prompt or a
// generation that took over a day): "what the engine said, and why it cannot be a figure".
Result<ServerTimings> timings_from_answer(const nlohmann::json& answer, bool need_generated);

struct Spread {
    double median = 0;
    double min = 0;
    double max = 0;
    std::size_t n = 0;
};
Spread spread_of(std::vector<double> values);

// One prompt-processing measurement at one depth.
struct DepthFigure {
    long depth = 0; // tokens asked for
    ServerTimings timings;
    double wall_ms = 0; // the request as the client saw it
};

// Seconds to process `context` prompt tokens, from the measured depths: t(d) = a·d + b·d² fitted
// by least squares (attention's cost grows with the depth), b kept ≥ 0; a single depth is a
// straight line through it. nullopt without a usable depth or context.
std::optional<double> fill_seconds(const std::vector<DepthFigure>& depths, long context);

struct MemoryReading {
    std::optional<std::uint64_t> rss_bytes; // the engine's processes, /proc/PID/status VmRSS
    std::optional<std::uint64_t> gtt_bytes; // amdgpu mem_info_gtt_used, all cards
    std::optional<std::uint64_t> vram_bytes;
};

struct BenchResult {
    std::string at; // RFC 3339
    std::string url;
    int runs = 0;
    long context = 0; // the engine's n_ctx; 0 when unknown
    // The field report's request: non-stream, max_tokens 10.
    std::vector<double> request_ms;
    std::vector<ServerTimings> request_timings;
    // Streamed generation.
    std::vector<double> first_token_ms;
    std::vector<double> stream_ms;
    std::vector<ServerTimings> stream_timings;
    std::vector<DepthFigure> depths;
    std::vector<std::string> notes; // depths capped by the context …
    MemoryReading memory_before;
    MemoryReading memory_peak;
    // The facts that identify the configuration (model, image, flags, kernel, firmware, backend).
    std::map<std::string, std::string> config;
    // The client's time around the engine's own: requests' wall time, and the engine's timings.
    double wall_ms = 0;
    double engine_ms = 0;
};

// Which facts the result keeps as its configuration (engine.model.*, engine.image*, engine flags,
// kernel.release, gpu.*.firmware.*, engine.backend …).
bool is_config_key(std::string_view key);

nlohmann::ordered_json to_json(const BenchResult& r);
// A saved result; an error naming `origin` and what is wrong with it.
Result<BenchResult> bench_from_json(const nlohmann::json& j, std::string_view origin);

std::string format_table(const BenchResult& r);
// Two results side by side with B/A ratios, then the configuration facts that differ.
std::string format_compare(const BenchResult& a, const BenchResult& b, std::string_view name_a,
                           std::string_view name_b);

// Headline figures, for tables and comparisons; 0 when not measured.
double median_request_ms(const BenchResult& r);
double median_first_token_ms(const BenchResult& r);
double median_generation_per_second(const BenchResult& r);

} // namespace halo::check
