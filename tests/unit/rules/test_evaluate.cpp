#include "rules/evaluate.hpp"
#include "rules/rule_file.hpp"
#include "tests/unit/support/rules_text.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace halo::rules;
using halo::ExitCode;

namespace {

halo::rules::RuleSet load(const char* text) { return halo::test::load_rules_text(text); }

const char* const k_rules = R"toml(
[[rule]]
id = "fw.broken"
severity = "broken"
title = "bad firmware with rocm"
fix = "downgrade"
when = { "package.linux-firmware.version" = "20251125", "engine.backend" = "rocm" }

[[rule]]
id = "mes.broken"
severity = "broken"
title = "MES 0x83 loaded with rocm"
fix = "downgrade"
when = { "gpu.*.firmware.mes" = "0x00000083", "engine.backend" = "rocm" }

[[rule]]
id = "ctx.warn"
severity = "warning"
title = "huge context"
fix = "-c 65536"
when = { "engine.ctx_size" = "> 131072" }

[[rule]]
id = "note.info"
severity = "info"
title = "uses vulkan"
when = { "engine.backend" = "vulkan" }

[[known_good]]
id = "good.radv"
title = "RADV"
when = { "engine.backend" = "vulkan", "package.linux-firmware.version" = ">= 20260110" }
)toml";

} // namespace

TEST_CASE("verdicts and exit codes follow the monitoring-plugin convention", "[rules][evaluate]")
{
    const RuleSet rules = load(k_rules);
    Facts f;
    f.set("engine.backend", "vulkan");
    f.set("package.linux-firmware.version", "20260110");
    Report r = evaluate(rules, f);
    CHECK(r.verdict == Verdict::ok);
    CHECK(r.exit_code == ExitCode::ok);
    REQUIRE(r.findings.size() == 1); // info findings are reported too
    CHECK(r.findings[0].rule->id == "note.info");
    REQUIRE(r.known_good);
    CHECK(r.known_good->id == "good.radv");

    f.set("engine.ctx_size", "200000");
    r = evaluate(rules, f);
    CHECK(r.verdict == Verdict::warning);
    CHECK(r.exit_code == ExitCode::warning);
    CHECK(evaluate(rules, f, {FailOn::broken, false}).exit_code == ExitCode::ok);

    f.set("engine.backend", "rocm");
    f.set("package.linux-firmware.version", "20251125");
    r = evaluate(rules, f);
    CHECK(r.verdict == Verdict::broken);
    CHECK(r.exit_code == ExitCode::broken);
    CHECK(r.findings.front().rule->id == "fw.broken"); // broken first
    auto matched = r.findings.front().matched;
    std::sort(matched.begin(), matched.end());
    CHECK(matched == std::vector<std::pair<std::string, std::string>>{{"engine.backend", "rocm"},
                                                                      {"package.linux-firmware.version", "20251125"}});
    CHECK(evaluate(rules, f, {FailOn::broken, false}).exit_code == ExitCode::broken);
    CHECK(r.known_good == nullptr);
}

TEST_CASE("a broken rule that would match but for unknown facts is undecided", "[rules][evaluate]")
{
    const RuleSet rules = load(k_rules);
    Facts f;
    f.set("engine.backend", "rocm");
    f.set("package.linux-firmware.version", "20260110");
    f.mark_unknown("gpu.*", "drm probe failed: no answer in 5 s");
    Report r = evaluate(rules, f);
    CHECK(r.findings.empty());
    REQUIRE(r.undecided.size() == 1);
    CHECK(r.undecided[0].rule->id == "mes.broken");
    CHECK(r.undecided[0].unknown[0].first == "gpu.*.firmware.mes");
    CHECK(r.undecided[0].unknown[0].second == "drm probe failed: no answer in 5 s");
    CHECK(r.verdict == Verdict::warning);
    CHECK(r.exit_code == ExitCode::warning);

    // A false condition decides even when another is unknown.
    f.set("engine.backend", "vulkan");
    r = evaluate(rules, f);
    CHECK(r.undecided.empty());
}

TEST_CASE("strict mode warns about untested combinations", "[rules][evaluate]")
{
    const RuleSet rules = load(k_rules);
    Facts f;
    f.set("engine.backend", "cpu");
    CHECK(evaluate(rules, f).verdict == Verdict::ok);
    Report strict = evaluate(rules, f, {FailOn::warning, true});
    CHECK(strict.untested);
    CHECK(strict.verdict == Verdict::warning);
    CHECK(strict.exit_code == ExitCode::warning);
}
