#pragma once
// The canonical fact keys: the public contract documented in docs/facts.md. Instance segments
// (N, NAME, UCODE, PARAM) are written `*`. `halo-check rules validate` warns about a condition key
// that matches no entry, naming the nearest one.

#include <span>
#include <string_view>

namespace halo::rules {

struct CatalogueEntry {
    std::string_view pattern;     // "gpu.*.firmware.*"
    std::string_view probe;       // which probe sets it ("drm"), "config" or "engine"
    std::string_view example;     // "0x00000080"
    std::string_view description; // one line
};

std::span<const CatalogueEntry> fact_catalogue();
// True when `key` (which may itself hold `*` segments) is covered by a catalogue entry.
bool in_catalogue(std::string_view key);

} // namespace halo::rules
