#pragma once
// A kernel-log (or engine-output) event as the daemon keeps and tells it: what its notification
// says, and its entry in state.json, where only the latest k_log_events_kept stay. No I/O.

#include "daemon/checkd/log_monitor.hpp"
#include "daemon/checkd/notification.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <deque>
#include <string>

namespace halo::checkd {

NotificationKind log_event_notification(const LogEvent& event);
// The event's part of the notification: its title (with the line count of a burst), fix and severity.
void describe_log_event(NotificationInput& in, const LogEvent& event);
// Why the engine is marked unhealthy after a GPU reset.
std::string gpu_reset_reason(const LogEvent& event);

nlohmann::ordered_json log_event_json(const LogEvent& event);

inline constexpr std::size_t k_log_events_kept = 20;

class RecentLogEvents {
public:
    void add(const LogEvent& event);
    // Oldest first.
    nlohmann::ordered_json json() const;

private:
    std::deque<nlohmann::ordered_json> m_events;
};

} // namespace halo::checkd
