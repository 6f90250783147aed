#include "daemon/checkd/machine_watch.hpp"

#include "watch_test_support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

using namespace halo;
using namespace halo::checkd;
using rules::Verdict;

namespace {

const rules::Rule k_broken_rule{
    "rocm.firmware-20251125", rules::Severity::broken, "MES hangs", "", "", {}, "", {}, {}, {}};

// The Manager's side, as plain values.
struct FakeManager final : MachineWatchEvents {
    rules::Facts facts;
    rules::Report report;
    std::vector<std::pair<std::string, bool>> rechecks;
    std::vector<std::string> resets;
    int state_changes = 0;

    void recheck(const std::string& why, bool reload) override { rechecks.emplace_back(why, reload); }
    void gpu_reset(const std::string& reason) override { resets.push_back(reason); }
    void watch_state_changed() override { ++state_changes; }
    const rules::Facts& current_facts() const override { return facts; }
    const rules::Report& current_report() const override { return report; }
};

std::size_t count(const std::string& text, const std::string& what)
{
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

} // namespace

TEST_CASE("notify_policy reads the notify table, an unknown min_severity means warning", "[daemon][machine_watch]")
{
    const NotifyPolicy off = notify_policy({false, "broken"});
    CHECK_FALSE(off.enabled);
    CHECK(off.min_severity == rules::Severity::broken);
    CHECK(notify_policy({true, "info"}).min_severity == rules::Severity::info);
    CHECK(notify_policy({true, "loud"}).min_severity == rules::Severity::warning);
}

TEST_CASE("machine watch: news against the restored verdicts, reloads and changes, in the journal and state.json",
          "[daemon][machine_watch]")
{
    test::TempDir dir;
    sd_event* e = nullptr;
    REQUIRE(sd_event_new(&e) >= 0);
    SdEvent loop(e);
    const std::string export_path = (dir.path() / "export").string();
    LogSink log(export_path);
    ManagerOptions options;
    options.config_path = (dir.path() / "config.toml").string();
    options.no_watch = true;
    options.journal = LogMonitorOptions::Journal::none;
    app::Config config;
    config.notify.enabled = false; // no desktop here: the notification is composed, then filtered
    FakeManager manager;
    const rules::RuleSet no_rules;

    MachineWatch watch(e, options, config, log, dir.str(), manager);
    watch.restore(nlohmann::json::parse(
        R"({"verdict":{"verdict":"ok"},"next_boot":{"verdict":"ok"},"log_monitor":{"cursor":"s=0123"}})"));
    watch.start_watching();

    manager.facts.set("kernel.release", "6.18.3");
    manager.report.verdict = Verdict::broken;
    manager.report.findings.push_back({&k_broken_rule, {}});
    watch.evaluated({"start", no_rules, nullptr, false, ""});
    CHECK(watch.state_json()["log_monitor"]["cursor"] == "s=0123"); // where the monitor will resume
    watch.follow_kernel_log(no_rules);

    std::string exported = test::read_text(export_path);
    CHECK(count(exported, "MESSAGE=Verdict now broken (was ok): rocm.firmware-20251125\n") == 1);
    CHECK(count(exported, "After a reboot") == 0); // still ok, as reported before the restart
    CHECK(std::filesystem::exists(dir.path() / "report.txt"));

    nlohmann::ordered_json state = watch.state_json();
    CHECK(state["next_boot"]["verdict"] == "ok");
    CHECK(state["changes"]["at"].is_null());
    CHECK(state["last_known_good"].is_null());
    CHECK(state["log_events"] == nlohmann::ordered_json::array());
    CHECK(state["log_monitor"]["cursor"] == ""); // the monitor's own: no journal, nothing read
    CHECK(state["watch"]["enabled"] == false);
    CHECK(state["notify"] == nlohmann::ordered_json{{"enabled", false}, {"available", false}});

    // A reload that finds the kernel changed and the verdict as it was.
    const rules::Facts before = manager.facts;
    manager.facts.set("kernel.release", "6.18.5");
    watch.evaluated({"changed: boot,rules", no_rules, &before, true, ""});
    exported = test::read_text(export_path);
    CHECK(count(exported, "MESSAGE=Rules and configuration reloaded (0 rules)\n") == 1);
    CHECK(count(exported, "MESSAGE=Verdict now") == 1);
    state = watch.state_json();
    CHECK(state["changes"]["why"] == "changed: boot,rules");
    CHECK(state["changes"]["lines"] == nlohmann::ordered_json::array({"kernel.release 6.18.3 → 6.18.5"}));

    // Fixed: news again, and the changes of the last re-check that changed something stay.
    manager.report = rules::Report{};
    watch.evaluated({"changed: packages", no_rules, &manager.facts, false, ""});
    CHECK(count(test::read_text(export_path), "MESSAGE=Verdict now ok (was broken)\n") == 1);
    CHECK(watch.state_json()["changes"]["why"] == "changed: boot,rules");

    CHECK(manager.rechecks.empty());
    CHECK(manager.resets.empty());
    watch.stop();
}
