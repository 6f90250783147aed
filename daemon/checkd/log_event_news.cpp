#include "daemon/checkd/log_event_news.hpp"

#include "common/clock.hpp"

#include <fmt/core.h>

#include <ctime>

namespace halo::checkd {

namespace {

std::string usec_text(std::uint64_t usec) { return rfc3339_utc(static_cast<std::time_t>(usec / 1'000'000)); }

} // namespace

NotificationKind log_event_notification(const LogEvent& event)
{
    return event.gpu_reset ? NotificationKind::gpu_reset : NotificationKind::log_event;
}

void describe_log_event(NotificationInput& in, const LogEvent& event)
{
    in.detail = event.count > 1 ? fmt::format("{} ({} lines)", event.title, event.count) : event.title;
    in.fix = event.fix;
    in.event_severity = event.severity;
}

std::string gpu_reset_reason(const LogEvent& event)
{
    return fmt::format("GPU reset in the kernel log: {}", event.title);
}

nlohmann::ordered_json log_event_json(const LogEvent& event)
{
    return {{"pattern", event.pattern_id},
            {"severity", std::string(rules::to_string(event.severity))},
            {"title", event.title},
            {"count", event.count},
            {"first", usec_text(event.first_usec)},
            {"last", usec_text(event.last_usec)},
            {"source", std::string(to_string(event.source))},
            {"attributed", event.attributed},
            {"gpu_reset", event.gpu_reset},
            {"line", event.first_line}};
}

void RecentLogEvents::add(const LogEvent& event)
{
    m_events.push_back(log_event_json(event));
    while (m_events.size() > k_log_events_kept) m_events.pop_front();
}

nlohmann::ordered_json RecentLogEvents::json() const
{
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& e : m_events) out.push_back(e);
    return out;
}

} // namespace halo::checkd
