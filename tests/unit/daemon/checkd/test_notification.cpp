#include "daemon/checkd/notification.hpp"
#include "tests/unit/support/knowledge_base.hpp"

#include "rules/facts_io.hpp"
#include "rules/rule_loader.hpp"
#include "rules/views.hpp"

#include <catch2/catch.hpp>

#include <filesystem>

using namespace halo::checkd;
using halo::rules::Severity;
using halo::rules::Verdict;

namespace {

const halo::rules::RuleSet& kb() { return halo::test::embedded_kb(); }

halo::rules::Facts fixture(const char* name) { return halo::test::facts_fixture(name); }

// The field report's machine before the reboot: 6.18.3 running, 6.18.5 the boot default,
// the engine in llama-rocm-7.1.1.
halo::rules::Facts before_reboot()
{
    halo::rules::Facts facts = fixture("broken-kernel-6.18.5-rocm-7.1.1.toml");
    facts.set("kernel.release", "6.18.3-200.fc43.x86_64");
    facts.set("kernel.next_boot.release", "6.18.5-200.fc43.x86_64");
    facts.set("kernel.next_boot.differs", "true");
    return facts;
}

} // namespace

TEST_CASE("markup is escaped: & < > become entities, nothing else changes", "[daemon][notification]")
{
    CHECK(escape_markup("a < b && c > d") == "a &lt; b &amp;&amp; c &gt; d");
    CHECK(escape_markup("<b>bold</b>") == "&lt;b&gt;bold&lt;/b&gt;");
    CHECK(escape_markup("&amp;") == "&amp;amp;"); // escaped once, exactly
    CHECK(escape_markup("plain → text \"quoted\" 'x'") == "plain → text \"quoted\" 'x'");
    CHECK(escape_markup("").empty());
}

TEST_CASE("policy: disabled sends nothing, min_severity filters, an update of a shown topic always passes",
          "[daemon][notification]")
{
    Notification info;
    info.severity = Severity::info;
    Notification broken;
    broken.severity = Severity::broken;
    CHECK_FALSE(passes({false, Severity::info}, broken, false));
    CHECK(passes({true, Severity::warning}, broken, false));
    CHECK_FALSE(passes({true, Severity::warning}, info, false));
    CHECK(passes({true, Severity::warning}, info, true));                 // "ready again" replaces "broken"
    CHECK_FALSE(passes({true, Severity::broken}, Notification{}, false)); // a warning below broken
    CHECK_FALSE(passes({false, Severity::info}, info, true));
}

TEST_CASE("after-reboot broken: what breaks, why, and how to keep the working kernel", "[daemon][notification]")
{
    const halo::rules::Facts now = before_reboot();
    const halo::rules::Report now_report = halo::rules::evaluate(kb(), now);
    REQUIRE(now_report.verdict != Verdict::broken); // 6.18.3 runs 7.1.1 fine
    const halo::rules::Report after = halo::rules::evaluate(kb(), halo::rules::next_boot_view(now));
    REQUIRE(after.verdict == Verdict::broken);

    NotificationInput in = describe(NotificationKind::broken_after_reboot, now, after);
    CHECK(in.engine == "llama-rocm-7.1.1");
    CHECK(in.backend == "rocm");
    REQUIRE_FALSE(in.causes.empty());
    CHECK(in.causes.front().rule_id == "rocm.kernel-6.18.4-needs-fixed-rocm");

    halo::rules::Facts good = now;
    good.set("package.linux-firmware.version", "20251111");
    halo::rules::Facts current = now;
    current.set("package.linux-firmware.version", "20251125");
    in.diff = halo::rules::diff_facts(good, current);
    in.last_known_good_recorded = "2026-01-12T08:54:03Z";
    in.details_path = "/state/report.txt";

    const Notification n = compose_notification(in);
    CHECK(n.topic == k_topic_verdict_next_boot);
    CHECK(n.urgency == Urgency::critical);
    CHECK(n.severity == Severity::broken);
    CHECK(n.details_path == "/state/report.txt");
    CHECK(n.summary == "Rebooting now will break your ROCm engine (llama-rocm-7.1.1)");
    CHECK_THAT(n.body, Catch::StartsWith("Kernel 6.18.5-200.fc43 will start. Kernel 6.18.4 and newer crash ROCm "
                                         "images without the gfx1151 fix.\n"));
    // The fix is the rule's own first sentence, nothing the daemon makes up.
    const halo::rules::Rule* rule = kb().find_rule("rocm.kernel-6.18.4-needs-fixed-rocm");
    REQUIRE(rule != nullptr);
    const std::string fix = rule->fix.substr(0, rule->fix.find(". ") + 1);
    CHECK_THAT(n.body, Catch::Contains("\nFix: " + fix + "\n"));
    CHECK(n.body.find("as the default") == std::string::npos);
    CHECK_THAT(n.body, Catch::Contains("Changed since it last worked (2026-01-12T08:54:03Z):\n"
                                       "package.linux-firmware.version 20251111 → 20251125"));
    CHECK(n.body.find("toolbox create") == std::string::npos); // only the fix's first sentence
}

