#pragma once
// "Did you mean …?" for ids, keys and subcommands.

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace halo {

std::size_t edit_distance(std::string_view a, std::string_view b);
// The candidate nearest to `word`, if it is close enough to be a plausible typo.
std::optional<std::string> nearest(std::string_view word, std::span<const std::string> candidates);

} // namespace halo
