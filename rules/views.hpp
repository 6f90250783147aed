#pragma once
// Views of one machine's facts. "After reboot": the kernel the boot loader will start; the
// firmware the installed packages ship (the loaded firmware is forgotten, as it will be reloaded
// from the packages), unknown when no firmware package is known or the initramfs is older than
// them; everything else as now.

#include "rules/facts.hpp"

#include <span>
#include <string_view>

namespace halo::rules {

Facts next_boot_view(const Facts& now);

// The packages that ship amdgpu's firmware blobs, across distributions (facts package.NAME.*).
std::span<const std::string_view> firmware_packages();

} // namespace halo::rules
