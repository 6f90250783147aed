#pragma once
// memory probe: how much RAM the kernel manages, for rules that size models and GTT against it.
// Reads: /proc/meminfo (MemTotal). Privileges: none.
// Sets: host.mem.total_bytes. Since: 0.1.0.

#include "common/result.hpp"
#include "probes/probe.hpp"

#include <cstdint>
#include <string_view>

namespace halo::probes {

extern const ProbeInfo k_memory_probe;

// MemTotal from /proc/meminfo text, in bytes (the file says kB and means KiB).
Result<std::uint64_t> parse_meminfo_total(std::string_view text);

} // namespace halo::probes