TEST_CASE("after reboot: the fix is the rule's, whatever the kernel or the package manager", "[daemon][notification]")
{
    NotificationInput in;
    in.kind = NotificationKind::broken_after_reboot;
    in.verdict = Verdict::broken;
    in.backend = "rocm";
    in.engine = "llama-rocm-7.2";
    in.kernel_now = in.kernel_next = "6.18.5-200.fc43.x86_64";
    in.causes = {{"rocm.firmware-20251125",
                  Severity::broken,
                  "linux-firmware 20251125 hangs ROCm (MES 0x83)",
                  "Downgrade linux-firmware to 20251111. Then regenerate the initramfs.",
                  {"package.linux-firmware.version"}}};
    Notification n = compose_notification(in);
    CHECK(n.body ==
          "After a reboot: linux-firmware 20251125 hangs ROCm (MES 0x83).\nFix: Downgrade linux-firmware to 20251111.");

    in.kernel_now = "6.18.3-200.fc43.x86_64";
    in.causes.front().matched_keys = {"kernel.release"};
    n = compose_notification(in);
    CHECK(n.body == "Kernel 6.18.5-200.fc43 will start. linux-firmware 20251125 hangs ROCm (MES 0x83).\n"
                    "Fix: Downgrade linux-firmware to 20251111.");

    in.verdict = Verdict::ok;
    in.causes.clear();
    n = compose_notification(in);
    CHECK(n.summary == "Rebooting is safe again");
    CHECK(n.topic == k_topic_verdict_next_boot); // replaces the warning on screen
    CHECK(n.urgency == Urgency::low);
}

TEST_CASE("a verdict changed by a new knowledge feed says so first", "[daemon][notification]")
{
    const halo::rules::Facts facts = fixture("broken-kernel-6.18.5-rocm-7.1.1.toml");
    const halo::rules::Report report = halo::rules::evaluate(kb(), facts);
    NotificationInput in = describe(NotificationKind::verdict_changed, facts, report);
    in.previous = Verdict::ok;
    const std::string without = compose_notification(in).body;
    in.knowledge = "knowledge feed: 12 (halo-check knowledge, published 2026-12-01T00:00:00Z, expires "
                   "2027-01-01T00:00:00Z)";
    const Notification n = compose_notification(in);
    CHECK(n.body == "new knowledge: 12 (halo-check knowledge, published 2026-12-01T00:00:00Z, expires "
                    "2027-01-01T00:00:00Z)\n" +
                        without);
}

