#pragma once
// What changed between two facts snapshots: keys added, removed (or now unknown) and changed,
// each with its old and new value, ordered by key. Used for "what changed since the last known
// good configuration" in notifications, `halo-check status` and `halo-check diff`.
//
// Some keys change without the configuration changing; they are left out unless asked for
// (see volatile_key_patterns()). The snapshot header and probe timings are never compared.

#include "rules/facts.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace halo::rules {

struct FactChange {
    enum class Kind { added, removed, changed };
    Kind kind = Kind::changed;
    std::string key;
    std::optional<std::string> old_value; // nullopt when added
    std::optional<std::string> new_value; // nullopt when removed
    // For a removed key that the newer facts mark unknown (its probe failed): why.
    std::optional<std::string> unknown_reason;
};

// A probe whose state changed (ok -> failed …). Timings are not compared.
struct ProbeChange {
    std::string probe;
    std::optional<ProbeStatus> old_status; // nullopt when the probe did not appear before
    std::optional<ProbeStatus> new_status;
};

struct FactsDiff {
    std::vector<FactChange> changes; // ordered by key
    std::vector<ProbeChange> probes; // ordered by probe id
    std::size_t ignored = 0;         // changes to volatile keys left out
    bool empty() const { return changes.empty() && probes.empty(); }
};

struct DiffOptions {
    bool include_volatile = false;
    std::vector<std::string> extra_ignored; // more key patterns to leave out
};

// Key patterns whose values change with no change to the configuration:
// container.*.state (running/exited follows the engine's life, not its setup),
// package.*.installtime (follows .version/.evr; a reinstall of the same build is not a change),
// boot.initramfs.mtime (rewritten by every dracut run; boot.initramfs.older_than_firmware keeps
// the part that matters), gpu.*.firmware.source (the debugfs DRI index can differ per boot),
// kernel.cmdline and kernel.cmdline.BOOT_IMAGE (the whole line and the kernel image path repeat
// kernel.release and the kernel.cmdline.* parameters, which are compared one by one),
// gpu.*.sensor.* (busy, memory in use, temperature and power are readings, not configuration).
const std::vector<std::string>& volatile_key_patterns();

FactsDiff diff_facts(const Facts& older, const Facts& newer, const DiffOptions& options = {});

// One line per change, e.g. "kernel.release 6.18.3-200.fc43 → 6.18.5-200.fc43",
// "package.amdvlk.version (absent) → 2025.Q2.1", "gpu.0.firmware.mes 0x00000080 → (unknown: …)",
// "probe drm ok → failed: Failed to read '/sys/…': Permission denied".
std::string format_change(const FactChange& change);
std::string format_probe_change(const ProbeChange& change);
std::vector<std::string> format_diff_lines(const FactsDiff& diff);

// Many machines side by side (one facts set per node): the keys whose values are not the same on
// all of them, ordered by key. A missing value is nullopt (absent, or unknown on that node).
struct FactsMatrixRow {
    std::string key;
    std::vector<std::optional<std::string>> values; // one per node, in the order given
};
struct FactsMatrix {
    std::vector<FactsMatrixRow> rows;
    std::size_t ignored = 0; // volatile keys that differ, left out
};
FactsMatrix facts_matrix(const std::vector<const Facts*>& nodes, const DiffOptions& options = {});

// The changes ordered by how likely they explain a breakage (kernel, firmware, engine image and
// backend, drivers first; then the rest by key), for places with room for only a few lines.
std::vector<const FactChange*> changes_by_relevance(const FactsDiff& diff);

} // namespace halo::rules
