#pragma once
// The probe table: every probe, in the order they run. Adding a probe = one line in registry.cpp.

#include "probes/probe.hpp"

#include <span>
#include <string_view>

namespace halo::probes {

std::span<const ProbeInfo> registry();
const ProbeInfo* find_probe(std::string_view id);

} // namespace halo::probes
