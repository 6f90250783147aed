#pragma once
// [export]: after every re-check (and when the engine's state changes) halo-checkd rewrites the
// Prometheus textfile and the NFD features.d file, each atomically (daemon/atomic_file), so
// node_exporter and nfd-worker never read half a file.

#include "daemon/config.hpp"
#include "daemon/export_input.hpp"

#include <ctime>
#include <string>
#include <vector>

namespace halo::checkd {

// Writes the files `config` names; returns what failed (empty when all were written).
// `with_nfd` false leaves the NFD file alone (an engine transition changes no label).
std::vector<std::string> write_export_files(const app::ExportConfig& config, const app::ExportInput& input,
                                            std::time_t now, bool with_nfd = true);

} // namespace halo::checkd
