#include "daemon/checkd/recheck_news.hpp"

#include <catch2/catch.hpp>

#include <syslog.h>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

using namespace halo;
using namespace halo::checkd;
using rules::Verdict;

namespace {

using Fields = std::vector<std::pair<std::string, std::string>>;

WatchBatch batch(std::initializer_list<WatchCategory> categories, std::vector<std::string> paths)
{
    WatchBatch b;
    for (WatchCategory c : categories) b.categories.add(c);
    b.paths = std::move(paths);
    return b;
}

const rules::Rule k_broken_rule{
    "rocm.kernel-6.18.4-needs-fixed-rocm", rules::Severity::broken, "ROCm breaks", "", "", {}, "", {}, {}, {}};

const rules::Rule k_firmware_rule{
    "firmware.linux-firmware-20251125-rocm", rules::Severity::broken, "MES 0x83", "", "", {}, "", {}, {}, {}};
const rules::Rule k_warning_rule{"engine.ctx-200k", rules::Severity::warning, "slow", "", "", {}, "", {}, {}, {}};
const rules::Rule k_info_rule{"engine.tip", rules::Severity::info, "tip", "", "", {}, "", {}, {}, {}};

rules::Report broken_report()
{
    rules::Report r;
    r.verdict = Verdict::broken;
    r.findings.push_back({&k_broken_rule, {}});
    return r;
}

rules::Report report(Verdict verdict, const std::vector<const rules::Rule*>& found = {})
{
    rules::Report r;
    r.verdict = verdict;
    for (const rules::Rule* rule : found) r.findings.push_back({rule, {}});
    return r;
}

ReportedVerdicts reported(std::optional<Verdict> now, std::optional<Verdict> next_boot)
{
    return {{now, {}}, {next_boot, {}}};
}

} // namespace

TEST_CASE("a batch of machine changes is re-checked and journalled, the daemon's own files are reloaded",
          "[daemon][recheck]")
{
    const BatchPlan packages = plan_batch(batch({WatchCategory::packages, WatchCategory::boot},
                                                {"/boot/loader/entries/x.conf", "/var/lib/rpm/rpmdb.sqlite"}));
    CHECK(packages.why == "changed: packages,boot");
    CHECK_FALSE(packages.reload);
    REQUIRE(packages.record);
    CHECK(packages.record->kind == JournalEventKind::system_changed);
    CHECK(packages.record->priority == LOG_INFO);
    CHECK(packages.record->message == "The machine changed (packages,boot); checking again");
    CHECK(packages.record->extra == Fields{{"HALO_CATEGORIES", "packages,boot"},
                                           {"HALO_PATHS", "/boot/loader/entries/x.conf /var/lib/rpm/rpmdb.sqlite"}});

    // Our own rules or config: a reload, and its own journal entry (reload_record), not this one.
    for (WatchCategory own : {WatchCategory::rules, WatchCategory::config, WatchCategory::knowledge}) {
        const BatchPlan p = plan_batch(batch({own}, {"/etc/halo-check/config.toml"}));
        CHECK(p.reload);
        CHECK_FALSE(p.record);
    }
    const BatchPlan both = plan_batch(batch({WatchCategory::rules, WatchCategory::devices}, {}));
    CHECK(both.reload);
    REQUIRE(both.record);
    CHECK(both.record->extra == Fields{{"HALO_CATEGORIES", "rules,devices"}, {"HALO_PATHS", ""}});
}

TEST_CASE("a reload is journalled as reloaded or, with what failed, as rejected", "[daemon][recheck]")
{
    const JournalRecord ok = reload_record("", 42);
    CHECK(ok.kind == JournalEventKind::rules_reloaded);
    CHECK(ok.priority == LOG_INFO);
    CHECK(ok.message == "Rules and configuration reloaded (42 rules)");

    const JournalRecord bad = reload_record("config.toml:3:1: bad key; running on the last good config", 42);
    CHECK(bad.kind == JournalEventKind::rules_rejected);
    CHECK(bad.priority == LOG_ERR);
    CHECK(bad.message == "Reload failed; the last good rules and configuration stay in use: "
                         "config.toml:3:1: bad key; running on the last good config");
}

