#pragma once
// The probe table: every probe, in the order they run. Adding a probe = one line in registry.cpp.

#include "common/result.hpp"
#include "probes/probe.hpp"

#include <span>
#include <string_view>

namespace halo::probes {

std::span<const ProbeInfo> registry();
const ProbeInfo* find_probe(std::string_view id);

// Every probe runs after the probes it reads (ProbeInfo::reads), each of which is in the table
// and runs in this process: an isolated probe's child starts from no facts, so it cannot read
// any. Ids are unique. The error names the probes and says how to fix the order.
Result<void> check_probe_order(std::span<const ProbeInfo> probes);

} // namespace halo::probes