TEST_CASE("verdict change: broken now names the first cause, the others briefly, and the diff",
          "[daemon][notification]")
{
    const halo::rules::Facts facts = fixture("broken-kernel-6.18.5-rocm-7.1.1.toml");
    const halo::rules::Report report = halo::rules::evaluate(kb(), facts);
    REQUIRE(report.verdict == Verdict::broken);
    NotificationInput in = describe(NotificationKind::verdict_changed, facts, report);
    in.previous = Verdict::ok;
    in.diff = halo::rules::diff_facts(fixture("ok-vulkan-radv.toml"), facts);
    const Notification n = compose_notification(in);
    CHECK(n.topic == k_topic_verdict_now);
    CHECK(n.urgency == Urgency::critical);
    CHECK(n.summary == "ROCm engine (llama-rocm-7.1.1) broken: Kernel 6.18.4 and newer crash ROCm images without the "
                       "gfx1151 fix");
    CHECK_THAT(n.body, Catch::StartsWith("Fix: Move the engine to an image with the fix.\nAlso:\n• "));
    // Room for five diff lines, kernel first; the rest is counted.
    CHECK_THAT(n.body, Catch::Contains("Changed since it last worked:\nkernel.release 6.18.9-200.fc43.x86_64 → "
                                       "6.18.5-200.fc43.x86_64\n"));
    CHECK_THAT(n.body, Catch::Contains(" more: halo-check diff"));

    in.verdict = Verdict::ok;
    in.previous = Verdict::broken;
    const Notification ok = compose_notification(in);
    CHECK(ok.summary == "ROCm engine (llama-rocm-7.1.1): checks pass again");
    CHECK(ok.body == "The problems reported before are gone (verdict ok, was broken).");
    CHECK(ok.severity == Severity::info);
    CHECK(ok.topic == n.topic);
}

TEST_CASE("engine given up, GPU reset and ready again share topics so updates replace", "[daemon][notification]")
{
    NotificationInput in;
    in.engine = "llama-vulkan-radv";
    in.kind = NotificationKind::engine_given_up;
    in.detail = "It crashed 5 times in 10 minutes (last: killed by SIGABRT, vk::DeviceLostError).";
    in.diff = halo::rules::FactsDiff{};
    in.last_known_good_recorded = "2026-01-20T10:00:00Z";
    const Notification given_up = compose_notification(in);
    CHECK(given_up.topic == k_topic_engine);
    CHECK(given_up.urgency == Urgency::critical);
    CHECK(given_up.summary == "llama-vulkan-radv stopped: it failed too often, no more restarts");
    CHECK(given_up.body == "It crashed 5 times in 10 minutes (last: killed by SIGABRT, vk::DeviceLostError).\n"
                           "Fix: remove the cause, then run: halo-check restart\n\n"
                           "Nothing changed since it last worked (2026-01-20T10:00:00Z).");

    in.kind = NotificationKind::engine_ready_again;
    in.detail.clear();
    const Notification ready = compose_notification(in);
    CHECK(ready.topic == given_up.topic);
    CHECK(ready.urgency == Urgency::low);
    CHECK(ready.summary == "llama-vulkan-radv is ready again");

    in.kind = NotificationKind::gpu_reset;
    in.event_severity = Severity::warning;
    in.detail = "amdgpu: MES failed to respond to msg=MISC (WAIT_REG_MEM) <this is the known MES 0x83 hang>";
    in.fix = "Install linux-firmware 20260110 or later. It carries MES 0x80.";
    in.diff.reset();
    const Notification reset = compose_notification(in);
    CHECK(reset.topic == k_topic_gpu);
    CHECK(reset.urgency == Urgency::normal);
    CHECK(reset.summary == "The GPU was reset while llama-vulkan-radv was running");
    CHECK(reset.body == in.detail + "\nFix: Install linux-firmware 20260110 or later.");

    // Another log pattern (a page fault, an engine error) says what it is, not "GPU reset".
    in.kind = NotificationKind::log_event;
    in.event_severity = Severity::broken;
    in.detail = "GPU page fault with MES firmware 0x83 (10000 lines)";
    const Notification fault = compose_notification(in);
    CHECK(fault.topic == k_topic_gpu);
    CHECK(fault.urgency == Urgency::critical);
    CHECK(fault.summary == "GPU page fault with MES firmware 0x83 (10000 lines) (llama-vulkan-radv)");
    CHECK_THAT(fault.body, Catch::Contains("Fix: Install linux-firmware 20260110 or later."));
    CHECK_THAT(fault.summary, !Catch::Contains("reset"));
}

