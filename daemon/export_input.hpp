#pragma once
// What the fleet exports (Prometheus, node-problem-detector, node-feature-discovery) are made
// of: plain values, so each format is a pure function the tests feed directly. Both programs
// fill it: `halo-check export` from a check it runs (and state.json when the daemon left one),
// halo-checkd from its own evaluation and engine status.

#include "daemon/engine_status.hpp"
#include "rules/evaluate.hpp"
#include "rules/facts.hpp"

#include <ctime>
#include <optional>
#include <string>
#include <vector>

namespace halo::app {

struct ExportInput {
    const rules::Facts* facts = nullptr;      // the machine now (the next-boot view is derived)
    const rules::Report* now = nullptr;       // judged now
    const rules::Report* next_boot = nullptr; // judged as after a reboot
    std::time_t checked_at = 0;               // when the facts were taken (seconds since the epoch)
    std::optional<EngineStatus> engine;       // the daemon's, when one supervises the engine
};

// The amdgpu gauges of one GPU, from the drm probe's gpu.N.sensor.* and gpu.N.mem.* facts.
struct GpuGauges {
    std::string index; // "0"
    std::optional<double> busy_ratio;
    std::optional<double> vram_used_bytes, vram_total_bytes, gtt_used_bytes, gtt_total_bytes;
    std::optional<double> temperature_celsius;
    std::optional<double> power_watts;
};
std::vector<GpuGauges> gpu_gauges(const rules::Facts& facts);

// "2026-11-27T10:00:00Z" (or with a fraction or an offset) → seconds since the epoch.
std::optional<std::time_t> parse_rfc3339(std::string_view text);

// The first GPU agent's gfx target ("gfx1151"), or empty.
std::string first_gfx_target(const rules::Facts& facts);

} // namespace halo::app
