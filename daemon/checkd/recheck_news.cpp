#include "daemon/checkd/recheck_news.hpp"

#include "daemon/report_output.hpp"
#include "rules/facts_diff.hpp"
#include "rules/views.hpp"

#include <fmt/core.h>

#include <syslog.h>

namespace halo::checkd {

namespace {

std::string first_rule(const rules::Report& report)
{
    for (const rules::Finding& f : report.findings) {
        if (f.rule) return f.rule->id;
    }
    return {};
}

int priority_of(rules::Verdict v)
{
    switch (v) {
    case rules::Verdict::broken: return LOG_ERR;
    case rules::Verdict::warning: return LOG_WARNING;
    default: return LOG_NOTICE;
    }
}

std::optional<rules::Verdict> verdict_from(const nlohmann::json& j, const char* table)
{
    if (!j.contains(table) || !j[table].is_object()) return std::nullopt;
    const std::string v = j[table].value("verdict", "");
    for (rules::Verdict x :
         {rules::Verdict::ok, rules::Verdict::warning, rules::Verdict::broken, rules::Verdict::unknown}) {
        if (rules::to_string(x) == v) return x;
    }
    return std::nullopt;
}

std::map<std::string, rules::Severity> findings_from(const nlohmann::json& j, const char* table)
{
    std::map<std::string, rules::Severity> out;
    if (!j.contains(table) || !j[table].is_object() || !j[table].contains("findings")) return out;
    const nlohmann::json& findings = j[table]["findings"];
    if (!findings.is_array()) return out;
    for (const nlohmann::json& f : findings) {
        if (!f.is_object() || !f.contains("id") || !f["id"].is_string()) continue;
        const auto severity = rules::severity_from_string(f.contains("severity") && f["severity"].is_string()
                                                              ? f["severity"].get<std::string>()
                                                              : std::string("warning"));
        if (severity && *severity != rules::Severity::info) out[f["id"].get<std::string>()] = *severity;
    }
    return out;
}

// The broken and warning findings not reported before, or reported as less severe.
std::vector<std::string> new_findings(const ReportedView& reported, const rules::Report& report)
{
    std::vector<std::string> out;
    for (const rules::Finding& f : report.findings) {
        if (!f.rule || f.rule->severity == rules::Severity::info) continue;
        const auto it = reported.findings.find(f.rule->id);
        if (it == reported.findings.end() || it->second < f.rule->severity) out.push_back(f.rule->id);
    }
    return out;
}

std::optional<ViewNews> news_of(View view, const ReportedView& reported, const rules::Report& report)
{
    ViewNews news{view, reported.verdict, report.verdict,
                  view == View::now ? NotificationKind::verdict_changed : NotificationKind::broken_after_reboot,
                  new_findings(reported, report)};
    const bool verdict_news =
        reported.verdict ? *reported.verdict != report.verdict : report.verdict != rules::Verdict::ok;
    if (!verdict_news && news.new_findings.empty()) return std::nullopt;
    return news;
}

nlohmann::ordered_json findings_json(const rules::Report& report)
{
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const rules::Finding& f : report.findings) {
        if (f.rule) {
            out.push_back({{"id", f.rule->id},
                           {"severity", std::string(rules::to_string(f.rule->severity))},
                           {"title", f.rule->title}});
        }
    }
    return out;
}

} // namespace

BatchPlan plan_batch(const WatchBatch& batch)
{
    BatchPlan plan;
    plan.reload = batch.categories.contains(WatchCategory::rules) || batch.categories.contains(WatchCategory::config) ||
                  batch.categories.contains(WatchCategory::knowledge);
    plan.why = fmt::format("changed: {}", batch.categories.str());
    if (!plan.reload || batch.categories.size() > 1) {
        std::string paths;
        for (const std::string& p : batch.paths) paths += (paths.empty() ? "" : " ") + p;
        JournalRecord r;
        r.kind = JournalEventKind::system_changed;
        r.priority = LOG_INFO;
        r.message = fmt::format("The machine changed ({}); checking again", batch.categories.str());
        r.extra = {{"HALO_CATEGORIES", batch.categories.str()}, {"HALO_PATHS", paths}};
        plan.record = std::move(r);
    }
    return plan;
}

