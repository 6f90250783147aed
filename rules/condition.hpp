#pragma once
// A condition of a rule's `when`: a key pattern (may hold `*` segments) and a matcher, parsed once
// at load time; evaluation never re-parses strings.

#include "common/result.hpp"
#include "rules/facts.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace halo::rules {

enum class Tri { no, yes, unknown };

enum class CompareOp { lt, le, gt, ge, eq, ne };

struct Comparison {
    CompareOp op;
    std::string version;
};

// One matcher term. Kinds form a small closed set.
struct Matcher {
    enum class Kind { glob, not_glob, present, absent, compare, any_of, none_of };
    Kind kind = Kind::glob;
    std::string pattern;                 // glob / not_glob
    std::vector<Comparison> comparisons; // compare: all must hold
    std::vector<Matcher> alternatives;   // any_of: any holds; none_of: globs, none may match

    // Does a present value satisfy it?
    bool matches(std::string_view value) const;
    // Does an absent fact satisfy it (negations and `!*` do)?
    bool holds_when_absent() const;
};

// Parses one string term: "glob", "!glob", "*", "!*", ">= 6.18.4, < 6.19".
Result<Matcher> parse_matcher(std::string_view text);

// A glob that was meant as a comparison ("=> 6.18" is a glob that never matches a version): the
// comparison it was probably meant as (">= 6.18"), or empty when it looks like a plain glob.
std::string misspelt_comparison(std::string_view glob);

// The term as it is written in a rules file: "\">= 6.18.4, < 6.19\"", ["a", "b"], { none = [...] }.
std::string describe(const Matcher& m);

struct Condition {
    std::string key;
    bool wildcard = false; // key holds `*`
    Matcher matcher;
};

struct ConditionOutcome {
    Tri result = Tri::no;
    std::vector<std::pair<std::string, std::string>> matched; // key -> value ("(absent)")
    std::string unknown_reason;                               // when result is unknown
};

ConditionOutcome evaluate(const Condition& condition, const Facts& facts);

} // namespace halo::rules
