#include "daemon/speed_regression.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace halo::app {

namespace {

template <typename Get>
double median_of(const std::deque<SpeedSample>& runs, Get get)
{
    if (runs.empty()) return 0;
    std::vector<double> v;
    v.reserve(runs.size());
    for (const SpeedSample& s : runs) v.push_back(get(s));
    std::sort(v.begin(), v.end());
    const std::size_t mid = v.size() / 2;
    return v.size() % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

template <typename Get>
double mean_of(const std::deque<SpeedSample>& runs, Get get)
{
    if (runs.empty()) return 0;
    double sum = 0;
    for (const SpeedSample& s : runs) sum += get(s);
    return sum / static_cast<double>(runs.size());
}

double gen(const SpeedSample& s) { return s.generation; }
double pp(const SpeedSample& s) { return s.prompt; }

bool usable(double v) { return std::isfinite(v) && v > 0; }

} // namespace

double median_generation(const std::deque<SpeedSample>& runs) { return median_of(runs, gen); }
double median_prompt(const std::deque<SpeedSample>& runs) { return median_of(runs, pp); }
double mean_generation(const std::deque<SpeedSample>& runs) { return mean_of(runs, gen); }
double mean_prompt(const std::deque<SpeedSample>& runs) { return mean_of(runs, pp); }

std::optional<SpeedRegression> record_speed(SpeedTrack& track, const std::string& model_path, const SpeedSample& sample,
                                            double threshold)
{
    if (!usable(sample.generation) || !usable(sample.prompt)) return std::nullopt;
    track.recent.push_back(sample);
    while (track.recent.size() > k_regression_window) track.recent.pop_front();
    std::optional<SpeedRegression> news;
    // Judged only with a full window and a baseline of at least as many runs.
    if (track.recent.size() == k_regression_window && track.good.size() >= k_regression_window) {
        SpeedRegression r;
        r.model_path = model_path;
        r.generation = median_generation(track.recent);
        r.prompt = median_prompt(track.recent);
        r.good_generation = mean_generation(track.good);
        r.good_prompt = mean_prompt(track.good);
        r.good_since = track.good.back().at;
        r.generation_slow = r.generation < threshold * r.good_generation;
        r.prompt_slow = r.prompt < threshold * r.good_prompt;
        if (r.generation_slow || r.prompt_slow) {
            if (!track.regressed) news = r;
            track.regressed = true;
            return news;
        }
        track.regressed = false;
    }
    if (track.regressed) return std::nullopt;
    // A slow run in a good window is no regression, and no good figure either.
    if (track.good.size() >= k_regression_window && (sample.generation < threshold * mean_generation(track.good) ||
                                                     sample.prompt < threshold * mean_prompt(track.good))) {
        return std::nullopt;
    }
    track.good.push_back(sample);
    while (track.good.size() > k_good_runs_kept) track.good.pop_front();
    return std::nullopt;
}

} // namespace halo::app
