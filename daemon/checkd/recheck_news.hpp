#pragma once
// What a re-check has to tell, decided from plain values so tests check it without a loop, a
// journal or a desktop: what to do with a batch of changes the watchers saw, the journal entry for
// a reload, which of the two views (now and after a reboot) has news and the notification each
// gets, and which facts changed.

#include "daemon/checkd/journal_event.hpp"
#include "daemon/checkd/notification.hpp"
#include "daemon/checkd/watchers.hpp"
#include "rules/evaluate.hpp"
#include "rules/facts.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace halo::checkd {

struct BatchPlan {
    std::string why;     // "changed: packages,boot"
    bool reload = false; // rules or config changed: read them again before judging
    // "The machine changed", for a batch that is more than the daemon's own files.
    std::optional<JournalRecord> record;
};
BatchPlan plan_batch(const WatchBatch& batch);

// rules-reloaded, or rules-rejected when `reload_error` says what failed.
JournalRecord reload_record(const std::string& reload_error, std::size_t rule_count);

enum class View { now, next_boot };

// What was last reported for one view: its verdict and its broken and warning findings (rule id
// → severity). Restored from the state file, so a daemon restart does not report (or notify) the
// same news again.
struct ReportedView {
    std::optional<rules::Verdict> verdict;
    std::map<std::string, rules::Severity> findings;
};
struct ReportedVerdicts {
    ReportedView now;
    ReportedView next_boot;
};
ReportedVerdicts reported_verdicts(const nlohmann::json& state);
ReportedView reported_view(const rules::Report& report);

// A view with news: its verdict is not the one last reported (or not ok when none was), or a
// broken or warning finding appeared or got more severe — a second, independent breakage under
// an old one is news too. Each piece of news is notified once per re-check (verdict_changed,
// broken_after_reboot), naming what is new; [notify] min_severity filters.
struct ViewNews {
    View view = View::now;
    std::optional<rules::Verdict> previous;
    rules::Verdict verdict = rules::Verdict::ok;
    NotificationKind notification = NotificationKind::verdict_changed;
    std::vector<std::string> new_findings; // rule ids, in the report's order
};
// "now" first.
std::vector<ViewNews> view_news(const ReportedVerdicts& reported, const rules::Report& now,
                                const rules::Report& next_boot);
// verdict-changed or next-boot-changed. `report` is the view's; `kernel_next` the kernel the boot
// loader will start.
JournalRecord view_record(const ViewNews& news, const rules::Report& report, const std::string& why,
                          const std::string& kernel_next);

// The facts that changed at a re-check, kept (state file, "Show details") until a later re-check
// changes something.
struct RecheckChanges {
    std::vector<std::string> lines; // as format_diff_lines writes them
    std::string at;                 // RFC 3339
    std::string why;
};
// None when nothing changed, so the last changes stay shown.
std::optional<RecheckChanges> recheck_changes(const rules::Facts& before, const rules::Facts& after, std::string why,
                                              std::string at);

// The report "Show details" opens: both views as `halo-check check` prints them, then the changes.
std::string details_report(const rules::Report& now, const rules::Report& next_boot, const rules::Facts& facts,
                           const RecheckChanges& changes);

// state.json's "next_boot" and "changes".
nlohmann::ordered_json next_boot_json(const rules::Report& next_boot, const rules::Facts& facts);
nlohmann::ordered_json changes_json(const RecheckChanges& changes);

} // namespace halo::checkd
