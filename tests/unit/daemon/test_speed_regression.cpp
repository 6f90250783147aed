#include "daemon/speed_regression.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <vector>

using halo::app::record_speed;
using halo::app::SpeedSample;
using halo::app::SpeedTrack;

namespace {

SpeedSample run(double generation, double prompt = 100.0) { return {generation, prompt, "2026-01-12T09:00:00Z"}; }

// How many regression events a series of generation figures makes.
int events(SpeedTrack& track, const std::vector<double>& generation, double prompt = 100.0)
{
    int n = 0;
    for (double g : generation) n += record_speed(track, "/models/m.gguf", run(g, prompt), 0.7) ? 1 : 0;
    return n;
}

} // namespace

TEST_CASE("speed regression: steady figures make none", "[daemon][speed_regression]")
{
    SpeedTrack t;
    CHECK(events(t, {18, 18, 18, 18, 18, 18}) == 0);
    CHECK_FALSE(t.regressed);
    CHECK(t.good.size() == 6);
}

TEST_CASE("speed regression: one slow run is not a regression", "[daemon][speed_regression]")
{
    SpeedTrack t;
    CHECK(events(t, {18, 18, 18, 18, 4, 18, 18, 4, 18}) == 0);
    CHECK_FALSE(t.regressed);
}

TEST_CASE("speed regression: noise alternating plus and minus 20 percent makes none", "[daemon][speed_regression]")
{
    SpeedTrack t;
    std::vector<double> series;
    series.reserve(50);
    for (int i = 0; i < 50; ++i) series.push_back(i % 2 ? 18 * 0.8 : 18 * 1.2);
    CHECK(events(t, series) == 0);
    SpeedTrack u; // starting low
    series.clear();
    for (int i = 0; i < 50; ++i) series.push_back(i % 2 ? 18 * 1.2 : 18 * 0.8);
    CHECK(events(u, series) == 0);
}

TEST_CASE("speed regression: a lasting slow-down is reported exactly once", "[daemon][speed_regression]")
{
    SpeedTrack t;
    CHECK(events(t, {18, 18, 18, 18}) == 0);
    CHECK_FALSE(record_speed(t, "/m", run(4.5), 0.7)); // [18 18 4.5]: median 18
    const auto r = record_speed(t, "/m", run(4.5), 0.7);
    REQUIRE(r);
    CHECK(r->model_path == "/m");
    CHECK(r->generation == Approx(4.5));
    CHECK(r->good_generation == Approx(18.0)); // the first slow run did not join the good ones
    CHECK(r->generation_slow);
    CHECK_FALSE(r->prompt_slow);
    CHECK(t.regressed);
    CHECK(events(t, {4.5, 4.5, 4.5, 4.5}) == 0); // still slow: no second event
}

TEST_CASE("speed regression: recovery ends it, and a later slow-down is a new event", "[daemon][speed_regression]")
{
    SpeedTrack t;
    CHECK(events(t, {18, 18, 18, 18, 4, 4}) == 1);
    CHECK(events(t, {18, 18}) == 0);
    CHECK_FALSE(t.regressed);
    CHECK(events(t, {18, 18, 4, 4}) == 1);
}

TEST_CASE("speed regression: a slower prompt alone is one", "[daemon][speed_regression]")
{
    SpeedTrack t;
    CHECK(events(t, {18, 18, 18, 18}, 100.0) == 0);
    CHECK(events(t, {18, 18}, 20.0) == 1);
}

TEST_CASE("speed regression: the threshold is the boundary", "[daemon][speed_regression]")
{
    SpeedTrack t;
    CHECK(events(t, {10, 10, 10, 10}) == 0);
    CHECK(events(t, {7.01, 7.01, 7.01}) == 0); // 70.1% of 10
    SpeedTrack u;
    CHECK(events(u, {10, 10, 10, 10}) == 0);
    CHECK(events(u, {6.9, 6.9}) == 1);
}

TEST_CASE("speed regression: too few runs are not judged", "[daemon][speed_regression]")
{
    SpeedTrack t;
    CHECK(events(t, {18, 1, 1}) == 0); // no baseline of 3 good runs yet
}

TEST_CASE("speed regression: zero, negative and non-finite figures are ignored", "[daemon][speed_regression]")
{
    SpeedTrack t;
    CHECK(events(t, {18, 18, 18, 0, -5, std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::quiet_NaN()}) == 0);
    CHECK(t.recent.size() == 3);
    CHECK(t.good.size() == 3);
}

TEST_CASE("speed regression: medians and means", "[daemon][speed_regression]")
{
    std::deque<SpeedSample> runs{run(3, 30), run(1, 10), run(2, 20), run(10, 100)};
    CHECK(halo::app::median_generation(runs) == Approx(2.5));
    CHECK(halo::app::median_prompt(runs) == Approx(25));
    CHECK(halo::app::mean_generation(runs) == Approx(4));
    CHECK(halo::app::median_generation({}) == 0);
}
