#include "daemon/checkd/speed_watch.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace halo::checkd {

namespace {

nlohmann::ordered_json runs_json(const std::deque<app::SpeedSample>& runs)
{
    auto a = nlohmann::ordered_json::array();
    for (const app::SpeedSample& s : runs)
        a.push_back({{"generation", s.generation}, {"prompt", s.prompt}, {"at", s.at}});
    return a;
}

std::deque<app::SpeedSample> runs_from(const nlohmann::json& j, std::size_t keep)
{
    std::deque<app::SpeedSample> runs;
    if (!j.is_array()) return runs;
    for (const auto& r : j) {
        if (!r.is_object()) continue;
        const auto g = r.find("generation");
        const auto p = r.find("prompt");
        if (g == r.end() || p == r.end() || !g->is_number() || !p->is_number()) continue;
        runs.push_back({g->get<double>(), p->get<double>(), r.value("at", std::string())});
    }
    while (runs.size() > keep) runs.pop_front();
    return runs;
}

} // namespace

std::string regression_message(const app::SpeedRegression& r, const std::optional<rules::FactsDiff>& diff)
{
    std::string text;
    if (r.generation_slow) text = fmt::format("Generation {:.1f} t/s, was {:.1f} t/s", r.generation, r.good_generation);
    if (r.prompt_slow) {
        text += fmt::format("{}rompt processing {:.1f} t/s, was {:.1f} t/s", text.empty() ? "P" : "; p", r.prompt,
                            r.good_prompt);
    }
    if (!diff) return text;
    auto ordered = rules::changes_by_relevance(*diff);
    // The file type's number says what its name says: "Q8_0 → BF16" is the line to read.
    const bool named = std::any_of(ordered.begin(), ordered.end(),
                                   [](const rules::FactChange* c) { return c->key == "engine.model.file_type_name"; });
    if (named) {
        ordered.erase(std::remove_if(ordered.begin(), ordered.end(),
                                     [](const rules::FactChange* c) { return c->key == "engine.model.file_type"; }),
                      ordered.end());
    }
    if (ordered.empty()) return text + ", with nothing changed in the facts";
    text += ", since " + rules::format_change(*ordered.front());
    if (ordered.size() > 1)
        text += fmt::format(" (and {} more change{})", ordered.size() - 1, ordered.size() > 2 ? "s" : "");
    return text;
}

JournalRecord regression_record(const SpeedNews& news)
{
    JournalRecord rec;
    rec.kind = JournalEventKind::speed_regression;
    rec.message = news.message;
    rec.priority = 4;
    rec.verdict = "warning";
    const app::SpeedRegression& r = news.regression;
    rec.extra = {{"HALO_MODEL_PATH", r.model_path},
                 {"HALO_GENERATION_PER_SECOND", fmt::format("{:.2f}", r.generation)},
                 {"HALO_PROMPT_PER_SECOND", fmt::format("{:.2f}", r.prompt)},
                 {"HALO_GOOD_GENERATION_PER_SECOND", fmt::format("{:.2f}", r.good_generation)},
                 {"HALO_GOOD_PROMPT_PER_SECOND", fmt::format("{:.2f}", r.good_prompt)}};
    if (news.diff) {
        std::string lines;
        for (const std::string& l : rules::format_diff_lines(*news.diff)) lines += (lines.empty() ? "" : "\n") + l;
        rec.extra.emplace_back("HALO_CHANGES", lines);
    }
    return rec;
}

std::optional<SpeedNews> SpeedWatch::smoke(const app::SmokeFigures& figures, const rules::Facts& facts,
                                           const rules::Facts* fallback)
{
    // The supervisor reports the same figures with every state change: each run counts once.
    if (!figures.ok || figures.at.empty() || figures.at == m_seen) return std::nullopt;
    m_seen = figures.at;
    const std::string model = facts.get("engine.model.path").value_or("(unknown model)");
    app::SpeedTrack& track = m_history[model];
    auto r = app::record_speed(track, model, {figures.predicted_per_second, figures.prompt_per_second, figures.at},
                               m_threshold);
    if (!track.good.empty() && track.good.back().at == figures.at) {
        m_good_facts[model] = facts; // this run was good: what changes from here on is news
    }
    if (!r) return std::nullopt;
    SpeedNews news;
    news.regression = *r;
    const auto good = m_good_facts.find(model);
    // Only good runs replace the stored facts: these are from before the slow-down.
    if (good != m_good_facts.end()) news.diff = rules::diff_facts(good->second, facts);
    else if (fallback) news.diff = rules::diff_facts(*fallback, facts);
    news.message = regression_message(news.regression, news.diff);
    m_last = news;
    m_last_at = figures.at;
    return news;
}

nlohmann::ordered_json SpeedWatch::json() const
{
    nlohmann::ordered_json j;
    j["threshold"] = m_threshold;
    auto models = nlohmann::ordered_json::object();
    for (const auto& [path, t] : m_history) {
        models[path] = {{"recent", runs_json(t.recent)}, {"good", runs_json(t.good)}, {"regressed", t.regressed}};
    }
    j["models"] = models;
    if (m_last) {
        j["regression"] = {{"at", m_last_at},
                           {"model_path", m_last->regression.model_path},
                           {"message", m_last->message},
                           {"generation", m_last->regression.generation},
                           {"good_generation", m_last->regression.good_generation},
                           {"prompt", m_last->regression.prompt},
                           {"good_prompt", m_last->regression.good_prompt},
                           {"active", m_history.count(m_last->regression.model_path) &&
                                          m_history.at(m_last->regression.model_path).regressed}};
    } else {
        j["regression"] = nullptr;
    }
    return j;
}

void SpeedWatch::restore(const nlohmann::json& speed)
{
    if (!speed.is_object()) return;
    const auto models = speed.find("models");
    if (models == speed.end() || !models->is_object()) return;
    for (const auto& [path, t] : models->items()) {
        if (!t.is_object()) continue;
        app::SpeedTrack track;
        track.recent = runs_from(t.value("recent", nlohmann::json()), app::k_regression_window);
        track.good = runs_from(t.value("good", nlohmann::json()), app::k_good_runs_kept);
        const auto reg = t.find("regressed");
        track.regressed = reg != t.end() && reg->is_boolean() && reg->get<bool>();
        m_history[path] = std::move(track);
    }
    const auto last = speed.find("regression");
    if (last != speed.end() && last->is_object()) {
        SpeedNews news;
        news.regression.model_path = last->value("model_path", std::string());
        news.message = last->value("message", std::string());
        news.regression.generation = last->value("generation", 0.0);
        news.regression.good_generation = last->value("good_generation", 0.0);
        news.regression.prompt = last->value("prompt", 0.0);
        news.regression.good_prompt = last->value("good_prompt", 0.0);
        m_last_at = last->value("at", std::string());
        m_last = std::move(news);
    }
}

} // namespace halo::checkd