JournalRecord reload_record(const std::string& reload_error, std::size_t rule_count)
{
    const bool failed = !reload_error.empty();
    JournalRecord r;
    r.kind = failed ? JournalEventKind::rules_rejected : JournalEventKind::rules_reloaded;
    r.priority = failed ? LOG_ERR : LOG_INFO;
    r.message = failed ? "Reload failed; the last good rules and configuration stay in use: " + reload_error
                       : fmt::format("Rules and configuration reloaded ({} rules)", rule_count);
    return r;
}

ReportedVerdicts reported_verdicts(const nlohmann::json& state)
{
    return {{verdict_from(state, "verdict"), findings_from(state, "verdict")},
            {verdict_from(state, "next_boot"), findings_from(state, "next_boot")}};
}

ReportedView reported_view(const rules::Report& report)
{
    ReportedView view{report.verdict, {}};
    for (const rules::Finding& f : report.findings) {
        if (f.rule && f.rule->severity != rules::Severity::info) view.findings[f.rule->id] = f.rule->severity;
    }
    return view;
}

std::vector<ViewNews> view_news(const ReportedVerdicts& reported, const rules::Report& now,
                                const rules::Report& next_boot)
{
    std::vector<ViewNews> out;
    if (auto news = news_of(View::now, reported.now, now)) out.push_back(std::move(*news));
    if (auto news = news_of(View::next_boot, reported.next_boot, next_boot)) out.push_back(std::move(*news));
    return out;
}

JournalRecord view_record(const ViewNews& news, const rules::Report& report, const std::string& why,
                          const std::string& kernel_next)
{
    JournalRecord r;
    const bool now = news.view == View::now;
    r.kind = now ? JournalEventKind::verdict_changed : JournalEventKind::next_boot_changed;
    r.priority = priority_of(news.verdict);
    r.rule = news.new_findings.empty() ? first_rule(report) : news.new_findings.front();
    r.verdict = std::string(rules::to_string(news.verdict));
    const std::string was = news.previous ? std::string(rules::to_string(*news.previous)) : "not known";
    const std::string cause = r.rule.empty() ? "" : ": " + r.rule;
    if (news.previous == news.verdict) {
        std::string ids;
        for (const std::string& id : news.new_findings) ids += (ids.empty() ? "" : ", ") + id;
        r.message = now ? fmt::format("New finding, verdict still {}: {}", r.verdict, ids)
                        : fmt::format("New finding after a reboot, verdict still {}: {}", r.verdict, ids);
    } else {
        r.message = now ? fmt::format("Verdict now {} (was {}){}", r.verdict, was, cause)
                        : fmt::format("After a reboot the verdict will be {} (was {}){}", r.verdict, was, cause);
    }
    if (now) r.extra = {{"HALO_VIEW", "now"}, {"HALO_WHY", why}};
    else r.extra = {{"HALO_VIEW", "next_boot"}, {"HALO_WHY", why}, {"HALO_KERNEL_NEXT", kernel_next}};
    return r;
}

std::optional<RecheckChanges> recheck_changes(const rules::Facts& before, const rules::Facts& after, std::string why,
                                              std::string at)
{
    const rules::FactsDiff d = rules::diff_facts(before, after);
    if (d.empty()) return std::nullopt;
    return RecheckChanges{rules::format_diff_lines(d), std::move(at), std::move(why)};
}

std::string details_report(const rules::Report& now, const rules::Report& next_boot, const rules::Facts& facts,
                           const RecheckChanges& changes)
{
    std::string text = "Now:\n" + app::format_report_text(now, facts, {}) + "\nAfter a reboot:\n" +
                       app::format_report_text(next_boot, rules::next_boot_view(facts), {});
    if (!changes.lines.empty()) {
        text += "\nChanged at the last re-check (" + changes.at + "):\n";
        for (const std::string& l : changes.lines) text += "  " + l + "\n";
    }
    return text;
}

nlohmann::ordered_json next_boot_json(const rules::Report& next_boot, const rules::Facts& facts)
{
    return {{"verdict", std::string(rules::to_string(next_boot.verdict))},
            {"kernel", facts.get("kernel.next_boot.release").value_or("")},
            {"findings", findings_json(next_boot)}};
}

nlohmann::ordered_json changes_json(const RecheckChanges& changes)
{
    return {{"at", changes.at.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(changes.at)},
            {"why", changes.why},
            {"lines", changes.lines}};
}

} // namespace halo::checkd
