#pragma once
// Views of one machine's facts. "After reboot": the kernel the boot loader will start, the
// firmware the installed packages ship (the loaded firmware is forgotten: it will be reloaded
// from the packages), everything else as now.

#include "rules/facts.hpp"

namespace halo::rules {

Facts next_boot_view(const Facts& now);

} // namespace halo::rules
