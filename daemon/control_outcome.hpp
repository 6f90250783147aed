#pragma once
// What became of a control request (restart, start, stop, reload, smoke), read from two snapshots
// of halo-checkd's state.json: the one before the request and the latest. A pure function of
// plain values: the daemon decides with it for each client waiting on the control socket, and
// the decision is tested without a daemon.

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace halo::app {

enum class Progress { waiting, done, failed };

struct ControlOutcome {
    Progress progress = Progress::waiting;
    std::string message; // what happened, or what is awaited
};

ControlOutcome control_outcome(std::string_view verb, const nlohmann::json& before, const nlohmann::json& now);

} // namespace halo::app
