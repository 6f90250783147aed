#include "rules/condition.hpp"

#include "common/text.hpp"
#include "rules/version.hpp"

#include <fmt/core.h>

#include <fnmatch.h>

#include <algorithm>
#include <array>

namespace halo::rules {

namespace {

bool glob_matches(const std::string& pattern, std::string_view value)
{
    if (pattern.find_first_of("*?[") == std::string::npos) return value == pattern;
    const std::string text(value); // fnmatch needs NUL-terminated input
    return ::fnmatch(pattern.c_str(), text.c_str(), 0) == 0;
}

bool starts_with_operator(std::string_view s)
{
    return !s.empty() && (s.front() == '<' || s.front() == '>' || s.starts_with("==") || s.starts_with("!="));
}

Result<Comparison> parse_comparison(std::string_view term)
{
    static constexpr std::array<std::pair<std::string_view, CompareOp>, 6> k_ops{{
        {"<=", CompareOp::le},
        {">=", CompareOp::ge},
        {"==", CompareOp::eq},
        {"!=", CompareOp::ne},
        {"<", CompareOp::lt},
        {">", CompareOp::gt},
    }};
    term = trim(term);
    for (const auto& [text, op] : k_ops) {
        if (!term.starts_with(text)) continue;
        const std::string_view version = trim(term.substr(text.size()));
        if (version.empty()) {
            return Error{fmt::format("'{}' has an operator but no version to compare with (write e.g. '{} 6.18.4')",
                                     term, text)};
        }
        if (version.find_first_of("<>=!, ") != std::string_view::npos) {
            return Error{fmt::format("'{}' is not a valid comparison (one operator, then one version)", term)};
        }
        return Comparison{op, std::string(version)};
    }
    return Error{fmt::format("'{}' does not start with an operator (<, <=, >, >=, ==, !=); join several "
                             "comparisons with ','",
                             term)};
}

bool compare_holds(const Comparison& c, std::string_view value)
{
    const int rc = evr_compare(value, c.version);
    switch (c.op) {
    case CompareOp::lt: return rc < 0;
    case CompareOp::le: return rc <= 0;
    case CompareOp::gt: return rc > 0;
    case CompareOp::ge: return rc >= 0;
    case CompareOp::eq: return rc == 0;
    case CompareOp::ne: return rc != 0;
    }
    return false;
}

} // namespace

Result<Matcher> parse_matcher(std::string_view text)
{
    Matcher m;
    const std::string_view t = trim(text);
    if (t.empty()) return Error{"an empty condition matches nothing; use \"*\" to test that a fact is present"};
    if (t == "*") {
        m.kind = Matcher::Kind::present;
        return m;
    }
    if (t == "!*") {
        m.kind = Matcher::Kind::absent;
        return m;
    }
    if (starts_with_operator(t)) {
        m.kind = Matcher::Kind::compare;
        std::string_view rest = t;
        while (true) {
            const auto comma = rest.find(',');
            auto c = parse_comparison(rest.substr(0, comma));
            if (!c) return c.error();
            m.comparisons.push_back(std::move(*c));
            if (comma == std::string_view::npos) break;
            rest.remove_prefix(comma + 1);
        }
        return m;
    }
    if (t.front() == '!') {
        m.kind = Matcher::Kind::not_glob;
        m.pattern = std::string(t.substr(1));
        if (m.pattern.empty()) return Error{"'!' needs a pattern after it (\"!*\" tests that a fact is absent)"};
        return m;
    }
    m.kind = Matcher::Kind::glob;
    m.pattern = std::string(text); // not trimmed: a glob may mean its spaces
    return m;
}

std::string misspelt_comparison(std::string_view glob)
{
    const std::string_view t = trim(glob);
    static constexpr std::pair<std::string_view, std::string_view> k_swapped[] = {
        {"=>", ">="}, {"=<", "<="}, {"=!", "!="}};
    for (const auto& [wrong, right] : k_swapped) {
        if (t.substr(0, wrong.size()) == wrong) return std::string(right) + std::string(t.substr(wrong.size()));
    }
    return {};
}

std::string describe(const Matcher& m)
{
    auto quoted = [](std::string_view s) { return fmt::format("\"{}\"", s); };
    auto list = [&](const std::vector<Matcher>& alternatives) {
        std::string out;
        for (const Matcher& a : alternatives) out += (out.empty() ? "" : ", ") + describe(a);
        return "[" + out + "]";
    };
    switch (m.kind) {
    case Matcher::Kind::glob: return quoted(m.pattern);
    case Matcher::Kind::not_glob: return quoted("!" + m.pattern);
    case Matcher::Kind::present: return quoted("*");
    case Matcher::Kind::absent: return quoted("!*");
    case Matcher::Kind::compare: {
        static constexpr std::string_view k_ops[] = {"<", "<=", ">", ">=", "==", "!="};
        std::string out;
        for (const Comparison& c : m.comparisons) {
            out += fmt::format("{}{} {}", out.empty() ? "" : ", ", k_ops[static_cast<int>(c.op)], c.version);
        }
        return quoted(out);
    }
    case Matcher::Kind::any_of: return list(m.alternatives);
    case Matcher::Kind::none_of: return "{ none = " + list(m.alternatives) + " }";
    }
    return {};
}

bool Matcher::matches(std::string_view value) const
{
    switch (kind) {
    case Kind::glob: return glob_matches(pattern, value);
    case Kind::not_glob: return !glob_matches(pattern, value);
    case Kind::present: return true;
    case Kind::absent: return false;
    case Kind::compare:
        return std::all_of(comparisons.begin(), comparisons.end(),
                           [&](const Comparison& c) { return compare_holds(c, value); });
    case Kind::any_of:
        return std::any_of(alternatives.begin(), alternatives.end(),
                           [&](const Matcher& a) { return a.matches(value); });
    case Kind::none_of:
        return std::none_of(alternatives.begin(), alternatives.end(),
                            [&](const Matcher& a) { return a.matches(value); });
    }
    return false;
}

bool Matcher::holds_when_absent() const
{
    switch (kind) {
    case Kind::not_glob:
    case Kind::absent:
    case Kind::none_of: return true;
    case Kind::any_of:
        return std::any_of(alternatives.begin(), alternatives.end(),
                           [](const Matcher& a) { return a.holds_when_absent(); });
    default: return false;
    }
}

ConditionOutcome evaluate(const Condition& condition, const Facts& facts)
{
    ConditionOutcome out;
    if (!condition.wildcard) {
        if (const Fact* fact = facts.find(condition.key)) {
            if (condition.matcher.matches(fact->value)) {
                out.result = Tri::yes;
                out.matched.emplace_back(condition.key, fact->value);
            }
            return out;
        }
    } else {
        const auto keys = facts.keys_matching(condition.key);
        for (const std::string& key : keys) {
            const Fact* fact = facts.find(key);
            if (fact && condition.matcher.matches(fact->value)) out.matched.emplace_back(key, fact->value);
        }
        if (!out.matched.empty()) {
            out.result = Tri::yes;
            return out;
        }
        if (!keys.empty()) {
            // Instances exist and none satisfies; an unknown pattern may still hide more of them.
            if (auto reason = facts.unknown_reason(condition.key)) {
                out.result = Tri::unknown;
                out.unknown_reason = std::move(*reason);
            }
            return out;
        }
    }
    // The fact is missing: unknown if its probe failed or did not run, else absent.
    if (auto reason = facts.unknown_reason(condition.key)) {
        out.result = Tri::unknown;
        out.unknown_reason = std::move(*reason);
        return out;
    }
    if (condition.matcher.holds_when_absent()) {
        out.result = Tri::yes;
        out.matched.emplace_back(condition.key, "(absent)");
    }
    return out;
}

} // namespace halo::rules
