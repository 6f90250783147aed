#include "rules/views.hpp"

namespace halo::rules {

Facts next_boot_view(const Facts& now)
{
    Facts after = now;
    if (const Fact* next = now.find("kernel.next_boot.release")) {
        after.set("kernel.release", next->value, next->source);
    } else if (now.contains("kernel.release")) {
        after.erase("kernel.release");
        after.mark_unknown("kernel.release", "the kernel of the next boot is not known (boot probe)");
    }
    // What amdgpu loads after a reboot is what the firmware packages install (plus the initramfs,
    // which the boot probe reports separately), not what is loaded now.
    for (const std::string& key : now.keys_matching("gpu.*.firmware.*")) after.erase(key);
    return after;
}

} // namespace halo::rules
