#include "daemon/checkd/last_known_good_recorder.hpp"

#include "daemon/checkd/callback_guard.hpp"
#include "rules/facts_diff.hpp"

#include <fmt/core.h>

#include <syslog.h>
#include <time.h>

namespace halo::checkd {

bool counts_towards_last_known_good(const app::EngineStatus& status)
{
    return status.state == app::EngineState::ready && status.smoke && status.smoke->ok;
}

bool worth_recording(rules::Verdict verdict) { return verdict != rules::Verdict::broken; }

nlohmann::ordered_json last_known_good_json(const std::optional<app::LastKnownGood>& last, const rules::Facts& now)
{
    if (!last) return nullptr;
    nlohmann::ordered_json lines = nlohmann::ordered_json::array();
    for (const std::string& l : rules::format_diff_lines(rules::diff_facts(last->facts, now))) lines.push_back(l);
    return {{"recorded", last->recorded}, {"path", last->path.string()}, {"changes", lines}};
}

LastKnownGoodRecorder::LastKnownGoodRecorder(sd_event* event, LogSink& log, std::filesystem::path state_dir, Due due)
    : m_event(event), m_log(log), m_state_dir(std::move(state_dir)), m_due(std::move(due))
{
    if (auto last = app::load_last_known_good(m_state_dir)) m_last = std::move(*last);
}

void LastKnownGoodRecorder::engine_changed(const app::EngineStatus& status, app::Duration after)
{
    if (!counts_towards_last_known_good(status)) {
        m_timer.reset();
        return;
    }
    if (m_timer) return;
    sd_event_source* s = nullptr;
    const auto usec = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(after).count());
    if (sd_event_add_time_relative(m_event, &s, CLOCK_MONOTONIC, usec, 0, &LastKnownGoodRecorder::on_timer, this) >=
        0) {
        m_timer.reset(s);
    }
}

int LastKnownGoodRecorder::on_timer(sd_event_source*, std::uint64_t, void* userdata) noexcept
{
    // Nothing to recover: the file is replaced atomically, so a failure keeps the old record.
    return guard_callback("last_known_good.on_timer", 0,
                          [&] { static_cast<LastKnownGoodRecorder*>(userdata)->m_due(); });
}

bool LastKnownGoodRecorder::record(const rules::Facts& facts, rules::Verdict verdict)
{
    if (!worth_recording(verdict)) return false;
    if (auto ok = app::store_last_known_good(m_state_dir, facts); !ok) {
        m_log.daemon(LOG_WARNING, ok.error().message);
        return false;
    }
    if (auto last = app::load_last_known_good(m_state_dir)) m_last = std::move(*last);
    m_log.daemon(LOG_INFO, fmt::format("recorded the last known good configuration in '{}'",
                                       app::last_known_good_path(m_state_dir).string()));
    return true;
}

} // namespace halo::checkd
