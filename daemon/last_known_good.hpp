#pragma once
// The last known good configuration: the facts of a machine on which the engine was healthy,
// kept in the state directory as an ordinary facts file (so `halo-check diff FILE`, `check
// --facts FILE` and a bug report can use it as is), written atomically: a temporary file in the
// same directory, fsync, rename, fsync of the directory. A crash leaves the old file or the new
// one, never half of one.
//
// The time it was recorded is the file's first line, a TOML comment the facts parser skips:
//   # halo-check last known good, recorded 2026-01-12T09:14:03Z

#include "common/result.hpp"
#include "rules/facts.hpp"

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace halo::app {

struct LastKnownGood {
    rules::Facts facts;
    std::string recorded; // RFC 3339, UTC; from the header line, else the file's mtime
    std::filesystem::path path;
};

// <state_dir>/last-known-good.toml
std::filesystem::path last_known_good_path(const std::filesystem::path& state_dir);

// The state directory: $XDG_STATE_HOME/halo-check (else ~/.local/state/halo-check) for a user,
// /var/lib/halo-check for a system service. Empty when neither variable is set for a user.
std::filesystem::path default_state_dir(bool system_service, const std::optional<std::string>& xdg_state_home,
                                        const std::optional<std::string>& home);

// Records `facts` as last known good at `when`, creating state_dir (0700) when missing.
Result<void> store_last_known_good(const std::filesystem::path& state_dir, const rules::Facts& facts,
                                   std::chrono::system_clock::time_point when = std::chrono::system_clock::now());

// The stored one; an error naming the path when it is missing ("none recorded yet"), unreadable
// or not a facts file.
Result<LastKnownGood> load_last_known_good(const std::filesystem::path& state_dir);

} // namespace halo::app