TEST_CASE("the verdicts last reported come back from the state file, anything else is not known", "[daemon][recheck]")
{
    const ReportedVerdicts both = reported_verdicts(nlohmann::json::parse(
        R"({"verdict":{"verdict":"broken","findings":[{"id":"a","severity":"broken"},{"id":"t","severity":"info"}]},
            "next_boot":{"verdict":"ok","findings":[]}})"));
    CHECK(both.now.verdict == Verdict::broken);
    CHECK(both.now.findings == std::map<std::string, rules::Severity>{{"a", rules::Severity::broken}});
    CHECK(both.next_boot.verdict == Verdict::ok);
    CHECK(both.next_boot.findings.empty());

    const ReportedVerdicts garbled = reported_verdicts(
        nlohmann::json::parse(R"({"verdict":{"verdict":"fine","findings":[3,{"id":7},{"id":"b","severity":1}]},
                                  "next_boot":"ok"})"));
    CHECK_FALSE(garbled.now.verdict);
    CHECK(garbled.now.findings == std::map<std::string, rules::Severity>{{"b", rules::Severity::warning}});
    CHECK_FALSE(garbled.next_boot.verdict);
    CHECK_FALSE(reported_verdicts(nlohmann::json::object()).now.verdict);
}

TEST_CASE("view news: a change of either view, or a first verdict that is not ok", "[daemon][recheck]")
{
    // A fresh daemon on a healthy machine has nothing to say.
    CHECK(view_news({}, report(Verdict::ok), report(Verdict::ok)).empty());
    // Nor has a restart that finds what it reported before.
    CHECK(view_news(reported(Verdict::warning, Verdict::broken), report(Verdict::warning), report(Verdict::broken))
              .empty());

    const std::vector<ViewNews> first = view_news({}, report(Verdict::warning), report(Verdict::broken));
    REQUIRE(first.size() == 2);
    CHECK(first[0].view == View::now);
    CHECK_FALSE(first[0].previous);
    CHECK(first[0].verdict == Verdict::warning);
    CHECK(first[0].notification == NotificationKind::verdict_changed);
    CHECK(first[1].view == View::next_boot);
    CHECK(first[1].verdict == Verdict::broken);
    CHECK(first[1].notification == NotificationKind::broken_after_reboot);

    // The kernel update is undone: the after-reboot view is safe again, and says so.
    const std::vector<ViewNews> safe =
        view_news(reported(Verdict::ok, Verdict::broken), report(Verdict::ok), report(Verdict::ok));
    REQUIRE(safe.size() == 1);
    CHECK(safe[0].view == View::next_boot);
    CHECK(safe[0].previous == Verdict::broken);
    CHECK(safe[0].verdict == Verdict::ok);
    CHECK(safe[0].notification == NotificationKind::broken_after_reboot);

    const std::vector<ViewNews> now_only =
        view_news(reported(Verdict::ok, Verdict::ok), report(Verdict::broken), report(Verdict::ok));
    REQUIRE(now_only.size() == 1);
    CHECK(now_only[0].view == View::now);
    CHECK(now_only[0].previous == Verdict::ok);
}

TEST_CASE("view news: a new breakage under an old one is news, the same findings again are not", "[daemon][recheck]")
{
    // Broken for the kernel; then firmware 20251125 is installed too: the verdict stays broken.
    const rules::Report kernel_only = report(Verdict::broken, {&k_broken_rule, &k_info_rule});
    const ReportedVerdicts before{reported_view(kernel_only), reported_view(kernel_only)};
    CHECK(before.now.findings.size() == 1); // info findings are never news
    CHECK(view_news(before, kernel_only, kernel_only).empty());

    const rules::Report both = report(Verdict::broken, {&k_broken_rule, &k_firmware_rule, &k_warning_rule});
    const std::vector<ViewNews> news = view_news(before, both, kernel_only);
    REQUIRE(news.size() == 1);
    CHECK(news[0].view == View::now);
    CHECK(news[0].previous == Verdict::broken);
    CHECK(news[0].verdict == Verdict::broken);
    CHECK(news[0].new_findings == std::vector<std::string>{"firmware.linux-firmware-20251125-rocm", "engine.ctx-200k"});
    const JournalRecord record = view_record(news[0], both, "changed: packages", "");
    CHECK(record.rule == "firmware.linux-firmware-20251125-rocm");
    CHECK(record.message ==
          "New finding, verdict still broken: firmware.linux-firmware-20251125-rocm, engine.ctx-200k");

    // Reported as a warning before, broken now: more severe is news.
    ReportedVerdicts milder = before;
    milder.now.findings["firmware.linux-firmware-20251125-rocm"] = rules::Severity::warning;
    milder.now.findings["engine.ctx-200k"] = rules::Severity::warning;
    const std::vector<ViewNews> worse = view_news(milder, both, kernel_only);
    REQUIRE(worse.size() == 1);
    CHECK(worse[0].new_findings == std::vector<std::string>{"firmware.linux-firmware-20251125-rocm"});

    // A finding that goes away is not news by itself (the verdict decides that).
    CHECK(view_news({reported_view(both), reported_view(kernel_only)}, kernel_only, kernel_only).empty());
}

