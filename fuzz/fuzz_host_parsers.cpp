// Every pure parser of the host and GPU probes on the same input: whatever a file under /proc,
// /sys, /boot, /etc or a package database holds, the parsers answer, never crash.
// -max_len: dpkg status and /proc/net/tcp run to megabytes.
// fuzz-max-len: 1048576
#include "probes/boot_probe.hpp"
#include "probes/drm_probe.hpp"
#include "probes/kernel_probe.hpp"
#include "probes/kfd_probe.hpp"
#include "probes/memory_probe.hpp"
#include "probes/os_probe.hpp"
#include "probes/packages_probe.hpp"
#include "probes/vulkan_probe.hpp"

#include <cstdint>
#include <set>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace halo::probes;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)parse_cmdline(text);
    (void)parse_tainted(text);
    (void)parse_os_release(text);
    (void)parse_meminfo_total(text);
    (void)parse_bls_entry(text);
    (void)parse_grubenv(text);
    static const std::set<std::string> wanted{"linux-firmware", "firmware-amd-graphics", "podman"};
    (void)parse_dpkg_status(text, wanted);
    (void)parse_pacman_desc(text);
    (void)parse_kfd_properties(text);
    (void)parse_amdgpu_firmware_info(text);
    (void)parse_vulkaninfo_summary(text);
    (void)sanitize_text(text);
    return 0;
}
