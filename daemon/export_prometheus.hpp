#pragma once
// The Prometheus text exposition format (version 0.0.4) for node_exporter's textfile collector:
// verdicts of both views, findings, undecided rules, the known-good match, the stack as an
// `_info` gauge, probe health, the engine's state and smoke figures (from the daemon), and the
// amdgpu gauges. Names follow the Prometheus naming guide: base units, `_total` for counters,
// `_ratio` for 0..1. docs/fleet.md lists every series.

#include "daemon/export_input.hpp"

#include <string>
#include <string_view>

namespace halo::app {

std::string format_prometheus(const ExportInput& input);

// A label value escaped per the exposition format: backslash, double quote and newline.
std::string escape_label_value(std::string_view value);

// 0 ok, 1 warning, 2 broken, 3 unknown: the same numbers as halo-check's exit codes.
int verdict_number(rules::Verdict verdict) noexcept;

} // namespace halo::app
