#include "daemon/checkd/engine_alerts.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <vector>

using namespace halo::checkd;
using halo::app::EngineState;

namespace {

// The notifications a sequence of reported states produces, none shown as nullopt.
std::vector<std::optional<NotificationKind>> alerts_for(std::initializer_list<EngineState> states)
{
    EngineAlerts alerts;
    std::vector<std::optional<NotificationKind>> out;
    for (EngineState s : states) out.push_back(alerts.on_state(s));
    return out;
}

} // namespace

TEST_CASE("a first start is not news, ready again after a failure is news once", "[daemon][engine_alerts]")
{
    using K = std::vector<std::optional<NotificationKind>>;
    CHECK(alerts_for({EngineState::starting, EngineState::loading, EngineState::ready, EngineState::ready}) ==
          K{std::nullopt, std::nullopt, std::nullopt, std::nullopt});
    CHECK(alerts_for({EngineState::ready, EngineState::unhealthy, EngineState::ready, EngineState::ready}) ==
          K{std::nullopt, std::nullopt, NotificationKind::engine_ready_again, std::nullopt});
    CHECK(alerts_for({EngineState::failed, EngineState::starting, EngineState::ready}) ==
          K{std::nullopt, std::nullopt, NotificationKind::engine_ready_again});
    // A stop in between does not forget the failure.
    CHECK(alerts_for({EngineState::backoff, EngineState::stopped, EngineState::starting, EngineState::ready}) ==
          K{std::nullopt, std::nullopt, std::nullopt, NotificationKind::engine_ready_again});
}

TEST_CASE("giving up is told once, and a later recovery is told too", "[daemon][engine_alerts]")
{
    using K = std::vector<std::optional<NotificationKind>>;
    CHECK(alerts_for({EngineState::ready, EngineState::backoff, EngineState::given_up, EngineState::given_up,
                      EngineState::starting, EngineState::ready}) ==
          K{std::nullopt, std::nullopt, NotificationKind::engine_given_up, std::nullopt, std::nullopt,
            NotificationKind::engine_ready_again});
    CHECK(alerts_for({EngineState::refused, EngineState::stopped}) == K{std::nullopt, std::nullopt});
}
