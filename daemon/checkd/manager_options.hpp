#pragma once
// halo-checkd's command line, as main() hands it to the Manager (and the Manager to the parts that
// watch the machine).

#include "daemon/checkd/log_monitor.hpp"

#include <optional>
#include <string>
#include <vector>

namespace halo::checkd {

struct ManagerOptions {
    std::string config_path;
    std::string root = "/";
    std::optional<std::string> facts_path; // judge this file instead of probing (tests)
    std::optional<std::string> state_dir;
    std::vector<std::string> rules; // extra rules files or directories
    bool no_dropins = false;
    std::optional<std::string> journal_export; // also write entries in Journal Export Format here
    // The kernel log to follow: the local journal (default), these files, this directory, or none.
    LogMonitorOptions::Journal journal = LogMonitorOptions::Journal::local;
    std::vector<std::string> journal_paths;
    bool no_watch = false; // do not watch the machine for changes
};

} // namespace halo::checkd
