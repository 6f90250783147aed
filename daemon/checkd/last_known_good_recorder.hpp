#pragma once
// Keeps the last known good configuration (daemon/last_known_good.hpp, docs/daemon.md): once the
// engine has stayed ready with a passing smoke test for [daemon] last_known_good_after, the
// recorder says the time has come, and the facts of that moment are stored unless the machine
// fails its checks. The decisions are plain functions; the class holds the clock and the record.

#include "daemon/checkd/log_sink.hpp"
#include "daemon/checkd/sd_handles.hpp"
#include "daemon/config.hpp"
#include "daemon/engine_status.hpp"
#include "daemon/last_known_good.hpp"
#include "rules/evaluate.hpp"
#include "rules/facts.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>

namespace halo::checkd {

// Ready with a passing smoke test: the clock towards last known good runs.
bool counts_towards_last_known_good(const app::EngineStatus& status);
// Only a machine that passes its checks is a good example to return to.
bool worth_recording(rules::Verdict verdict);
// state.json's "last_known_good": when, where, and what changed since; null when none.
nlohmann::ordered_json last_known_good_json(const std::optional<app::LastKnownGood>& last, const rules::Facts& now);

class LastKnownGoodRecorder {
public:
    using Due = std::function<void()>;
    // Loads the one an earlier run recorded, if any. `due` runs on `event`'s loop once the engine
    // has been good for long enough; it calls record() with the facts of that moment.
    LastKnownGoodRecorder(sd_event* event, LogSink& log, std::filesystem::path state_dir, Due due);
    LastKnownGoodRecorder(const LastKnownGoodRecorder&) = delete;
    LastKnownGoodRecorder& operator=(const LastKnownGoodRecorder&) = delete;

    // Starts the clock at the start of a good stretch, stops it when the stretch ends.
    void engine_changed(const app::EngineStatus& status, app::Duration after);
    // Stores `facts` when the verdict is worth it; true when the record changed.
    bool record(const rules::Facts& facts, rules::Verdict verdict);

    const std::optional<app::LastKnownGood>& last() const { return m_last; }

private:
    static int on_timer(sd_event_source* s, std::uint64_t usec, void* userdata) noexcept;

    sd_event* m_event;
    LogSink& m_log;
    std::filesystem::path m_state_dir;
    Due m_due;
    SdEventSource m_timer; // kept after it fired, so one good stretch is recorded once
    std::optional<app::LastKnownGood> m_last;
};

} // namespace halo::checkd
