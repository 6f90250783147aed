#include "daemon/checkd/engine_checks.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

using namespace halo;
using namespace halo::checkd;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view k_answer = R"({
  "choices": [{"message": {"role": "assistant", "content": "1, 2, 3, 4, 5"}}],
  "usage": {"prompt_tokens": 14, "completion_tokens": 10, "total_tokens": 24},
  "timings": {"prompt_per_second": 512.5, "predicted_per_second": 40.25}
})";

} // namespace

TEST_CASE("engine checks: a 200 with generated tokens passes with its figures", "[daemon][engine_checks]")
{
    const app::SmokeFigures f = smoke_figures_from_answer(200, k_answer, 1500us, "");
    CHECK(f.ok);
    CHECK(f.error.empty());
    CHECK(f.latency_ms == Approx(1.5));
    CHECK(f.prompt_tokens == 14);
    CHECK(f.completion_tokens == 10);
    CHECK(f.prompt_per_second == Approx(512.5));
    CHECK(f.predicted_per_second == Approx(40.25));
    CHECK(f.at.empty()); // the caller stamps the time
}

TEST_CASE("engine checks: a 200 with zero tokens fails", "[daemon][engine_checks]")
{
    const auto f =
        smoke_figures_from_answer(200, R"({"usage": {"prompt_tokens": 14, "completion_tokens": 0}})", 2ms, "");
    CHECK_FALSE(f.ok);
    CHECK(f.error == "the answer held no generated tokens");
    CHECK(f.prompt_tokens == 14);
    CHECK(f.completion_tokens == 0);
    CHECK(f.latency_ms == Approx(2.0));

    // No usage at all, or usage of the wrong type, reads as no tokens too.
    CHECK(smoke_figures_from_answer(200, "{}", 0us, "").error == "the answer held no generated tokens");
    CHECK(smoke_figures_from_answer(200, R"({"usage": 7, "timings": "fast"})", 0us, "").error ==
          "the answer held no generated tokens");
    CHECK(smoke_figures_from_answer(200, R"({"usage": {"completion_tokens": "10"}})", 0us, "").error ==
          "the answer held no generated tokens");
}

TEST_CASE("engine checks: an answer that is no JSON object fails", "[daemon][engine_checks]")
{
    for (std::string_view body : {"<html>Bad Gateway</html>", "", "[1, 2]", "{\"usage\": "}) {
        INFO(body);
        const auto f = smoke_figures_from_answer(200, body, 1ms, "");
        CHECK_FALSE(f.ok);
        CHECK(f.error == "the answer was not JSON");
        CHECK(f.completion_tokens == 0);
    }
}

TEST_CASE("engine checks: an HTTP error fails with its status, whatever the body", "[daemon][engine_checks]")
{
    const auto f = smoke_figures_from_answer(503, k_answer, 3ms, "");
    CHECK_FALSE(f.ok);
    CHECK(f.error == "HTTP 503");
    CHECK(f.completion_tokens == 0);
    CHECK(f.latency_ms == Approx(3.0));
}

TEST_CASE("engine checks: a transport error fails with its reason", "[daemon][engine_checks]")
{
    const auto f = smoke_figures_from_answer(0, "", 60s, "Timeout was reached");
    CHECK_FALSE(f.ok);
    CHECK(f.error == "Timeout was reached");
    CHECK(f.latency_ms == Approx(60000.0));
}

TEST_CASE("engine checks: absurd token counts are bounded, not undefined", "[daemon][engine_checks]")
{
    const auto f =
        smoke_figures_from_answer(200, R"({"usage": {"completion_tokens": 1e300, "prompt_tokens": -1e300}})", 0us, "");
    CHECK(f.ok);
    CHECK(f.completion_tokens > 0);
    CHECK(f.prompt_tokens < 0);
}

TEST_CASE("engine checks: health requests wait 2 s for readiness, the liveness interval once ready",
          "[daemon][engine_checks]")
{
    using app::EngineState;
    CHECK(health_request_timeout(EngineState::starting, 30s) == 2000ms);
    CHECK(health_request_timeout(EngineState::loading, 30s) == 2000ms);
    CHECK(health_request_timeout(EngineState::ready, 5s) == 5000ms);
    CHECK(health_request_timeout(EngineState::ready, 30s) == 10000ms);
    CHECK(health_request_timeout(EngineState::unhealthy, 10ms) == 100ms);
}

TEST_CASE("engine checks: the smoke request asks for few tokens, no cache, and the alias when set",
          "[daemon][engine_checks]")
{
    auto body = nlohmann::json::parse(smoke_request_body(std::nullopt));
    CHECK(body["max_tokens"] == 10);
    CHECK(body["stream"] == false);
    CHECK(body["cache_prompt"] == false);
    CHECK(body["messages"][0]["content"] == "Count 1 to 5");
    CHECK_FALSE(body.contains("model"));
    body = nlohmann::json::parse(smoke_request_body(std::string("qwen3-coder")));
    CHECK(body["model"] == "qwen3-coder");
}

TEST_CASE("engine checks: the smoke request carries the engine's API key as a bearer token", "[daemon][engine_checks]")
{
    CHECK(smoke_request_headers(std::string("sk-local-1")) ==
          std::vector<std::string>{"Authorization: Bearer sk-local-1"});
    CHECK(smoke_request_headers(std::nullopt).empty());
}

TEST_CASE("engine checks: /slots says idle only when no slot is processing", "[daemon][engine_checks]")
{
    CHECK(slots_idle(R"([{"id":0,"is_processing":false},{"id":1,"is_processing":false}])"));
    CHECK_FALSE(slots_idle(R"([{"id":0,"is_processing":false},{"id":1,"is_processing":true}])"));
    CHECK_FALSE(slots_idle(R"([{"id":0}])"));
    CHECK_FALSE(slots_idle(R"([{"id":0,"is_processing":"no"}])"));
    CHECK_FALSE(slots_idle("[]"));
    CHECK_FALSE(slots_idle(R"({"error":{"code":501}})"));
    CHECK_FALSE(slots_idle("not json"));
}
