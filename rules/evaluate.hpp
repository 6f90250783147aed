#pragma once
// evaluate(rules, facts) -> Report: the findings (rule + the facts that made it match), the
// undecided rules (rule + the unknown facts), the matching known-good entry, and the verdict.
// Linear in rules × conditions. The report points into the RuleSet: keep it alive.

#include "common/fatal.hpp"
#include "rules/facts.hpp"
#include "rules/rule.hpp"

#include <string>
#include <utility>
#include <vector>

namespace halo::rules {

enum class Verdict { ok, warning, broken, unknown };
std::string_view to_string(Verdict verdict) noexcept;

enum class FailOn { warning, broken };

struct EvaluateOptions {
    FailOn fail_on = FailOn::warning;
    bool strict = false; // matching no known-good entry is a warning ("untested combination")
};

struct Finding {
    const Rule* rule = nullptr;
    std::vector<std::pair<std::string, std::string>> matched; // fact key -> value
};

struct Undecided {
    const Rule* rule = nullptr;
    std::vector<std::pair<std::string, std::string>> unknown; // fact key -> why it is unknown
    std::vector<std::pair<std::string, std::string>> matched; // the conditions that did hold
};

struct Report {
    // Most urgent first: broken, then warnings about the next boot, then other warnings, then
    // info; file order within.
    std::vector<Finding> findings;
    std::vector<Undecided> undecided; // broken and warning rules only
    // Undecided only because a probe was deliberately not run (--only/--skip): counted apart,
    // and they do not change the verdict.
    std::vector<Undecided> not_checked;
    const KnownGood* known_good = nullptr;
    bool untested = false; // strict and no known-good entry matched
    Verdict verdict = Verdict::ok;
    ExitCode exit_code = ExitCode::ok;
};

// Whether a rule is about the next boot (a condition on kernel.next_boot.* or boot.*).
bool about_next_boot(const Rule& rule) noexcept;

Report evaluate(const RuleSet& rules, const Facts& facts, const EvaluateOptions& options = {});

} // namespace halo::rules
