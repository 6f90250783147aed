#pragma once
// Whether the engine got slower: the smoke tests' figures kept per model path, and the decision
// that a slow-down is real. Pure (no clock, no I/O), so noisy and slow series are tested as data.
//
// A regression is the median of the last 3 runs below `threshold` × the last good figure, in
// generation or in prompt speed. The median of 3 means one slow run is never one. The last good
// figure is the mean of up to 9 runs judged good: the median of a series that alternates ±20%
// jumps between +20% and −20% itself, which alone would cross 70%; the mean stays near the
// centre. A run below the threshold itself never becomes a good one, slow window or not, so the
// good figure and the facts kept with it stay those from before a slow-down. A regression is
// reported once; the track stays regressed (and the baseline untouched)
// until a median is good again.

#include <deque>
#include <map>
#include <optional>
#include <string>

namespace halo::app {

struct SpeedSample {
    double generation = 0; // tokens/s (timings.predicted_per_second)
    double prompt = 0;     // tokens/s (timings.prompt_per_second)
    std::string at;        // RFC 3339
};

struct SpeedTrack {
    std::deque<SpeedSample> recent; // the last 3 runs, newest last
    std::deque<SpeedSample> good;   // the last runs judged good (at most 9), newest last
    bool regressed = false;
};

// What a regression event says: the medians now and the good figures before.
struct SpeedRegression {
    std::string model_path;
    double generation = 0;
    double prompt = 0;
    double good_generation = 0;
    double good_prompt = 0;
    std::string good_since; // when the newest good run was
    bool generation_slow = false;
    bool prompt_slow = false;
};

inline constexpr std::size_t k_regression_window = 3;
inline constexpr std::size_t k_good_runs_kept = 9;
inline constexpr double k_default_regression_threshold = 0.7;

// Median and mean of one figure; 0 for none.
double median_generation(const std::deque<SpeedSample>& runs);
double median_prompt(const std::deque<SpeedSample>& runs);
double mean_generation(const std::deque<SpeedSample>& runs);
double mean_prompt(const std::deque<SpeedSample>& runs);

// Adds one successful smoke run to its model's track; the regression when this run makes one
// (once per slow-down). Runs with a zero or non-finite figure are ignored: no answer is no speed.
std::optional<SpeedRegression> record_speed(SpeedTrack& track, const std::string& model_path, const SpeedSample& sample,
                                            double threshold);

// One track per model path.
using SpeedHistory = std::map<std::string, SpeedTrack>;

} // namespace halo::app
