#include "daemon/check/bench_result.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>

using namespace halo::check;
using nlohmann::json;

namespace {

json answer(double prompt_n, double prompt_ms, double predicted_n, double predicted_ms)
{
    return {{"timings",
             {{"prompt_n", prompt_n},
              {"prompt_ms", prompt_ms},
              {"predicted_n", predicted_n},
              {"predicted_ms", predicted_ms},
              {"cache_n", 0}}}};
}

DepthFigure depth(long d, double ms)
{
    DepthFigure f;
    f.depth = d;
    f.timings.prompt_n = d;
    f.timings.prompt_ms = ms;
    return f;
}

} // namespace

TEST_CASE("bench: timings give the engine's own rates", "[bench]")
{
    auto t = timings_from_answer(answer(12, 24.0, 10, 50.0), true);
    REQUIRE(t);
    CHECK(t->prompt_per_second() == Approx(500));
    CHECK(t->predicted_per_second() == Approx(200));
}

TEST_CASE("bench: zero tokens, missing and absurd timings are errors that say so", "[bench]")
{
    const double inf = std::numeric_limits<double>::infinity();
    struct Case {
        json answer;
        const char* message;
    };
    const Case cases[] = {
        {answer(12, 24, 0, 0), "generated zero tokens"},
        {json{{"choices", json::array()}}, "has no 'timings'"},
        {json{{"timings", {{"prompt_n", 1}}}}, "lack prompt_n"},
        {answer(12, -1, 10, 50), "absurd"},
        {answer(12, 24, 10, inf), "absurd"},
        {answer(12, 24, 10, 1e-9), "faster than any engine"},
        {answer(1e12, 24, 10, 50), "beyond any context"},
        {answer(12, 0, 10, 50), "faster than any engine"},
        {json::array(), "has no 'timings'"},
    };
    for (const Case& c : cases) {
        INFO(c.answer.dump());
        auto t = timings_from_answer(c.answer, true);
        REQUIRE_FALSE(t);
        CHECK_THAT(t.error().message, Catch::Contains(c.message));
    }
    // A prompt-only request (n_predict 1 may still give 0 on some builds) is fine without tokens.
    CHECK(timings_from_answer(answer(512, 100, 0, 0), false));
}

TEST_CASE("bench: median and range", "[bench]")
{
    const Spread s = spread_of({30, 10, 20, 40});
    CHECK(s.median == Approx(25));
    CHECK(s.min == 10);
    CHECK(s.max == 40);
    CHECK(s.n == 4);
    CHECK(spread_of({}).n == 0);
    CHECK(spread_of({std::nan(""), 5}).median == 5);
}

TEST_CASE("bench: the time to fill the context follows the measured depths", "[bench]")
{
    // t = 1e-3·d + 1e-8·d² seconds, measured exactly at three depths.
    auto t = [](double d) { return (1e-3 * d + 1e-8 * d * d) * 1000; };
    const std::vector<DepthFigure> quad{depth(512, t(512)), depth(4096, t(4096)), depth(16384, t(16384))};
    const auto fill = fill_seconds(quad, 200000);
    REQUIRE(fill);
    CHECK(*fill == Approx(1e-3 * 200000 + 1e-8 * 200000.0 * 200000.0).epsilon(1e-6));
    // One depth: a straight line.
    const auto line = fill_seconds({depth(1000, 500)}, 4000);
    REQUIRE(line);
    CHECK(*line == Approx(2.0));
    // Shorter runs at depth (noise): no negative curvature, the line instead.
    const auto noisy = fill_seconds({depth(1000, 1000), depth(2000, 1500)}, 4000);
    REQUIRE(noisy);
    CHECK(*noisy > 0);
    CHECK_FALSE(fill_seconds({}, 4000));
    CHECK_FALSE(fill_seconds(quad, 0));
}

