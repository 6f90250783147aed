#pragma once
// packages probe: installed versions of the packages the rules care about (firmware, kernel,
// Mesa, podman/toolbox, ROCm runtime).
// Reads: the RPM database through librpm, read-only, under the root prefix
// (<root>/usr/lib/sysimage/rpm or <root>/var/lib/rpm: rpmdb.sqlite, Packages or Packages.db);
// /var/lib/dpkg/status and the mtime of /var/lib/dpkg/info/NAME[:ARCH].list (dpkg keeps no install
// time); /var/lib/pacman/local/*/desc. Privileges: none (all world-readable).
// Sets: packages.manager (rpm|dpkg|pacman); per installed package NAME: package.NAME.version,
// .release, .epoch (only when set), .evr ([EPOCH:]VERSION-RELEASE), .installtime (unix seconds).
// A package that is not installed has no facts (absent, not unknown).
// Feeds: firmware (20251125 = MES 0x83), kernel-core, Mesa and ROCm version rules; the boot
// probe's initramfs-vs-firmware age. Since: 0.1.0.
//
// librpm keeps global state (configuration, macros, log callback); collect() sets it up and tears
// it down within one call, so it must not run concurrently with other librpm users.

#include "common/result.hpp"
#include "probes/probe.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace halo::probes {

extern const ProbeInfo k_packages_probe;

struct PackageVersion {
    std::string name;
    std::string epoch; // empty when the package has none
    std::string version;
    std::string release; // empty when the version has no release part
    std::optional<std::int64_t> installtime;
    std::string arch;

    std::string evr() const; // "2:20251201-3.fc43", "20260110-1.fc43"
};

// Splits a Debian or pacman version string "[EPOCH:]VERSION[-RELEASE]" (release after the last '-').
PackageVersion split_version(std::string_view full);

// Installed packages ("Status: … installed") among `wanted`, from /var/lib/dpkg/status text.
std::map<std::string, PackageVersion> parse_dpkg_status(std::string_view text, const std::set<std::string>& wanted);

// One /var/lib/pacman/local/*/desc file (%NAME%, %VERSION%, %INSTALLDATE%, %ARCH%).
Result<PackageVersion> parse_pacman_desc(std::string_view text);

// Queries the RPM database at <root><dbpath> for `names`; the newest installed version of each
// (several kernel-core versions are normal). Fails when the database is missing (librpm would
// create one) or unreadable. Leaves no new file under `root`.
Result<std::map<std::string, PackageVersion>> query_rpmdb(const std::string& root, const std::string& dbpath,
                                                          const std::vector<std::string>& names);

// The default list of packages to ask about.
const std::vector<std::string>& default_packages();

} // namespace halo::probes
