#include "rules/log_match.hpp"

#include <algorithm>
#include <regex>

namespace halo::rules {

const LogPattern* match_log_line(std::span<const LogPattern> patterns, LogSource origin, std::string_view line,
                                 const Facts& facts)
{
    for (const LogPattern& p : patterns) {
        if (!p.regex || (p.source != LogSource::any && p.source != origin)) continue;
        try {
            if (!std::regex_search(line.begin(), line.end(), *p.regex)) continue;
        } catch (const std::regex_error&) {
            continue;
        }
        const bool holds = std::all_of(p.when.begin(), p.when.end(),
                                       [&](const Condition& c) { return evaluate(c, facts).result == Tri::yes; });
        if (holds) return &p;
    }
    return nullptr;
}

} // namespace halo::rules