TEST_CASE("bench: the configuration keeps the facts that identify it", "[bench]")
{
    for (const char* k :
         {"engine.model.path", "engine.model.file_type_name", "engine.image.digest", "engine.flash_attn",
          "kernel.release", "gpu.0.firmware.mes", "engine.backend", "engine.env.HSA_OVERRIDE"})
        CHECK(is_config_key(k));
    for (const char* k : {"gpu.0.sensor.busy", "memory.total", "gpu.0.firmware.source", "engine.port"})
        CHECK_FALSE(is_config_key(k));
}

TEST_CASE("bench: a result survives JSON, and a foreign file is refused", "[bench]")
{
    BenchResult r;
    r.at = "2026-12-01T20:00:00Z";
    r.url = "http://127.0.0.1:8080";
    r.runs = 2;
    r.context = 4096;
    r.request_ms = {40, 60};
    r.request_timings = {*timings_from_answer(answer(12, 4, 10, 20), true),
                         *timings_from_answer(answer(12, 6, 10, 30), true)};
    r.first_token_ms = {5, 7};
    r.stream_ms = {100, 120};
    r.stream_timings = r.request_timings;
    r.depths = {depth(512, 100), depth(4000, 1200)};
    r.memory_before.rss_bytes = 30u << 20;
    r.memory_peak.rss_bytes = 40u << 20;
    r.config = {{"engine.model.path", "/m.gguf"}, {"engine.model.file_type_name", "Q8_0"}};
    const json j = json::parse(to_json(r).dump());
    CHECK(j["request"]["ms"]["median"] == 50);
    CHECK(j["stream"]["generation_per_second"]["median"].get<double>() == Approx((500.0 + 1000.0 / 3) / 2));
    CHECK(j["memory"]["before"]["gtt_bytes"].is_null());
    auto back = bench_from_json(j, "a.json");
    REQUIRE(back);
    CHECK(back->request_ms == r.request_ms);
    CHECK(back->depths.size() == 2);
    CHECK(back->depths[1].timings.prompt_ms == 1200);
    CHECK(back->memory_peak.rss_bytes == r.memory_peak.rss_bytes);
    CHECK(back->config == r.config);
    CHECK(to_json(*back).dump() == to_json(r).dump());

    auto foreign = bench_from_json(json{{"verdict", "ok"}}, "report.json");
    REQUIRE_FALSE(foreign);
    CHECK_THAT(foreign.error().message, Catch::Contains("'report.json' is not a halo-check bench result"));

    const std::string table = format_table(r);
    CHECK_THAT(table,
               Catch::Contains("request (max_tokens 10)") && Catch::Contains("50.0 ms (range 40.0–60.0, 2 runs)"));
    CHECK_THAT(table, Catch::Contains("prompt processing at 512") && Catch::Contains("5120.0 t/s"));
    CHECK_THAT(table, Catch::Contains("GTT in use before / peak") && Catch::Contains("not available"));
    CHECK_THAT(table, Catch::Contains("time to fill the context (4096)"));
}

TEST_CASE("bench: two results side by side with ratios and the facts that differ", "[bench]")
{
    BenchResult a;
    a.stream_timings = {*timings_from_answer(answer(12, 4, 10, 50), true)}; // 200 t/s
    a.config = {{"engine.model.file_type_name", "Q8_0"}, {"kernel.release", "6.18.5"}};
    BenchResult b = a;
    b.stream_timings = {*timings_from_answer(answer(12, 4, 10, 100), true)}; // 100 t/s
    b.config["engine.model.file_type_name"] = "BF16";
    const std::string text = format_compare(a, b, "q8.json", "bf16.json");
    CHECK_THAT(text, Catch::Contains("generation") && Catch::Contains("200.0 t/s") && Catch::Contains("100.0 t/s") &&
                         Catch::Contains("0.50×"));
    CHECK_THAT(text, Catch::Contains("configuration that differs:\n  engine.model.file_type_name Q8_0 → BF16\n"));
    CHECK_THAT(text, !Catch::Contains("kernel.release"));
    CHECK_THAT(format_compare(a, a, "a", "a"), Catch::Contains("configuration: the same facts"));
}
