#include "rules/log_match.hpp"

#include "rules/condition_set.hpp"
#include "rules/log_title.hpp"

#include <algorithm>
#include <regex>
#include <vector>

namespace halo::rules {

namespace {

// The first fitting pattern and its match's groups.
const LogPattern* find_match(std::span<const LogPattern> patterns, LogSource origin, std::string_view line,
                             const Facts& facts, std::cmatch& groups)
{
    for (const LogPattern& p : patterns) {
        if (!p.regex || (p.source != LogSource::any && p.source != origin)) continue;
        try {
            if (!std::regex_search(line.data(), line.data() + line.size(), groups, *p.regex)) continue;
        } catch (const std::regex_error&) {
            continue;
        }
        if (evaluate_all(p.when, facts).result == Tri::yes) return &p;
    }
    return nullptr;
}

} // namespace

const LogPattern* match_log_line(std::span<const LogPattern> patterns, LogSource origin, std::string_view line,
                                 const Facts& facts)
{
    std::cmatch groups;
    return find_match(patterns, origin, line, facts, groups);
}

std::optional<LogMatch> explain_log_line(std::span<const LogPattern> patterns, LogSource origin, std::string_view line,
                                         const Facts& facts)
{
    std::cmatch groups;
    const LogPattern* p = find_match(patterns, origin, line, facts, groups);
    if (!p) return std::nullopt;
    std::vector<std::string> texts;
    texts.reserve(groups.size());
    for (const auto& g : groups) texts.push_back(g.matched ? g.str() : std::string());
    return LogMatch{p, fill_title(p->title, texts, facts)};
}

} // namespace halo::rules
