#include "rules/views.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <string_view>

namespace halo::rules {

namespace {

// Fedora's two, Arch's, Debian's.
constexpr std::array<std::string_view, 4> k_firmware_packages{"linux-firmware", "amd-gpu-firmware",
                                                              "linux-firmware-amdgpu", "firmware-amd-graphics"};

} // namespace

std::span<const std::string_view> firmware_packages() { return k_firmware_packages; }

Facts next_boot_view(const Facts& now)
{
    Facts after = now;
    if (const Fact* next = now.find("kernel.next_boot.release")) {
        after.set("kernel.release", next->value, next->source);
    } else if (now.contains("kernel.release")) {
        after.erase("kernel.release");
        after.mark_unknown("kernel.release", "the kernel of the next boot is not known (boot probe)");
    }
    // amdgpu loads its firmware at boot: what the packages install, and the package rules judge
    // it. A broken blob loaded now is not "fixed by rebooting" when nothing says what loads then:
    // with no firmware package known, or an initramfs older than the packages (it may carry the
    // blobs loaded now), the firmware after a reboot is unknown, not absent.
    for (const std::string& key : now.keys_matching("gpu.*.firmware.*")) after.erase(key);
    const bool package_known =
        std::any_of(k_firmware_packages.begin(), k_firmware_packages.end(),
                    [&](std::string_view name) { return now.contains("package." + std::string(name) + ".version"); });
    if (!package_known) {
        after.mark_unknown("gpu.*.firmware.*",
                           "no firmware package was found, so the firmware the next boot loads is not known");
    } else if (now.get("boot.initramfs.older_than_firmware") == "true") {
        after.mark_unknown("gpu.*.firmware.*", "the initramfs is older than the firmware packages, so the next "
                                               "boot may load the blobs loaded now or the packages' (sudo dracut -f)");
    }
    return after;
}

} // namespace halo::rules
