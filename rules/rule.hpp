#pragma once
// Rules, known-good combinations and log patterns: plain data loaded from TOML, each keeping the
// file and line it came from for messages.

#include "rules/condition.hpp"

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace halo::rules {

enum class Severity { info, warning, broken };

std::string_view to_string(Severity severity) noexcept;
std::optional<Severity> severity_from_string(std::string_view text) noexcept;

struct SourceLocation {
    std::string file; // "embedded:firmware.toml", "/etc/halo-check/rules.d/local.toml"
    int line = 0;
    int column = 0;
    std::string str() const;
};

struct Rule {
    std::string id;
    Severity severity = Severity::warning;
    std::string title;
    std::string explain;
    std::string fix;
    std::vector<std::string> links;
    std::string since; // YYYY-MM-DD
    std::vector<Condition> when;
    std::vector<Condition> unless; // counter-evidence: when it is known to hold, the rule does not apply
    SourceLocation where;
};

struct KnownGood {
    std::string id;
    std::string title;
    std::string explain;
    std::vector<std::string> links;
    std::string since;
    std::vector<Condition> when;
    SourceLocation where;
};

enum class LogSource { kernel, engine, any };

struct LogPattern {
    std::string id;
    std::string regex_text;
    std::shared_ptr<const std::regex> regex; // compiled once at load
    Severity severity = Severity::warning;
    std::string title;
    std::string explain;
    std::string fix;
    std::vector<std::string> links;
    std::string since;
    std::vector<Condition> when; // facts that attribute the line to a known cause
    LogSource source = LogSource::any;
    SourceLocation where;
};

struct RuleSet {
    std::vector<Rule> rules;
    std::vector<KnownGood> known_good;
    std::vector<LogPattern> log_patterns;
    std::vector<std::string> files; // in the order they were applied

    const Rule* find_rule(std::string_view id) const;
    const KnownGood* find_known_good(std::string_view id) const;
    const LogPattern* find_log_pattern(std::string_view id) const;
};

} // namespace halo::rules
