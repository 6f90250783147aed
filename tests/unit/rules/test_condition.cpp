#include "rules/condition.hpp"

#include <catch2/catch.hpp>

using namespace halo::rules;

namespace {

Condition make(std::string key, std::string_view text)
{
    auto m = parse_matcher(text);
    REQUIRE(m.ok());
    Condition c;
    c.wildcard = key.find('*') != std::string::npos;
    c.key = std::move(key);
    c.matcher = std::move(*m);
    return c;
}

Tri eval(const Condition& c, const Facts& f) { return evaluate(c, f).result; }

} // namespace

TEST_CASE("globs match exactly without wildcards and with fnmatch otherwise", "[rules][condition]")
{
    Facts f;
    f.set("engine.image.tag", "rocm-6.4.3-rocwmma");
    CHECK(eval(make("engine.image.tag", "rocm-6.4.3-rocwmma"), f) == Tri::yes);
    CHECK(eval(make("engine.image.tag", "rocm-6.4.3"), f) == Tri::no);
    CHECK(eval(make("engine.image.tag", "rocm-6.4.[23]*"), f) == Tri::yes);
    CHECK(eval(make("engine.image.tag", "*rocwmma*"), f) == Tri::yes);
    CHECK(eval(make("engine.image.tag", "rocm-7?"), f) == Tri::no);
    CHECK(eval(make("engine.image.tag", "!*rocwmma*"), f) == Tri::no);
    CHECK(eval(make("engine.image.tag", "!vulkan*"), f) == Tri::yes);
}

TEST_CASE("presence, absence and negation on missing facts", "[rules][condition]")
{
    Facts f;
    f.set("kernel.cmdline.nomodeset", "true");
    CHECK(eval(make("kernel.cmdline.nomodeset", "*"), f) == Tri::yes);
    CHECK(eval(make("kernel.cmdline.nomodeset", "!*"), f) == Tri::no);
    CHECK(eval(make("kernel.cmdline.amd_iommu", "*"), f) == Tri::no);
    CHECK(eval(make("kernel.cmdline.amd_iommu", "!*"), f) == Tri::yes);
    CHECK(eval(make("kernel.cmdline.amd_iommu", "!off"), f) == Tri::yes); // negation holds when absent
    CHECK(eval(make("kernel.cmdline.amd_iommu", ">= 1"), f) == Tri::no);  // comparisons need the fact
    auto absent = evaluate(make("kernel.cmdline.amd_iommu", "!*"), f);
    REQUIRE(absent.matched.size() == 1);
    CHECK(absent.matched[0].second == "(absent)");
}

TEST_CASE("comparison terms joined by commas must all hold", "[rules][condition]")
{
    Facts f;
    f.set("kernel.release", "6.18.5-200.fc43.x86_64");
    CHECK(eval(make("kernel.release", ">= 6.18.4"), f) == Tri::yes);
    CHECK(eval(make("kernel.release", ">= 6.18.4, < 6.19"), f) == Tri::yes);
    CHECK(eval(make("kernel.release", ">= 6.18.4, < 6.18.5"), f) == Tri::no);
    CHECK(eval(make("kernel.release", "== 6.18.5"), f) == Tri::yes);
    CHECK(eval(make("kernel.release", "!= 6.18.5"), f) == Tri::no);
    CHECK(eval(make("kernel.release", "<= 6.18.5-199"), f) == Tri::no);
    CHECK(eval(make("kernel.release", "> 6.18.10"), f) == Tri::no);
}

TEST_CASE("bad condition strings are rejected with a reason", "[rules][condition]")
{
    for (const char* bad : {">= ", "", "!", ">= 6.18.4,", ">= 6.18.4, 6.19", "> > 1", ">= 1 2"}) {
        INFO("'" << bad << "'");
        auto m = parse_matcher(bad);
        REQUIRE_FALSE(m.ok());
        CHECK_FALSE(m.error().message.empty());
    }
}

TEST_CASE("wildcard keys hold if any instance does", "[rules][condition]")
{
    Facts f;
    f.set("container.llama-vulkan-radv.image.tag", "vulkan-radv");
    f.set("container.llama-rocm-7.2.image.tag", "rocm-7.2");
    CHECK(eval(make("container.*.image.tag", "rocm-7.2"), f) == Tri::yes);
    CHECK(eval(make("container.*.image.tag", "rocm-7rc*"), f) == Tri::no);
    auto o = evaluate(make("container.*.image.tag", "*"), f);
    CHECK(o.result == Tri::yes);
    CHECK(o.matched.size() == 2);
    CHECK(eval(make("image.*.reference", "!*"), f) == Tri::yes);
}

TEST_CASE("missing facts under an unknown pattern are unknown, with the reason", "[rules][condition]")
{
    Facts f;
    f.mark_unknown("gpu.*", "drm probe failed: crashed with SIGSEGV");
    auto o = evaluate(make("gpu.*.firmware.mes", "0x00000083"), f);
    CHECK(o.result == Tri::unknown);
    CHECK(o.unknown_reason == "drm probe failed: crashed with SIGSEGV");
    CHECK(eval(make("gpu.*.firmware.mes", "!*"), f) == Tri::unknown); // not a silent pass
    f.set("gpu.0.firmware.mes", "0x00000083");
    CHECK(eval(make("gpu.*.firmware.mes", "0x00000083"), f) == Tri::yes);
    CHECK(eval(make("gpu.*.firmware.mes", "0x00000080"), f) == Tri::unknown); // another GPU may hide there
}