TEST_CASE("view news is journalled with the view, the first finding and why it was checked", "[daemon][recheck]")
{
    const JournalRecord now =
        view_record({View::now, Verdict::ok, Verdict::broken, NotificationKind::verdict_changed, {}}, broken_report(),
                    "changed: packages", "6.18.5");
    CHECK(now.kind == JournalEventKind::verdict_changed);
    CHECK(now.priority == LOG_ERR);
    CHECK(now.rule == "rocm.kernel-6.18.4-needs-fixed-rocm");
    CHECK(now.verdict == "broken");
    CHECK(now.message == "Verdict now broken (was ok): rocm.kernel-6.18.4-needs-fixed-rocm");
    CHECK(now.extra == Fields{{"HALO_VIEW", "now"}, {"HALO_WHY", "changed: packages"}});

    rules::Report warning;
    warning.verdict = Verdict::warning;
    const JournalRecord next =
        view_record({View::next_boot, std::nullopt, Verdict::warning, NotificationKind::broken_after_reboot, {}},
                    warning, "start", "6.18.5-200.fc43.x86_64");
    CHECK(next.kind == JournalEventKind::next_boot_changed);
    CHECK(next.priority == LOG_WARNING);
    CHECK(next.rule.empty());
    CHECK(next.message == "After a reboot the verdict will be warning (was not known)");
    CHECK(next.extra ==
          Fields{{"HALO_VIEW", "next_boot"}, {"HALO_WHY", "start"}, {"HALO_KERNEL_NEXT", "6.18.5-200.fc43.x86_64"}});

    const JournalRecord calm =
        view_record({View::now, Verdict::broken, Verdict::ok, NotificationKind::verdict_changed, {}}, rules::Report{},
                    "reload", "");
    CHECK(calm.priority == LOG_NOTICE);
    CHECK(calm.message == "Verdict now ok (was broken)");
}

TEST_CASE("the changes of a re-check are the facts diff, and no diff keeps the last changes", "[daemon][recheck]")
{
    rules::Facts before;
    before.set("kernel.release", "6.18.3");
    before.set("engine.backend", "rocm");
    CHECK_FALSE(recheck_changes(before, before, "changed: boot", "2026-01-12T09:14:03Z"));

    rules::Facts after = before;
    after.set("kernel.release", "6.18.5");
    const std::optional<RecheckChanges> c = recheck_changes(before, after, "changed: boot", "2026-01-12T09:14:03Z");
    REQUIRE(c);
    CHECK(c->lines == std::vector<std::string>{"kernel.release 6.18.3 → 6.18.5"});
    CHECK(c->at == "2026-01-12T09:14:03Z");
    CHECK(c->why == "changed: boot");

    const nlohmann::ordered_json j = changes_json(*c);
    CHECK(j.dump() ==
          R"({"at":"2026-01-12T09:14:03Z","why":"changed: boot","lines":["kernel.release 6.18.3 → 6.18.5"]})");
    CHECK(changes_json({}).dump() == R"({"at":null,"why":"","lines":[]})");
}

TEST_CASE("the details report holds both views, then the last changes when there are any", "[daemon][recheck]")
{
    rules::Facts facts;
    facts.set("kernel.release", "6.18.3");
    const std::string plain = details_report(rules::Report{}, broken_report(), facts, {});
    CHECK(plain.rfind("Now:\n", 0) == 0);
    CHECK(plain.find("\nAfter a reboot:\n") != std::string::npos);
    CHECK(plain.find("rocm.kernel-6.18.4-needs-fixed-rocm") > plain.find("After a reboot:"));
    CHECK(plain.find("Changed at the last re-check") == std::string::npos);

    const std::string with_changes = details_report(rules::Report{}, broken_report(), facts,
                                                    {{"kernel.release 6.18.3 → 6.18.5"}, "2026-01-12T09:14:03Z", "x"});
    CHECK(with_changes.find(
              "\nChanged at the last re-check (2026-01-12T09:14:03Z):\n  kernel.release 6.18.3 → 6.18.5\n") !=
          std::string::npos);
}

TEST_CASE("state.json's next_boot names the kernel the boot loader will start and the findings", "[daemon][recheck]")
{
    rules::Facts facts;
    facts.set("kernel.next_boot.release", "6.18.5-200.fc43.x86_64");
    CHECK(next_boot_json(broken_report(), facts).dump() ==
          R"({"verdict":"broken","kernel":"6.18.5-200.fc43.x86_64","findings":[)"
          R"({"id":"rocm.kernel-6.18.4-needs-fixed-rocm","severity":"broken","title":"ROCm breaks"}]})");
    CHECK(next_boot_json(rules::Report{}, rules::Facts{}).dump() == R"({"verdict":"ok","kernel":"","findings":[]})");
}
