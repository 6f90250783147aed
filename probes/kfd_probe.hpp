#pragma once
// kfd probe: can ROCm see the GPU, and may this user use it? Reads the KFD topology that the
// amdgpu kernel driver publishes for ROCm, the device nodes ROCm opens, and who may open them.
//
// External interface access (all through the Host root prefix):
//   /sys/class/kfd/kfd/topology/nodes/*/properties, .../nodes/*/name   (world-readable sysfs)
//   /dev/kfd, /dev/dri/renderD*   stat(2), and on the live system open(O_RDWR) then close
//   /etc/group                    gid → group name, members
//   /opt/rocm/.info/version       host ROCm (the engine's ROCm lives in its image)
//   /halo-fixture/device-owners   fixture roots only: "PATH OWNER GROUP MODE" lines standing in
//                                 for the owner/mode a git checkout cannot carry
// Privileges: none. Feeds the ROCm rules (agent gfx target, /dev/kfd access, render group).
// Introduced in 0.1.0. In-process (sysfs and stat only; it loads no driver code).

#include "probes/probe.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace halo::probes {

extern const ProbeInfo k_kfd_probe;

// "key value" lines of a KFD node's properties file; values are unsigned decimal. Lines that are
// not of that shape are skipped (the kernel adds keys over time).
std::map<std::string, std::uint64_t> parse_kfd_properties(std::string_view text);

// gfx_target_version (major*10000 + minor*100 + stepping) → the LLVM target name: 110501 →
// "gfx1151", 90010 → "gfx90a", 90400 → "gfx940". nullopt for 0 (a CPU node) or out of range.
std::optional<std::string> decode_gfx_target_version(std::uint64_t version);

} // namespace halo::probes
