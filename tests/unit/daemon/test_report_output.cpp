#include "daemon/report_output.hpp"
#include "rules/rule_file.hpp"
#include "tests/unit/support/rules_text.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <sstream>

using namespace halo;

namespace {

halo::rules::RuleSet load(const char* text) { return halo::test::load_rules_text(text); }

const char* const k_rules = R"toml(
[[rule]]
id = "fw.rocm"
severity = "broken"
title = "bad firmware with rocm"
explain = "MES 0x83 hangs the compute queues."
fix = "sudo dnf downgrade linux-firmware"
links = ["https://example.org/fw"]
when = { "package.linux-firmware.version" = "20251125*", "engine.backend" = "rocm" }

[[rule]]
id = "kernel.rocm"
severity = "warning"
title = "kernel too new for rocm"
fix = "pin the kernel"
when = { "kernel.release" = ">= 6.18.4", "engine.backend" = "rocm" }
)toml";

rules::Facts strix()
{
    rules::Facts f;
    f.set("gpu.0.pci.vendor", "0x1002");
    f.set("kernel.release", "6.17.1");
    f.set("package.linux-firmware.version", "20251125-1.fc43");
    f.set_probe_status("drm", {});
    return f;
}

std::size_t longest_line(const std::string& text)
{
    std::istringstream in(text);
    std::size_t longest = 0;
    for (std::string line; std::getline(in, line);) longest = std::max(longest, line.size());
    return longest;
}

} // namespace

TEST_CASE("the per-backend report: one line per backend, the short form by default", "[daemon][report]")
{
    const rules::RuleSet rules = load(k_rules);
    const rules::Facts facts = strix();
    const rules::Judgement j = rules::judge(rules, facts);
    app::OutputStyle style;
    style.short_form = true;
    const std::string text = app::format_judgement_text(j, facts, style);
    CHECK_THAT(text, Catch::Matchers::StartsWith("halo-check: OK — no rule matched; known-good: none\n"));
    CHECK_THAT(text, Catch::Matchers::Contains("  ROCm:   BROKEN — fw.rocm\n"));
    CHECK_THAT(text, Catch::Matchers::Contains("  Vulkan: OK\n"));
    CHECK_THAT(text, Catch::Matchers::Contains("the best backend's, Vulkan"));
    CHECK(app::format_oneline(j) == "OK\n");

    rules::Facts configured = facts;
    configured.set("engine.backend", "rocm");
    configured.set("kernel.release", "6.18.5");
    const rules::Judgement rocm = rules::judge(rules, configured);
    CHECK(app::format_oneline(rocm) == "BROKEN fw.rocm (+1)\n");
    const std::string short_text = app::format_judgement_text(rocm, configured, style);
    CHECK_THAT(short_text, Catch::Matchers::StartsWith("halo-check: BROKEN — 1 broken, 1 warning; known-good: none\n"));
    CHECK_THAT(short_text, Catch::Matchers::Contains("  fix:     sudo dnf downgrade linux-firmware"));
    CHECK_THAT(short_text, !Catch::Matchers::Contains("why:"));
    CHECK_THAT(short_text, !Catch::Matchers::Contains("see:"));
    style.verbose = true;
    const std::string long_text = app::format_judgement_text(rocm, configured, style);
    CHECK_THAT(long_text, Catch::Matchers::Contains("  why:     MES 0x83 hangs the compute queues."));
    CHECK_THAT(long_text, Catch::Matchers::Contains("  see:     https://example.org/fw"));
}

TEST_CASE("no GPU: the headline says why it is UNKNOWN", "[daemon][report]")
{
    const rules::RuleSet rules = load(k_rules);
    rules::Facts facts;
    facts.set_probe_status("drm", {rules::ProbeState::not_applicable, "no DRM devices", 0});
    const rules::Judgement j = rules::judge(rules, facts);
    const std::string text = app::format_judgement_text(j, facts, {});
    CHECK_THAT(text, Catch::Matchers::StartsWith("halo-check: UNKNOWN — no Strix Halo GPU found"));
    CHECK(app::format_oneline(j) == "UNKNOWN no Strix Halo GPU found\n");
}

