#pragma once
// A rules file cut into pieces at its entries' headers ([[rule]], [[known_good]] …), so that a
// feed of thousands of entries is parsed one entry at a time: toml++ builds a tree of nodes per
// document, and one tree for 20,000 rules outgrows the caches that one rule's tree stays in.
// The cut is on text alone; rules/rule_file.cpp parses the whole document instead whenever a
// piece does not parse or two pieces define the same table, so a cut in the wrong place (a
// header line inside a multi-line string or array) costs time, never meaning.

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace halo::rules {

// The entries of a rules file, each an array of tables: [[rule]], [[known_good]] …
inline constexpr std::string_view k_entry_kinds[] = {"rule", "known_good", "log_pattern", "disable"};

struct TextPiece {
    std::string_view text;
    std::size_t first_line = 1; // of the whole text, counted from 1
};

// The text before the first header, then one piece per line that is `[[name]]` for one of
// `names` (blanks around the name and the brackets and a trailing comment allowed), each piece
// running to the next such line. Empty pieces are left out; the pieces joined are the text.
std::vector<TextPiece> split_at_entry_headers(std::string_view text, std::span<const std::string_view> names);

} // namespace halo::rules
