#include "daemon/checkd/engine_alerts.hpp"

namespace halo::checkd {

std::optional<NotificationKind> EngineAlerts::on_state(app::EngineState state)
{
    if (m_last == state) return std::nullopt;
    m_last = state;
    switch (state) {
    case app::EngineState::unhealthy:
    case app::EngineState::backoff:
    case app::EngineState::failed: m_had_failure = true; return std::nullopt;
    case app::EngineState::given_up: m_had_failure = true; return NotificationKind::engine_given_up;
    case app::EngineState::ready:
        if (!m_had_failure) return std::nullopt;
        m_had_failure = false;
        return NotificationKind::engine_ready_again;
    default: return std::nullopt;
    }
}

} // namespace halo::checkd
