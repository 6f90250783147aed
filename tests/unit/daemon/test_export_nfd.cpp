#include "daemon/export_nfd.hpp"

#include "export_fixture.hpp"

#include <catch2/catch.hpp>

#include <regex>
#include <sstream>

using namespace halo;
using namespace halo::app;
using Catch::Contains;

namespace {

// Kubernetes' label value rule, written out as its regular expression.
bool kubernetes_valid(const std::string& v)
{
    static const std::regex rule("(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?");
    return v.size() <= 63 && std::regex_match(v, rule);
}

} // namespace

TEST_CASE("nfd: expiry first, then halo-check.io labels with valid values", "[daemon][export]")
{
    const test::ExportFixture f;
    const std::string text = format_nfd(f.input(), 1796000600);
    CHECK(text.starts_with("# +expiry-time=2026-11-30T01:03:20Z\n"));
    CHECK_THAT(text, Contains("halo-check.io/verdict=broken\n"));
    CHECK_THAT(text, Contains("halo-check.io/next-boot-verdict=ok\n"));
    CHECK_THAT(text, Contains("halo-check.io/rocm-ok=false\n"));
    CHECK_THAT(text, Contains("halo-check.io/vulkan-ok=false\n"));
    CHECK_THAT(text, Contains("halo-check.io/gfx=gfx1151\n"));
    CHECK_THAT(text, Contains("halo-check.io/kernel=6.17.7-300.fc43.x86_64\n"));
    CHECK_THAT(text, Contains("halo-check.io/mes=0x00000083\n"));
    std::istringstream in(text);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        INFO(line);
        REQUIRE(line.starts_with("halo-check.io/"));
        const auto eq = line.find('=');
        REQUIRE(eq != std::string::npos);
        CHECK(kubernetes_valid(line.substr(eq + 1)));
    }
}

TEST_CASE("nfd: a machine judged ok is rocm-ok and vulkan-ok as far as it has them", "[daemon][export]")
{
    test::ExportFixture f;
    f.now.verdict = rules::Verdict::warning;
    const std::string text = format_nfd(f.input(), 0);
    CHECK_THAT(text, Contains("halo-check.io/rocm-ok=true\n"));
    CHECK_THAT(text, Contains("halo-check.io/vulkan-ok=true\n"));
    f.facts.set("rocm.kfd.accessible", "false");
    f.facts.set("vulkan.gpu_count", "0");
    const std::string without = format_nfd(f.input(), 0);
    CHECK_THAT(without, Contains("halo-check.io/rocm-ok=false\n"));
    CHECK_THAT(without, Contains("halo-check.io/vulkan-ok=false\n"));
    // No fact, no label: an empty value would be valid but says nothing.
    f.facts.erase("gpu.0.firmware.mes");
    CHECK_THAT(format_nfd(f.input(), 0), !Contains("halo-check.io/mes="));
}

TEST_CASE("nfd: label values made valid for Kubernetes", "[daemon][export]")
{
    CHECK(valid_label_value(""));
    CHECK(valid_label_value("6.17.7-300.fc43.x86_64"));
    CHECK_FALSE(valid_label_value("-x"));
    CHECK_FALSE(valid_label_value("x-"));
    CHECK_FALSE(valid_label_value("a b"));
    CHECK_FALSE(valid_label_value(std::string(64, 'a')));
    CHECK(valid_label_value(std::string(63, 'a')));
    for (const std::string& raw : std::vector<std::string>{"6.18.0-rc1+", "sha256:0123", "  spaced out  ", "--",
                                                           std::string(80, 'k') + "-z", "rocm/7.2", "é"}) {
        INFO(raw);
        const std::string v = label_value(raw);
        CHECK(valid_label_value(v));
        CHECK(kubernetes_valid(v));
    }
    CHECK(label_value("6.18.0-rc1+") == "6.18.0-rc1");
    CHECK(label_value("sha256:0123") == "sha256_0123");
    CHECK(label_value(std::string(80, 'k')).size() == 63);
}