TEST_CASE("wrapping keeps lines within the width, continuations under their label", "[daemon][report]")
{
    const std::string line = "  fix:     " + std::string(30, 'a') + " " + std::string(30, 'b') + " " +
                             std::string(30, 'c') + "\n  because: short\n";
    const std::string wrapped = app::wrap_text(line, 60);
    CHECK(longest_line(wrapped) <= 60);
    CHECK(wrapped == "  fix:     " + std::string(30, 'a') + "\n           " + std::string(30, 'b') + "\n           " +
                         std::string(30, 'c') + "\n  because: short\n");
    // Colour escapes take no room.
    const std::string coloured = "\x1b[1;31mBROKEN\x1b[0m " + std::string(50, 'x');
    CHECK(app::wrap_text(coloured, 60) == coloured);
    // A word longer than the line is left whole.
    const std::string url = "  see:     https://" + std::string(80, 'u');
    CHECK(app::wrap_text(url, 60) == url);
}

TEST_CASE("a report taller than the screen repeats its verdict at the end", "[daemon][report]")
{
    const rules::RuleSet rules = load(k_rules);
    rules::Facts facts = strix();
    facts.set("engine.backend", "rocm");
    app::OutputStyle style;
    style.height = 5;
    const std::string text = app::format_judgement_text(rules::judge(rules, facts), facts, style);
    const std::string first = text.substr(0, text.find('\n') + 1);
    CHECK(text.size() > first.size());
    CHECK(text.substr(text.size() - first.size()) == first);
    style.height = 500;
    const std::string fits = app::format_judgement_text(rules::judge(rules, facts), facts, style);
    CHECK(fits.substr(fits.size() - first.size()) != first);
}

TEST_CASE("diagnostics carry file, line and column as fields", "[daemon][report]")
{
    const auto d = app::diagnostic_json("error", "/etc/halo-check/rules.d/a.toml:12:5: unknown field 'whne'");
    CHECK(d["file"] == "/etc/halo-check/rules.d/a.toml");
    CHECK(d["line"] == 12);
    CHECK(d["column"] == 5);
    CHECK(d["message"] == "unknown field 'whne'");
    const auto plain = app::diagnostic_json("warning", "no *.toml files in 'x'");
    CHECK(plain["file"].is_null());
    CHECK(plain["message"] == "no *.toml files in 'x'");
}

TEST_CASE("the machine block's client line: Claude Code's URL and model, or why none", "[daemon][report]")
{
    const rules::RuleSet rules = load(k_rules);
    rules::Facts facts = strix();
    app::OutputStyle style;
    CHECK_THAT(app::format_judgement_text(rules::judge(rules, facts), facts, style),
               Catch::Matchers::Contains("  client    none found\n"));
    facts.set_probe_status("client",
                           {rules::ProbeState::not_applicable, "no Claude Code settings ('/home/u/.claude')"});
    CHECK_THAT(app::format_judgement_text(rules::judge(rules, facts), facts, style),
               Catch::Matchers::Contains("  client    none found (no Claude Code settings)\n"));
    facts.set_probe_status("client", {rules::ProbeState::failed, "Failed to parse '/home/u/.claude/settings.json'"});
    CHECK_THAT(app::format_judgement_text(rules::judge(rules, facts), facts, style),
               Catch::Matchers::Contains("  client    none found (client probe failed: Failed to parse "
                                         "'/home/u/.claude/settings.json')\n"));
    facts.set("client.kind", "claude-code");
    facts.set("client.claude_code.base_url", "http://localhost:8081");
    facts.set("client.claude_code.model", "glm-4.7-flash");
    facts.set("client.claude_code.points_at_engine", "other-port");
    facts.set("client.claude_code.attribution_header", "on");
    CHECK_THAT(
        app::format_judgement_text(rules::judge(rules, facts), facts, style),
        Catch::Matchers::Contains("  client    Claude Code → http://localhost:8081, model glm-4.7-flash (not the "
                                  "engine's port), attribution header on\n"));
}
