#pragma once
// Version ordering, exactly as RPM orders versions: everything in halo-check that orders versions
// (kernel releases, package EVRs, dates, numbers in rule conditions) calls these.

#include <string_view>

namespace halo::rules {

// rpmvercmp semantics: alphanumeric segments, numeric segments compared as numbers (leading zeros
// ignored) and newer than alphabetic ones, `~` sorts before anything (even the end), `^` after the
// end but before any further segment. Returns -1, 0 or 1.
int rpm_vercmp(std::string_view a, std::string_view b) noexcept;

// EPOCH:VERSION-RELEASE comparison (rpm's EVR order): a missing epoch is 0; the release (after the
// last '-') is compared only when both sides have one, so "6.18.4-200.fc43.x86_64" equals "6.18.4".
int evr_compare(std::string_view a, std::string_view b) noexcept;

} // namespace halo::rules
