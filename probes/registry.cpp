#include "probes/registry.hpp"

#include "probes/boot_probe.hpp"
#include "probes/containers_probe.hpp"
#include "probes/drm_probe.hpp"
#include "probes/engine_probe.hpp"
#include "probes/kernel_probe.hpp"
#include "probes/kfd_probe.hpp"
#include "probes/memory_probe.hpp"
#include "probes/os_probe.hpp"
#include "probes/packages_probe.hpp"
#include "probes/vulkan_probe.hpp"

#include <array>

// Each probe's header declares its ProbeInfo; add one line to k_probes per probe.

namespace halo::probes {

namespace {

const ProbeInfo* const k_probes[] = {
    // packages reads host.os.* to pick a manager; boot reads kernel.release and
    // package.*.installtime: keep os and kernel before packages, packages before boot.
    &k_os_probe,
    &k_memory_probe,
    &k_kernel_probe,
    &k_packages_probe,
    &k_boot_probe,
    &k_drm_probe,    // isolated: amdgpu ioctls
    &k_vulkan_probe, // isolated: loads Vulkan drivers
    &k_kfd_probe,
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
