#include "rules/judge.hpp"
#include "rules/rule_file.hpp"
#include "tests/unit/support/rules_text.hpp"

#include <catch2/catch.hpp>

using namespace halo::rules;
using halo::ExitCode;

namespace {

halo::rules::RuleSet load(const char* text) { return halo::test::load_rules_text(text); }

const char* const k_rules = R"toml(
[[rule]]
id = "fw.rocm"
severity = "broken"
title = "bad firmware with rocm"
fix = "downgrade"
when = { "package.linux-firmware.version" = "20251125*", "engine.backend" = "rocm" }

[[rule]]
id = "llvmpipe.vulkan"
severity = "broken"
title = "software Vulkan only"
fix = "install mesa-vulkan-drivers"
when = { "vulkan.software_only" = "true", "engine.backend" = "vulkan" }

[[rule]]
id = "kernel.rocm"
severity = "warning"
title = "kernel too new for rocm"
fix = "pin the kernel"
when = { "kernel.release" = ">= 6.18.4", "engine.backend" = "rocm" }

[[rule]]
id = "nextboot.rocm"
severity = "warning"
title = "the next boot breaks rocm"
fix = "set the default kernel"
when = { "kernel.next_boot.release" = ">= 6.18.4", "engine.backend" = "rocm" }

[[rule]]
id = "listen.any"
severity = "warning"
title = "listens on every address"
fix = "--host 127.0.0.1"
when = { "engine.host" = "0.0.0.0" }
)toml";

Facts strix()
{
    Facts f;
    f.set("gpu.0.pci.vendor", "0x1002");
    f.set("gpu.0.pci.device", "0x1586");
    f.set("kernel.release", "6.17.1");
    f.set("vulkan.software_only", "false");
    f.set_probe_status("drm", {});
    return f;
}

} // namespace

TEST_CASE("without an engine the machine is judged for each backend and the best one decides", "[rules][judge]")
{
    const RuleSet rules = load(k_rules);
    Facts f = strix();
    f.set("package.linux-firmware.version", "20251125-1.fc43");
    const Judgement j = judge(rules, f);
    REQUIRE(j.backends.size() == 2);
    CHECK(j.backends[0].backend == "rocm");
    CHECK(j.backends[0].report.verdict == Verdict::broken);
    CHECK(j.backends[1].backend == "vulkan");
    CHECK(j.backends[1].report.verdict == Verdict::ok);
    CHECK(j.report.verdict == Verdict::ok);
    CHECK(j.backend == std::optional<std::string>("vulkan"));

    // Both broken: the verdict is broken.
    f.set("vulkan.software_only", "true");
    const Judgement both = judge(rules, f);
    CHECK(both.report.verdict == Verdict::broken);
    CHECK(both.report.exit_code == ExitCode::broken);
}

TEST_CASE("with an engine configured its backend alone decides", "[rules][judge]")
{
    const RuleSet rules = load(k_rules);
    Facts f = strix();
    f.set("package.linux-firmware.version", "20251125-1.fc43");
    f.set("engine.backend", "rocm");
    const Judgement j = judge(rules, f);
    CHECK(j.backends.empty());
    CHECK(j.report.verdict == Verdict::broken);
    CHECK(j.backend == std::optional<std::string>("rocm"));
}

TEST_CASE("no AMD GPU is UNKNOWN unless told a GPU is not needed", "[rules][judge]")
{
    const RuleSet rules = load(k_rules);
    Facts f;
    f.set("gpu.0.pci.vendor", "0x1af4"); // a virtio GPU
    f.set("vulkan.software_only", "false");
    f.set_probe_status("drm", {});
    const Judgement j = judge(rules, f);
    CHECK(j.report.verdict == Verdict::unknown);
    CHECK(j.report.exit_code == ExitCode::unknown);
    CHECK_THAT(j.unknown_reason, Catch::Matchers::Contains("no Strix Halo GPU found"));
    JudgeOptions told;
    told.no_gpu_ok = true;
    CHECK(judge(rules, f, told).report.verdict == Verdict::ok);

    // A broken finding stays broken: it says more than "no GPU".
    f.set("vulkan.software_only", "true");
    f.set("package.linux-firmware.version", "20251125");
    CHECK(judge(rules, f).report.verdict == Verdict::broken);

    // With drm not run the presence of a GPU is not known, so it is not held against the machine.
    Facts skipped;
    skipped.set_probe_status("drm", {ProbeState::not_run, "not selected", 0});
    skipped.mark_unknown("gpu.*", "drm probe " + std::string(k_not_selected_reason));
    CHECK(amd_gpu_present(skipped) == Tri::unknown);
    CHECK(judge(rules, skipped).report.verdict == Verdict::ok);
}

TEST_CASE("a failed probe never gives a plain OK, a probe not run is not checked", "[rules][judge]")
{
    const RuleSet rules = load(k_rules);
    Facts f = strix();
    f.set("engine.backend", "rocm");
    f.erase("kernel.release");
    f.mark_unknown("kernel.*", "kernel probe failed: no /proc/sys/kernel/osrelease");
    // Unknown facts without a failed probe (a facts file that lacks them) leave the OK alone.
    CHECK(judge(rules, f).report.verdict == Verdict::ok);
    f.set_probe_status("kernel", {ProbeState::failed, "no /proc/sys/kernel/osrelease", 0});
    const Judgement failed = judge(rules, f);
    CHECK(failed.report.verdict == Verdict::unknown);
    CHECK(failed.report.exit_code == ExitCode::unknown);
    CHECK(failed.report.undecided.size() == 2); // kernel.rocm, nextboot.rocm
    CHECK_THAT(failed.unknown_reason, Catch::Matchers::Contains("2 rules could not be decided"));

    Facts only = strix();
    only.set("engine.backend", "rocm");
    only.erase("kernel.release");
    only.mark_unknown("kernel.*", "kernel probe " + std::string(k_not_selected_reason));
    only.set_probe_status("kernel", {ProbeState::not_run, "not selected", 0});
    const Judgement skipped = judge(rules, only);
    CHECK(skipped.report.verdict == Verdict::ok);
    CHECK(skipped.report.undecided.empty());
    CHECK(skipped.report.not_checked.size() == 2);

    // Without an engine, a backend whose rules all could be decided is the usable one.
    f.erase("engine.backend");
    REQUIRE(f.probes().at("kernel").state == ProbeState::failed);
    const Judgement per_backend = judge(rules, f);
    CHECK(per_backend.backends[0].report.verdict == Verdict::unknown);
    CHECK(per_backend.backends[1].report.verdict == Verdict::ok);
    CHECK(per_backend.report.verdict == Verdict::ok);
}

TEST_CASE("findings are ordered broken, next boot, other warnings", "[rules][judge]")
{
    const RuleSet rules = load(k_rules);
    Facts f = strix();
    f.set("engine.backend", "rocm");
    f.set("engine.host", "0.0.0.0");
    f.set("kernel.next_boot.release", "6.18.5");
    f.set("package.linux-firmware.version", "20251125");
    const Report r = judge(rules, f).report;
    REQUIRE(r.findings.size() == 3);
    CHECK(r.findings[0].rule->id == "fw.rocm");
    CHECK(r.findings[1].rule->id == "nextboot.rocm");
    CHECK(r.findings[2].rule->id == "listen.any");
}
