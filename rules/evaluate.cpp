#include "rules/evaluate.hpp"

#include "rules/condition_set.hpp"

#include <algorithm>

namespace halo::rules {

namespace {

int severity_rank(Severity s) { return s == Severity::broken ? 0 : (s == Severity::warning ? 1 : 2); }

// Broken, then what the next boot breaks, then other warnings, then info.
int urgency_rank(const Rule& r)
{
    if (r.severity == Severity::broken) return 0;
    if (r.severity == Severity::warning) return about_next_boot(r) ? 1 : 2;
    return 3;
}

bool deliberately_unknown(const Undecided& u)
{
    return !u.unknown.empty() && std::all_of(u.unknown.begin(), u.unknown.end(), [](const auto& entry) {
        return entry.second.find(k_not_selected_reason) != std::string::npos;
    });
}

} // namespace

std::string_view to_string(Verdict verdict) noexcept
{
    switch (verdict) {
    case Verdict::ok: return "ok";
    case Verdict::warning: return "warning";
    case Verdict::broken: return "broken";
    case Verdict::unknown: return "unknown";
    }
    return "unknown";
}

bool about_next_boot(const Rule& rule) noexcept
{
    return std::any_of(rule.when.begin(), rule.when.end(), [](const Condition& c) {
        return c.key.rfind("kernel.next_boot.", 0) == 0 || c.key.rfind("boot.", 0) == 0;
    });
}

Report evaluate(const RuleSet& rules, const Facts& facts, const EvaluateOptions& options)
{
    Report report;
    for (const Rule& rule : rules.rules) {
        ConditionSetOutcome o = evaluate_all(rule.when, facts);
        if (o.result == Tri::no) continue;
        // `unless` is counter-evidence: only when it is known to hold does it keep the rule quiet.
        if (!rule.unless.empty() && evaluate_all(rule.unless, facts).result == Tri::yes) continue;
        if (o.result == Tri::yes) {
            report.findings.push_back({&rule, std::move(o.matched)});
        } else if (o.result == Tri::unknown && rule.severity != Severity::info) {
            Undecided u{&rule, std::move(o.unknown), std::move(o.matched)};
            (deliberately_unknown(u) ? report.not_checked : report.undecided).push_back(std::move(u));
        }
    }
    std::stable_sort(report.findings.begin(), report.findings.end(),
                     [](const Finding& a, const Finding& b) { return urgency_rank(*a.rule) < urgency_rank(*b.rule); });
    std::stable_sort(report.undecided.begin(), report.undecided.end(), [](const Undecided& a, const Undecided& b) {
        return severity_rank(a.rule->severity) < severity_rank(b.rule->severity);
    });
    for (const KnownGood& good : rules.known_good) {
        if (evaluate_all(good.when, facts).result == Tri::yes) {
            report.known_good = &good;
            break;
        }
    }

    const auto has = [&](Severity s) {
        return std::any_of(report.findings.begin(), report.findings.end(),
                           [s](const Finding& f) { return f.rule->severity == s; });
    };
    const bool broken_undecided = std::any_of(report.undecided.begin(), report.undecided.end(),
                                              [](const Undecided& u) { return u.rule->severity == Severity::broken; });
    report.untested = options.strict && report.known_good == nullptr;
    if (has(Severity::broken)) report.verdict = Verdict::broken;
    else if (has(Severity::warning) || broken_undecided || report.untested) report.verdict = Verdict::warning;
    else report.verdict = Verdict::ok;

    switch (report.verdict) {
    case Verdict::broken: report.exit_code = ExitCode::broken; break;
    case Verdict::warning:
        report.exit_code = options.fail_on == FailOn::broken ? ExitCode::ok : ExitCode::warning;
        break;
    case Verdict::ok: report.exit_code = ExitCode::ok; break;
    case Verdict::unknown: report.exit_code = ExitCode::unknown; break;
    }
    return report;
}

} // namespace halo::rules
