#include "daemon/engine_status.hpp"

namespace halo::app {

std::string_view to_string(EngineState state) noexcept
{
    switch (state) {
    case EngineState::stopped: return "stopped";
    case EngineState::refused: return "refused";
    case EngineState::starting: return "starting";
    case EngineState::loading: return "loading";
    case EngineState::ready: return "ready";
    case EngineState::unhealthy: return "unhealthy";
    case EngineState::stopping: return "stopping";
    case EngineState::backoff: return "backoff";
    case EngineState::given_up: return "given_up";
    case EngineState::failed: return "failed";
    }
    return "stopped";
}

} // namespace halo::app
