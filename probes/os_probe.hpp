#pragma once
// os probe: which distribution this is, from os-release(5).
// Reads: /etc/os-release, else /usr/lib/os-release (the file os-release(5) says to fall back to).
// Privileges: none (world-readable files).
// Sets: host.os.id, host.os.version_id, host.os.name (PRETTY_NAME), host.os.id_like.
// Feeds: distribution-specific rules (Fedora-only firmware advice, Debian packaging names).
// Since: 0.1.0.

#include "common/result.hpp"
#include "probes/probe.hpp"

#include <map>
#include <string>
#include <string_view>

namespace halo::probes {

extern const ProbeInfo k_os_probe;

// Parses os-release text: `KEY=value` lines whose value may be single- or double-quoted, with the
// shell escapes os-release(5) allows inside double quotes (\" \\ \$ \`). Comments, blank lines and
// lines that are not assignments are skipped, as the spec tells readers to do. Fails only on input
// that is not text (NUL bytes), so a caller can tell "garbage" from "some odd lines".
Result<std::map<std::string, std::string>> parse_os_release(std::string_view text);

} // namespace halo::probes
