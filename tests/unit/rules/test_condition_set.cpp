// Conditions on one `*` family bind one instance: the discrete GPU's facts cannot satisfy a rule
// about the Strix Halo GPU with the help of the integrated one's.

#include "rules/condition_set.hpp"
#include "rules/rule_file.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace halo::rules;

namespace {

std::vector<Condition> when(const char* table)
{
    const std::string text = std::string("[[rule]]\nid = \"t\"\nseverity = \"warning\"\ntitle = \"t\"\nfix = \"f\"\n"
                                         "since = 2026-01-01\nlinks = [\"https://example.org\"]\nwhen = ") +
                             table + "\n";
    RulesFile file = parse_rules_file(text, "t.toml");
    for (const auto& d : file.diagnostics) INFO(d.message);
    REQUIRE_FALSE(file.has_errors());
    REQUIRE(file.entries.rules.size() == 1);
    return file.entries.rules.front().when;
}

Facts two_gpus()
{
    Facts f;
    f.set("gpu.0.pci.device", "0x744c"); // RX 7900 XTX
    f.set("gpu.0.firmware.mes", "0x00000083");
    f.set("gpu.1.pci.device", "0x1586"); // Strix Halo
    f.set("gpu.1.firmware.mes", "0x00000080");
    return f;
}

} // namespace

TEST_CASE("join family: the key up to a `*` that more segments follow", "[rules][condition]")
{
    CHECK(join_family("gpu.*.pci.device") == "gpu.*");
    CHECK(join_family("gpu.*.firmware.*") == "gpu.*");
    CHECK(join_family("container.*.image.tag") == "container.*");
    CHECK(join_family("kernel.cmdline.*").empty()); // a trailing `*` names parameters, not instances
    CHECK(join_family("kernel.release").empty());
    CHECK(join_family("gpu.x*.pci").empty()); // `*` inside a segment is a glob, not an instance
}

TEST_CASE("conditions on one `*` family must hold for the same instance", "[rules][condition]")
{
    const auto c = when(R"({ "gpu.*.pci.device" = "0x1586", "gpu.*.firmware.mes" = "0x00000083" })");
    Facts facts = two_gpus();
    // The dGPU runs MES 0x83 and the iGPU is a Strix Halo: no single GPU is both.
    CHECK(evaluate_all(c, facts).result == Tri::no);

    facts.set("gpu.1.firmware.mes", "0x00000083");
    const ConditionSetOutcome yes = evaluate_all(c, facts);
    CHECK(yes.result == Tri::yes);
    using Pairs = std::vector<std::pair<std::string, std::string>>;
    // In the table's (sorted) order, both from GPU 1.
    CHECK(yes.matched == Pairs{{"gpu.1.firmware.mes", "0x00000083"}, {"gpu.1.pci.device", "0x1586"}});
}

TEST_CASE("a joined family is unknown when an instance might still satisfy it", "[rules][condition]")
{
    const auto c = when(R"({ "gpu.*.pci.device" = "0x1586", "gpu.*.firmware.mes" = "0x00000083" })");
    Facts facts;
    facts.set("gpu.0.pci.device", "0x1586");
    facts.mark_unknown("gpu.*.firmware.*", "drm probe failed: no answer in 5 s");
    const ConditionSetOutcome o = evaluate_all(c, facts);
    CHECK(o.result == Tri::unknown);
    REQUIRE(o.unknown.size() == 1);
    CHECK(o.unknown.front().first == "gpu.0.firmware.mes");

    // No GPU at all, and nothing unknown: each condition on its own, absent.
    CHECK(evaluate_all(c, Facts{}).result == Tri::no);
    const auto negated = when(R"({ "gpu.*.pci.device" = "!0x1586", "gpu.*.driver" = "!amdgpu" })");
    CHECK(evaluate_all(negated, Facts{}).result == Tri::yes);
}

TEST_CASE("instance names with dots bind whole, and other keys do not join", "[rules][condition]")
{
    const auto c =
        when(R"({ "container.*.image.tag" = "rocm-7.2", "container.*.state" = "running", "engine.backend" = "rocm" })");
    Facts facts;
    facts.set("engine.backend", "rocm");
    facts.set("container.llama-rocm-7.2.image.tag", "rocm-7.2");
    facts.set("container.llama-rocm-7.2.state", "exited");
    facts.set("container.llama-vulkan.image.tag", "vulkan-radv");
    facts.set("container.llama-vulkan.state", "running");
    CHECK(evaluate_all(c, facts).result == Tri::no);
    facts.set("container.llama-rocm-7.2.state", "running");
    CHECK(evaluate_all(c, facts).result == Tri::yes);
    facts.set("engine.backend", "vulkan");
    CHECK(evaluate_all(c, facts).result == Tri::no);
}

TEST_CASE("one condition on a family keeps its any-instance meaning", "[rules][condition]")
{
    const auto c = when(R"({ "gpu.*.firmware.mes" = "0x00000083" })");
    CHECK(evaluate_all(c, two_gpus()).result == Tri::yes);
    Facts facts = two_gpus();
    facts.set("gpu.0.firmware.mes", "0x00000080");
    CHECK(evaluate_all(c, facts).result == Tri::no);
    facts.mark_unknown("gpu.*", "drm probe failed");
    CHECK(evaluate_all(c, facts).result == Tri::unknown); // more GPUs may hide behind the failure
}
