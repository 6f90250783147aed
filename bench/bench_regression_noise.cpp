// bench_regression_noise: the regression alarm's false alarms on noisy smoke runs, and that it
// still sees a real slow-down.
//
//   bench_regression_noise [--threshold 0.7] [FIGURES]
//
// Without FIGURES: 50 smoke runs of 18 t/s generation and 120 t/s prompt with noise, for each
// pattern: alternating ±20%, uniform ±20% (1000 seeds), uniform ±30% (1000 seeds); then the same
// series with the figures falling to a quarter after run 30 (the model replaced by one ~4×
// larger), which must give exactly one event. FIGURES: one "generation prompt" pair per line
// (real smoke runs, from bench/regression_bench.sh), run through the same detector.

#include "daemon/speed_regression.hpp"

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

using halo::app::record_speed;
using halo::app::SpeedTrack;

namespace {

struct Run {
    double generation;
    double prompt;
};

int events(const std::vector<Run>& runs, double threshold, int* first_at = nullptr)
{
    SpeedTrack track;
    int n = 0;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        if (record_speed(track, "/m.gguf", {runs[i].generation, runs[i].prompt, std::to_string(i)}, threshold)) {
            if (n == 0 && first_at) *first_at = static_cast<int>(i);
            ++n;
        }
    }
    return n;
}

std::vector<Run> series(int n, double spread, std::mt19937* rng, bool alternate, int slow_from = -1)
{
    std::uniform_real_distribution<double> noise(-spread, spread);
    std::vector<Run> runs;
    for (int i = 0; i < n; ++i) {
        const double g = alternate ? (i % 2 ? 1 - spread : 1 + spread) : 1 + noise(*rng);
        const double p = alternate ? (i % 2 ? 1 + spread : 1 - spread) : 1 + noise(*rng);
        const double scale = slow_from >= 0 && i >= slow_from ? 0.25 : 1.0;
        runs.push_back({18 * g * scale, 120 * p * scale});
    }
    return runs;
}

} // namespace

int main(int argc, char** argv)
{
    double threshold = halo::app::k_default_regression_threshold;
    std::string file;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--threshold" && i + 1 < argc) threshold = std::atof(argv[++i]);
        else file = a;
    }
    if (!file.empty()) {
        std::ifstream in(file);
        if (!in) {
            std::fprintf(stderr, "bench_regression_noise: error: Failed to read '%s'\n", file.c_str());
            return 1;
        }
        std::vector<Run> runs;
        Run r{};
        while (in >> r.generation >> r.prompt) runs.push_back(r);
        std::printf("real smoke runs: %zu, false alarms: %d (goal 0)\n", runs.size(), events(runs, threshold));
        return 0;
    }
    const int n = 50;
    std::printf("threshold %.0f%%, %d smoke runs per series\n", threshold * 100, n);
    std::printf("%-28s %8s %14s %14s\n", "noise", "series", "false alarms", "series w/ any");
    {
        const int fa = events(series(n, 0.2, nullptr, true), threshold);
        std::printf("%-28s %8d %14d %14d\n", "alternating ±20%", 1, fa, fa > 0 ? 1 : 0);
    }
    for (double spread : {0.2, 0.3}) {
        int total = 0, any = 0;
        for (unsigned seed = 1; seed <= 1000; ++seed) {
            std::mt19937 rng(seed);
            const int fa = events(series(n, spread, &rng, false), threshold);
            total += fa;
            any += fa > 0;
        }
        std::printf("%-28s %8d %14d %14d\n", fmt::format("uniform ±{:.0f}%", spread * 100).c_str(), 1000, total, any);
    }
    // Detection: the figures fall to a quarter at run 30.
    int detected_once = 0, first_sum = 0;
    for (unsigned seed = 1; seed <= 1000; ++seed) {
        std::mt19937 rng(seed);
        int first = -1;
        const int ev = events(series(n, 0.2, &rng, false, 30), threshold, &first);
        detected_once += ev == 1;
        if (first >= 0) first_sum += first - 30 + 1;
    }
    std::printf("slow-down to 25%% at run 30 (uniform ±20%%): exactly one event in %d of 1000 series, after %.1f slow "
                "runs on average\n",
                detected_once, detected_once ? static_cast<double>(first_sum) / detected_once : 0.0);
    return 0;
}
