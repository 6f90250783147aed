#pragma once
// The daemon's state file, state.json: last facts, verdict, engine state, restart history, smoke
// figures. Written atomically (temp file, fsync, rename, fsync of the directory), so a reader
// (`halo-check status`) sees the old or the new file, never half of one.
//
// Where: --state-dir, else [daemon] state_dir, else $STATE_DIRECTORY (systemd's StateDirectory=),
// else $XDG_STATE_HOME/halo-check, else ~/.local/state/halo-check, else /var/lib/halo-check.

#include "common/result.hpp"
#include "daemon/engine_status.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace halo::app {

std::string default_state_dir();

class StateStore {
public:
    explicit StateStore(std::string dir) : m_dir(std::move(dir)) {}
    // Creates the directory (0700) when missing.
    Result<void> prepare() const;
    Result<void> write(const nlohmann::ordered_json& state) const;
    Result<nlohmann::json> read() const;
    std::string path() const { return m_dir + "/state.json"; }
    const std::string& directory() const { return m_dir; }
    // Control requests from `halo-check restart|stop|start|smoke`: one verb a line.
    std::string request_path() const { return m_dir + "/request"; }
    const std::string& dir() const { return m_dir; }

private:
    std::string m_dir;
};

nlohmann::ordered_json to_json(const SmokeFigures& f);
std::optional<SmokeFigures> smoke_from_json(const nlohmann::json& j);
nlohmann::ordered_json to_json(const EngineStatus& s, std::size_t output_lines = 20);
// The engine part of state.json back (state, reason, restarts_total, smoke figures); nullopt when
// it is not one.
std::optional<EngineStatus> engine_status_from_json(const nlohmann::json& j);

} // namespace halo::app
