#include "probes/registry.hpp"

#include "probes/containers_probe.hpp"
#include "probes/engine_probe.hpp"

#include <array>

// Each probe's header declares its ProbeInfo; add one line to k_probes per probe.

namespace halo::probes {

namespace {

const ProbeInfo* const k_probes[] = {
    &k_containers_probe,
    &k_engine_probe, // after containers: reads container.* for engine.image.*
};

std::vector<ProbeInfo> build_table()
{
    std::vector<ProbeInfo> table;
    for (const ProbeInfo* info : k_probes)
        if (info) table.push_back(*info);
    return table;
}

} // namespace

std::span<const ProbeInfo> registry()
{
    static const std::vector<ProbeInfo> table = build_table();
    return table;
}

const ProbeInfo* find_probe(std::string_view id)
{
    for (const ProbeInfo& info : registry())
        if (info.id == id) return &info;
    return nullptr;
}

} // namespace halo::probes
