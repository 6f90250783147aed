#pragma once
// kernel probe: the running kernel: its release, its command line and its taint.
// Reads: uname(2) on the live host, else <root>/proc/sys/kernel/osrelease; /proc/cmdline;
// /proc/sys/kernel/tainted. Privileges: none.
// Sets: kernel.release, kernel.cmdline, kernel.cmdline.PARAM (one per parameter; PARAM keeps its
// dots: kernel.cmdline.ttm.pages_limit), kernel.tainted, kernel.tainted.flags.
// Feeds: kernel version rules (6.18.4+ vs ROCm), GTT sizing (amdgpu.gttsize, ttm.pages_limit),
// amd_iommu / nomodeset rules, taint rules. Since: 0.1.0.

#include "common/result.hpp"
#include "probes/probe.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace halo::probes {

extern const ProbeInfo k_kernel_probe;

struct CmdlineParam {
    std::string name;  // as written, with '-' read as '_' (the kernel treats them alike)
    std::string value; // quotes removed; "true" for a flag without '='
};

// Splits a kernel command line the way the kernel's own parser does: blanks separate parameters
// except inside double quotes, the first '=' outside quotes splits name from value, and the quotes
// around a value (or a whole parameter) are dropped. Repeated names are all returned, in order
// (callers that want "last wins" take the last). Fails on bytes that a boot loader never writes
// (control characters, NUL) so junk becomes a reason instead of facts.
Result<std::vector<CmdlineParam>> parse_cmdline(std::string_view text);

struct Taint {
    std::uint64_t value = 0;
    std::string flags; // letters of the set bits in bit order ("OE"); '?' for bits the kernel added later
};

// /proc/sys/kernel/tainted: a decimal number.
Result<Taint> parse_tainted(std::string_view text);

// The running kernel's release: uname() on the live host, the fixture's osrelease file otherwise.
Result<std::string> read_running_release(const Host& host);

} // namespace halo::probes
