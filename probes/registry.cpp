#include "probes/registry.hpp"

#include "probes/boot_probe.hpp"
#include "probes/client_probe.hpp"
#include "probes/containers_probe.hpp"
#include "probes/drm_probe.hpp"
#include "probes/engine_probe.hpp"
#include "probes/kernel_probe.hpp"
#include "probes/kfd_probe.hpp"
#include "probes/memory_probe.hpp"
#include "probes/os_probe.hpp"
#include "probes/packages_probe.hpp"
#include "probes/vulkan_probe.hpp"

#include "common/spelling.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cassert>
#include <string>
#include <vector>

// Each probe's header declares its ProbeInfo; add one line to k_probes per probe.

namespace halo::probes {

namespace {

// In run order: a probe comes after the probes it reads (ProbeInfo::reads; check_probe_order()).
const ProbeInfo* const k_probes[] = {
    &k_os_probe,     &k_memory_probe,     &k_kernel_probe, &k_packages_probe, &k_boot_probe,
    &k_drm_probe,    // isolated: amdgpu ioctls
    &k_vulkan_probe, // isolated: loads Vulkan drivers
    &k_kfd_probe,    &k_containers_probe, &k_engine_probe, &k_client_probe,
};

std::vector<ProbeInfo> build_table()
{
    std::vector<ProbeInfo> table;
    for (const ProbeInfo* info : k_probes)
        if (info) table.push_back(*info);
    // A programming error; the unit test over the registry names the probes.
    assert(check_probe_order(table).ok() && "probes/registry.cpp: a probe runs before one it reads");
    return table;
}

} // namespace

std::span<const ProbeInfo> registry()
{
    static const std::vector<ProbeInfo> table = build_table();
    return table;
}

Result<void> check_probe_order(std::span<const ProbeInfo> probes)
{
    std::vector<std::string> seen; // ids of the probes that run before the one being checked
    for (const ProbeInfo& probe : probes) {
        if (std::find(seen.begin(), seen.end(), probe.id) != seen.end()) {
            return Error{fmt::format("probe '{}' is in the table twice; list each probe once", probe.id)};
        }
        for (std::string_view read : probe.reads) {
            if (read == probe.id) {
                return Error{fmt::format("probe '{}' lists itself in its reads; list only other probes", probe.id)};
            }
            if (probe.isolated) {
                return Error{fmt::format("probe '{}' reads the facts of '{}' but runs isolated, in a child that "
                                         "starts from no facts; read them in the parent or run it in-process",
                                         probe.id, read)};
            }
            if (std::find(seen.begin(), seen.end(), read) != seen.end()) continue;
            const bool later =
                std::any_of(probes.begin(), probes.end(), [&](const ProbeInfo& p) { return p.id == read; });
            if (later) {
                return Error{fmt::format("probe '{}' reads the facts of '{}' but runs before it; move '{}' after '{}' "
                                         "in the probe table",
                                         probe.id, read, probe.id, read)};
            }
            std::vector<std::string> known;
            for (const ProbeInfo& p : probes) known.emplace_back(p.id);
            std::string hint;
            if (auto guess = nearest(read, known)) hint = fmt::format(" (did you mean '{}'?)", *guess);
            return Error{fmt::format("probe '{}' reads the facts of '{}', which is not in the probe table{}", probe.id,
                                     read, hint)};
        }
        seen.emplace_back(probe.id);
    }
    return {};
}

const ProbeInfo* find_probe(std::string_view id)
{
    for (const ProbeInfo& info : registry())
        if (info.id == id) return &info;
    return nullptr;
}

} // namespace halo::probes
