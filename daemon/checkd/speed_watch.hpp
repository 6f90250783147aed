#pragma once
// The regression alarm: every successful smoke test's speed goes into its model's track
// (daemon/speed_regression.hpp decides); a regression becomes one journal entry, one
// notification and a line in the state file, naming what changed in the facts since the last
// good figures. The texts are built by pure functions, tested as data.

#include "daemon/checkd/journal_event.hpp"
#include "daemon/engine_status.hpp"
#include "daemon/speed_regression.hpp"
#include "rules/facts.hpp"
#include "rules/facts_diff.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>

namespace halo::checkd {

struct SpeedNews {
    app::SpeedRegression regression;
    std::optional<rules::FactsDiff> diff; // against the facts of the last good figures, when known
    std::string message;                  // "Generation 4.5 t/s, was 18.0 t/s, since …"
};

// "Generation 4.5 t/s, was 18.0 t/s, since engine.model.file_type_name Q8_0 → BF16 (and 2 more
// changes)"; "…, with nothing changed in the facts" when the diff is empty; no "since" without one.
std::string regression_message(const app::SpeedRegression& r, const std::optional<rules::FactsDiff>& diff);
JournalRecord regression_record(const SpeedNews& news);

class SpeedWatch {
public:
    void set_threshold(double threshold) { m_threshold = threshold; }
    // A finished smoke test with the facts it ran on. `fallback` (the last known good facts)
    // stands in for the facts of the last good figures when this run of the daemon has none.
    std::optional<SpeedNews> smoke(const app::SmokeFigures& figures, const rules::Facts& facts,
                                   const rules::Facts* fallback);
    // state.json's "speed": the tracks per model path and the last regression.
    nlohmann::ordered_json json() const;
    void restore(const nlohmann::json& speed);

private:
    double m_threshold = app::k_default_regression_threshold;
    app::SpeedHistory m_history;
    std::map<std::string, rules::Facts> m_good_facts; // per model path: the facts of its last good run
    std::optional<SpeedNews> m_last;
    std::string m_last_at; // of the last regression
    std::string m_seen;    // `at` of the last smoke test taken in
};

} // namespace halo::checkd
