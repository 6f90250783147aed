#include "rules/rule.hpp"

#include <fmt/core.h>

namespace halo::rules {

std::string SourceLocation::str() const
{
    if (line <= 0) return file;
    return fmt::format("{}:{}:{}", file, line, column);
}

std::string_view to_string(Severity severity) noexcept
{
    switch (severity) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::broken: return "broken";
    }
    return "unknown";
}

std::optional<Severity> severity_from_string(std::string_view text) noexcept
{
    if (text == "info") return Severity::info;
    if (text == "warning") return Severity::warning;
    if (text == "broken") return Severity::broken;
    return std::nullopt;
}

const Rule* RuleSet::find_rule(std::string_view id) const
{
    for (const Rule& r : rules)
        if (r.id == id) return &r;
    return nullptr;
}

const KnownGood* RuleSet::find_known_good(std::string_view id) const
{
    for (const KnownGood& g : known_good)
        if (g.id == id) return &g;
    return nullptr;
}

const LogPattern* RuleSet::find_log_pattern(std::string_view id) const
{
    for (const LogPattern& p : log_patterns)
        if (p.id == id) return &p;
    return nullptr;
}

} // namespace halo::rules
