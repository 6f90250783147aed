#pragma once
// A log pattern's title as a template: `{1}` … `{99}` stand for the regex's groups in the matched
// line (`{0}` the whole match) and `{engine.model.path}` for a fact, so a title can name what
// the line names ("model file not found: {1}") or what it leaves out ("'{engine.model.path}' is
// not a GGUF file"). `{{` and `}}` are literal braces; other text in braces stays as written.
// Pure: the caller hands in the groups and the facts.

#include "rules/facts.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace halo::rules {

// The longest text one placeholder puts into a title; longer values end in "…".
inline constexpr std::size_t k_max_placeholder_bytes = 256;

// `title` with its placeholders filled. A group that took no part in the match is empty; a fact
// that is not set reads "(unknown)". Filled text is never read as a template again, and control
// characters in it become '?': a log line cannot forge a placeholder, a line break or an
// unbounded title.
std::string fill_title(std::string_view title, std::span<const std::string> groups, const Facts& facts);

// What is wrong with `title` for a regex of `group_count` groups: a group it does not have, an
// unclosed `{`. Empty when the title is fine.
std::vector<std::string> title_problems(std::string_view title, unsigned group_count);

// The fact keys a title names, for the catalogue lint.
std::vector<std::string> title_fact_keys(std::string_view title);

} // namespace halo::rules
