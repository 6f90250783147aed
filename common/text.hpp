#pragma once
// Small text helpers the probes' parsers share (sysfs values, os-release, BLS and package files).

#include <optional>
#include <string_view>

namespace halo {

// `s` without leading and trailing blanks (space, tab, CR, LF).
std::string_view trim(std::string_view s) noexcept;
// A whole decimal number, or nullopt (empty, sign, junk, overflow).
std::optional<unsigned long> to_number(std::string_view s) noexcept;

} // namespace halo
