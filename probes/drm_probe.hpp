#pragma once
// drm probe: which GPUs the kernel drives, and for amdgpu the firmware it actually *loaded* (the
// ground truth behind "is MES 0x83 running?"), the VBIOS, VRAM/GTT totals and the TTM limit.
//
// External interface access:
//   live system: drmGetDevices2 (opens /dev/dri/*), drmGetVersion and libdrm_amdgpu on each
//     render node (amdgpu_query_firmware_version, AMDGPU_INFO_VBIOS_INFO, AMDGPU_INFO_MEMORY;
//     unprivileged: render nodes are usually group render or world-accessible)
//   a fixture root: never /dev/dri; /sys/class/drm/card*/device/{vendor,device,revision,uevent,
//     drm/renderD*} instead
//   both: /sys/class/drm/card*/device/ or /sys/bus/pci/devices/SLOT/{mem_info_vram_total,
//     mem_info_gtt_total,vbios_version}, /sys/kernel/debug/dri/*/{name,amdgpu_firmware_info}
//     (debugfs: root only; a second source, or the only one on a fixture),
//     /sys/module/ttm/parameters/pages_limit, /sys/module/amdgpu/version (absent = in-tree driver)
// Privileges: none (debugfs needs root and is skipped without it). Isolated: ioctls run driver
// code. Feeds the firmware, GTT/TTM and driver rules. Introduced in 0.1.0.

#include "probes/probe.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace halo::probes {

extern const ProbeInfo k_drm_probe;

struct AmdgpuFirmwareInfo {
    // "mes" → "0x00000080", "mes_kiq", "ta_xgmi", "sdma0", "smc" … (lower case, spaces → '_').
    std::map<std::string, std::string> versions;
    std::optional<std::string> vbios; // "113-STRXLGEN-001"
};

// Parses debugfs amdgpu_firmware_info ("MES feature version: 1, firmware version: 0x00000080").
// Lines of another shape are skipped; a version that is not 0x + hex is skipped.
AmdgpuFirmwareInfo parse_amdgpu_firmware_info(std::string_view text);

// "MES_KIQ" → "mes_kiq", "TA XGMI" → "ta_xgmi", "RLC SRLC" → "rlc_srlc".
std::string firmware_key(std::string_view ucode_name);

// KEY=VALUE lines of a sysfs uevent file.
std::map<std::string, std::string> parse_uevent(std::string_view text);

} // namespace halo::probes
