#pragma once
// The engine's state as plain data: what the supervisor reports, the state file stores and
// `halo-check status` prints. Kept apart from the supervisor so the CLI can read the state file
// without linking the supervisor (and libcurl behind it).

#include "daemon/engine_api_results.hpp"

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace halo::app {

enum class EngineState { stopped, refused, starting, loading, ready, unhealthy, stopping, backoff, given_up, failed };
std::string_view to_string(EngineState state) noexcept;

struct SmokeFigures {
    bool ok = false;
    std::string at; // RFC 3339
    double latency_ms = 0;
    long prompt_tokens = 0;
    long completion_tokens = 0;
    double prompt_per_second = 0;
    double predicted_per_second = 0;
    std::string error; // why it failed
};

// Why the engine last crashed: the log pattern its output matched, when one did.
struct CrashReason {
    std::string exit;       // "killed by SIGABRT", "exited with status 1"
    std::string pattern_id; // empty when no pattern matched
    std::string title;
    std::string severity;
    std::string fix;
    std::string line; // the output line that matched
    std::string at;
};

struct RestartRecord {
    std::string at;
    std::string reason;
};

struct EngineStatus {
    EngineState state = EngineState::stopped;
    std::string since;  // RFC 3339
    std::string reason; // why it is in this state (empty when nothing to say)
    pid_t pid = 0;
    // Inside a container: the engine itself (pid is its launcher), found listening once ready.
    pid_t listener_pid = 0;
    int liveness_failures = 0;
    std::vector<RestartRecord> restarts; // the recent ones, newest last (bounded)
    std::uint64_t restarts_total = 0;    // every restart since the daemon started (a counter)
    std::optional<CrashReason> last_crash;
    std::optional<SmokeFigures> smoke;
    std::optional<SmokeFigures> smoke_good; // last successful one
    std::optional<ApiResults> api;          // the last run of the engine API checks
    std::deque<std::string> output;         // the last lines the engine printed (bounded)
};

} // namespace halo::app
