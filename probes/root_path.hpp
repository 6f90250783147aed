#pragma once
// Paths under a root prefix that stay under it: every symbolic link met on the way is resolved as
// if the root were "/" (an absolute target starts again at the root, ".." stops at it), so a
// fixture tree's `vbios_version -> /etc/shadow` names <root>/etc/shadow, never this machine's,
// and its `/etc/os-release -> /usr/lib/os-release` the tree's own file. Opening uses openat2(2)
// with RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS (Linux 5.6), where the kernel does the same walk
// without a race; resolve_in_root() is the walk done here, for older kernels (ENOSYS) and for the
// Host's stat, listing and link reads. Reads: lstat() and readlink() on the components.

#include "common/fd.hpp"
#include "common/result.hpp"

#include <filesystem>
#include <string_view>

namespace halo::probes {

// At most this many links on one path, as the kernel's own limit (ELOOP past it).
inline constexpr int k_max_links_in_root = 40;

// `absolute` ("/sys/x/y", leading '/' optional) under `root`, its links resolved inside the root;
// `follow_last` false leaves the last component as it is (for lstat and readlink). A missing
// component ends the resolution: the rest is joined as written (the result then does not exist).
// Errors: ELOOP for too many links, or the errno of an lstat/readlink that failed otherwise.
Result<std::filesystem::path> resolve_in_root(const std::filesystem::path& root, std::string_view absolute,
                                              bool follow_last = true);

// open(2) of `absolute` under `root` with `flags` (O_CLOEXEC added), confined as above: openat2
// where the kernel has it, else resolve_in_root() and an open with O_NOFOLLOW.
Result<Fd> open_in_root(const std::filesystem::path& root, std::string_view absolute, int flags);
// The same through resolve_in_root() alone, as on a kernel without openat2 (and for its tests).
Result<Fd> open_in_root_walked(const std::filesystem::path& root, std::string_view absolute, int flags);

} // namespace halo::probes