TEST_CASE("an API check turned fail: Claude Code will not work, which check, why and the fix", "[daemon][notification]")
{
    NotificationInput in;
    in.engine = "llama-vulkan-radv";
    in.kind = NotificationKind::api_check_failed;
    in.detail = "The prefill check failed: HTTP 400: Assistant response prefill is incompatible with enable_thinking";
    in.fix = "Turn thinking off (--reasoning-budget 0)";
    const Notification n = compose_notification(in);
    CHECK(n.topic == k_topic_api);
    CHECK(n.urgency == Urgency::critical);
    CHECK(n.severity == halo::rules::Severity::broken);
    CHECK(n.summary == "Claude Code will not work with llama-vulkan-radv");
    CHECK(n.body == "The prefill check failed: HTTP 400: Assistant response prefill is incompatible with "
                    "enable_thinking\nFix: Turn thinking off (--reasoning-budget 0)\n"
                    "Check it again: halo-check engine-check");
    in.fix.clear();
    CHECK(compose_notification(in).body.find("Fix:") == std::string::npos);
}

TEST_CASE("compose copes with empty input: no engine, no causes, no kernels", "[daemon][notification]")
{
    for (auto kind : {NotificationKind::verdict_changed, NotificationKind::broken_after_reboot,
                      NotificationKind::engine_given_up, NotificationKind::gpu_reset, NotificationKind::log_event,
                      NotificationKind::engine_ready_again, NotificationKind::api_check_failed}) {
        for (auto verdict : {Verdict::ok, Verdict::warning, Verdict::broken, Verdict::unknown}) {
            NotificationInput in;
            in.kind = kind;
            in.verdict = verdict;
            const Notification n = compose_notification(in);
            CHECK_FALSE(n.summary.empty());
            CHECK_FALSE(n.body.empty());
            CHECK_FALSE(n.topic.empty());
        }
    }
}

TEST_CASE("a new breakage under an old one leads the notification, the old one follows under Also",
          "[daemon][notification]")
{
    NotificationInput in;
    in.kind = NotificationKind::verdict_changed;
    in.verdict = Verdict::broken;
    in.previous = Verdict::broken;
    in.backend = "rocm";
    in.engine = "llama-rocm-7.1.1";
    in.causes = {{"rocm.kernel", Severity::broken, "Kernel crashes ROCm", "Move the engine. More text.", {}},
                 {"firmware.pkg", Severity::broken, "Firmware 20251125 breaks ROCm", "Update the firmware.", {}},
                 {"engine.ctx", Severity::warning, "Huge context", "Use -c 65536.", {}}};
    in.new_rule_ids = {"firmware.pkg"};
    Notification n = compose_notification(in);
    CHECK(n.summary == "ROCm engine (llama-rocm-7.1.1) broken, and a new problem: Firmware 20251125 breaks ROCm");
    CHECK(n.body == "Fix: Update the firmware.\nAlso:\n• Kernel crashes ROCm\n• Huge context");

    in.new_rule_ids = {"firmware.pkg", "engine.ctx"};
    n = compose_notification(in);
    CHECK(n.body == "Fix: Update the firmware.\nAlso:\n• Huge context (new)\n• Kernel crashes ROCm");

    // A verdict change names what is new first too, without "and a new problem".
    in.previous = Verdict::warning;
    n = compose_notification(in);
    CHECK(n.summary == "ROCm engine (llama-rocm-7.1.1) broken: Firmware 20251125 breaks ROCm");

    in.kind = NotificationKind::broken_after_reboot;
    in.new_rule_ids = {"firmware.pkg"};
    n = compose_notification(in);
    CHECK(n.summary == "Rebooting now will break your ROCm engine (llama-rocm-7.1.1)");
    CHECK_THAT(n.body, Catch::StartsWith("After a reboot: Firmware 20251125 breaks ROCm.\nFix: Update the firmware."));
}
