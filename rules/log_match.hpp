#pragma once
// Which `[[log_pattern]]` explains a log line: the first, in rule order, whose source fits, whose
// regex finds the line and whose `when` facts all hold. The knowledge base puts an attributed
// entry ("the known MES 0x83 hang", with `when`) before the generic one for the same line.

#include "rules/facts.hpp"
#include "rules/rule.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace halo::rules {

// `origin` is where the line comes from (kernel or engine); patterns with source `any` fit both.
// A regex that gives up on a hostile line (std::regex_error) is no match.
const LogPattern* match_log_line(std::span<const LogPattern> patterns, LogSource origin, std::string_view line,
                                 const Facts& facts);

struct LogMatch {
    const LogPattern* pattern = nullptr;
    std::string title; // the pattern's title filled from the line's groups and the facts (log_title.hpp)
};

// match_log_line, with the title filled in for this line.
std::optional<LogMatch> explain_log_line(std::span<const LogPattern> patterns, LogSource origin, std::string_view line,
                                         const Facts& facts);

} // namespace halo::rules
