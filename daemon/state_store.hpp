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

#include <cstddef>
#include <ctime>
#include <optional>
#include <string>

namespace halo::app {

std::string default_state_dir();

// Facts, the engine's state and the output tail take well under a megabyte; the cap only stops a
// file that is not ours.
inline constexpr std::size_t state_file_max_bytes = 16U << 20U;

class StateStore {
public:
    explicit StateStore(std::string dir) : m_dir(std::move(dir)) {}
    // Creates the directory (0700) when missing.
    Result<void> prepare() const;
    Result<void> write(const nlohmann::ordered_json& state) const;
    // Missing (errno ENOENT), unreadable, not a regular file, over the cap or not a JSON object: an
    // error naming the file.
    Result<nlohmann::json> read() const;
    // Renames a state file the daemon cannot use to state.json.bad-<UTC time>, so it starts fresh
    // and the old file is still there to look at; the new name.
    Result<std::string> set_aside(std::time_t now) const;
    std::string path() const { return m_dir + "/state.json"; }
    // halo-checkd's control socket (daemon/checkd/control_server.hpp) and single-instance lock.
    std::string socket_path() const { return m_dir + "/control.sock"; }
    std::string lock_path() const { return m_dir + "/lock"; }
    const std::string& directory() const { return m_dir; }
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
