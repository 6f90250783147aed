#pragma once
// Which engine transitions reach the desktop: giving up, and being ready again after a failure.
// Each state is told once however often the supervisor reports it (a passing smoke test reports
// "ready" again). No I/O, so a sequence of states is tested as data.

#include "daemon/checkd/notification.hpp"
#include "daemon/engine_status.hpp"

#include <optional>

namespace halo::checkd {

class EngineAlerts {
public:
    // The notification this state calls for, if any.
    std::optional<NotificationKind> on_state(app::EngineState state);

private:
    std::optional<app::EngineState> m_last;
    bool m_had_failure = false; // "ready again" is news only after a failure
};

} // namespace halo::checkd
