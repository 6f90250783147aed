#include "daemon/checkd/engine_checks.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <limits>

namespace halo::checkd {

using std::chrono::milliseconds;

namespace {

double number_in(const nlohmann::json& object, const char* key)
{
    if (!object.is_object()) return 0.0;
    const auto it = object.find(key);
    return it != object.end() && it->is_number() ? it->get<double>() : 0.0;
}

// A count from JSON: out-of-range values (a hostile or broken answer) must not be undefined
// behaviour in the conversion.
long count_in(const nlohmann::json& object, const char* key)
{
    constexpr double k_limit = static_cast<double>(std::numeric_limits<long>::max()) / 2;
    return static_cast<long>(std::clamp(number_in(object, key), -k_limit, k_limit));
}

} // namespace

milliseconds health_request_timeout(app::EngineState state, app::Duration liveness_interval)
{
    const bool readiness = state == app::EngineState::starting || state == app::EngineState::loading;
    return readiness ? milliseconds(2000) : std::clamp(liveness_interval, milliseconds(100), milliseconds(10000));
}

Result<std::uint64_t> request_health(HttpClient& http, const app::EngineConfig& config, app::EngineState state,
                                     HttpCallback done)
{
    return http.request(config.health_url, {}, health_request_timeout(state, config.liveness_interval),
                        std::move(done));
}

std::string smoke_request_body(const std::optional<std::string>& alias)
{
    nlohmann::ordered_json body = {{"messages", {{{"role", "user"}, {"content", "Count 1 to 5"}}}},
                                   {"max_tokens", 10},
                                   {"stream", false},
                                   // A repeated prompt hits llama-server's cache; the figure
                                   // should measure prompt processing every time.
                                   {"cache_prompt", false}};
    if (alias) body["model"] = *alias;
    return body.dump();
}

std::vector<std::string> smoke_request_headers(const std::optional<std::string>& api_key)
{
    if (!api_key) return {};
    return {"Authorization: Bearer " + *api_key};
}

Result<std::uint64_t> request_smoke(HttpClient& http, const app::EngineConfig& config,
                                    const std::optional<std::string>& api_key, HttpCallback done)
{
    return http.request(config.base_url + "/v1/chat/completions", smoke_request_body(config.alias),
                        smoke_request_headers(api_key), config.smoke_timeout, std::move(done));
}

bool slots_idle(std::string_view body)
{
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_array() || j.empty()) return false;
    for (const auto& slot : j) {
        if (!slot.is_object()) return false;
        const auto it = slot.find("is_processing");
        if (it == slot.end() || !it->is_boolean() || it->get<bool>()) return false;
    }
    return true;
}

app::SmokeFigures smoke_figures_from_answer(long status, std::string_view body, std::chrono::microseconds elapsed,
                                            std::string_view error)
{
    app::SmokeFigures f;
    f.latency_ms = static_cast<double>(elapsed.count()) / 1000.0;
    if (status != 200) {
        f.error = status ? fmt::format("HTTP {}", status) : std::string(error);
        return f;
    }
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (!j.is_object()) {
        f.error = "the answer was not JSON";
        return f;
    }
    const auto usage = j.value("usage", nlohmann::json::object());
    const auto timings = j.value("timings", nlohmann::json::object());
    f.prompt_tokens = count_in(usage, "prompt_tokens");
    f.completion_tokens = count_in(usage, "completion_tokens");
    f.prompt_per_second = number_in(timings, "prompt_per_second");
    f.predicted_per_second = number_in(timings, "predicted_per_second");
    f.ok = f.completion_tokens > 0;
    if (!f.ok) f.error = "the answer held no generated tokens";
    return f;
}

} // namespace halo::checkd
