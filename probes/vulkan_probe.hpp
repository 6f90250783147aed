#pragma once
// vulkan probe: which Vulkan driver the loader really picks, per device — name, type, ids,
// driverID (MESA_RADV, AMD_OPEN_SOURCE, MESA_LLVMPIPE …), driver name/info/version, API and
// conformance versions, memory heaps — and the loader's own version. llvmpipe alone means "no GPU
// Vulkan driver", and the status says so.
//
// External interface access: the Vulkan loader (libvulkan.so.1): vkEnumerateInstanceVersion,
// vkCreateInstance, vkEnumeratePhysicalDevices, vkGetPhysicalDeviceProperties(2),
// vkGetPhysicalDeviceMemoryProperties; through it the ICD manifests (/usr/share/vulkan/icd.d,
// /etc/vulkan/icd.d, VK_DRIVER_FILES, VK_ICD_FILENAMES) and the drivers they name, which open
// /dev/dri/renderD*. Privileges: none. Isolated: it runs driver code.
// Environment: the loader reads the process environment. A Host override (Host::set_env) of
// VK_DRIVER_FILES, VK_ICD_FILENAMES, VK_ADD_DRIVER_FILES or VK_LOADER_DEBUG is applied with
// setenv for the duration of collect() and restored afterwards (tests pin an ICD this way).
// A fixture root cannot load its drivers: the probe then parses a captured `vulkaninfo --summary`
// at /halo-fixture/vulkaninfo-summary.txt if the fixture has one, else it is not_applicable.
// Feeds the Vulkan backend rules. Introduced in 0.1.0.

#include "probes/probe.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace halo::probes {

extern const ProbeInfo k_vulkan_probe;

// "MESA_RADV" for VK_DRIVER_ID_MESA_RADV (13 → "MESA_LLVMPIPE"); "UNKNOWN_<n>" otherwise.
std::string vulkan_driver_id_name(std::uint32_t driver_id);

// driverVersion decoded the way its vendor encodes it: NVIDIA (0x10de) 10.8.8.6 bits, everyone
// else (Mesa, AMD) VK_MAKE_API_VERSION's major.minor.patch.
std::string decode_driver_version(std::uint32_t vendor_id, std::uint32_t driver_version);

// One device block of `vulkaninfo --summary` ("GPU0:" then "\tkey = value" lines); values as
// printed, driverID without its DRIVER_ID_ prefix, deviceType without PHYSICAL_DEVICE_TYPE_.
std::vector<std::map<std::string, std::string>> parse_vulkaninfo_summary(std::string_view text);

// Bytes made safe for a facts file: invalid UTF-8 and control characters become '?'.
std::string sanitize_text(std::string_view bytes);

} // namespace halo::probes
