// Verdicts from evidence only: a facts file that does not say is undecided, not broken; the
// loaded firmware beats the installed package in the "now" view and the package decides after a
// reboot; a broken blob loaded now is undecided after a reboot when nothing says what loads
// then; one GPU's facts never stand in for another's.

#include "rules/evaluate.hpp"
#include "rules/facts_io.hpp"
#include "rules/rule_loader.hpp"
#include "rules/views.hpp"
#include "tests/unit/support/knowledge_base.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <set>
#include <string>

namespace {

using halo::rules::Facts;
using halo::rules::Report;
using halo::rules::Verdict;

const halo::rules::RuleSet& kb() { return halo::test::embedded_kb(); }

Facts fixture(const char* name) { return halo::test::facts_fixture(name); }

std::set<std::string> ids(const Report& report)
{
    std::set<std::string> out;
    for (const auto& f : report.findings) out.insert(f.rule->id);
    return out;
}

std::set<std::string> undecided_ids(const Report& report)
{
    std::set<std::string> out;
    for (const auto& u : report.undecided) out.insert(u.rule->id);
    return out;
}

Report now(const Facts& facts) { return halo::rules::evaluate(kb(), facts); }
Report after_reboot(const Facts& facts) { return halo::rules::evaluate(kb(), halo::rules::next_boot_view(facts)); }

// The stable machine with a ROCm engine in a fixed image: no finding of its own.
Facts rocm_machine()
{
    Facts facts = fixture("ok-vulkan-radv.toml");
    facts.set("engine.backend", "rocm");
    facts.set("engine.image.tag", "rocm-7.14");
    facts.set("engine.image", "docker.io/kyuz0/amd-strix-halo-toolboxes:rocm-7.14");
    return facts;
}

} // namespace

TEST_CASE("a facts file without the kfd probe's status leaves /dev/kfd undecided, not missing", "[rules][kb]")
{
    const Facts partial = fixture("partial-no-kfd-status.toml");
    CHECK(partial.get("rocm.agent.1.gfx_target") == "gfx1151");
    const Report report = now(partial);
    CHECK(ids(report).count("rocm.kfd-missing") == 0);
    CHECK(undecided_ids(report).count("rocm.kfd-missing") == 1);
    CHECK(report.verdict != Verdict::broken);

    // The same facts from a probe that ran and said so: broken.
    Facts said = rocm_machine();
    said.set("rocm.kfd.present", "false");
    CHECK(ids(now(said)).count("rocm.kfd-missing") == 1);
}

TEST_CASE("a facts file marks the keys of a probe that failed, did not run or is not there as unknown",
          "[rules][facts]")
{
    const auto path = std::filesystem::temp_directory_path() / "halo-precision-facts.toml";
    {
        std::FILE* f = std::fopen(path.c_str(), "w");
        REQUIRE(f != nullptr);
        std::fputs("[facts]\n\"kernel.release\" = \"6.18.9-200.fc43.x86_64\"\n"
                   "[probes.kernel]\nstatus = \"ok\"\n[probes.drm]\nstatus = \"failed\"\nreason = \"timeout\"\n"
                   "[probes.vulkan]\nstatus = \"not_applicable\"\n",
                   f);
        std::fclose(f);
    }
    auto facts = halo::rules::load_facts_file(path.string());
    std::filesystem::remove(path);
    REQUIRE(facts);
    CHECK_FALSE(facts->unknown_reason("kernel.cmdline.iommu")); // kernel ran: absent is absent
    CHECK_FALSE(facts->unknown_reason("vulkan.0.driver_id"));   // not applicable: absent
    CHECK(facts->unknown_reason("gpu.0.firmware.mes"));         // drm failed
    REQUIRE(facts->unknown_reason("rocm.kfd.present"));         // kfd: no status at all
    CHECK_THAT(*facts->unknown_reason("rocm.kfd.present"), Catch::Contains("no status for the kfd probe"));
}

TEST_CASE("firmware 20251125 installed, MES 0x80 still loaded: a warning now, broken after a reboot", "[rules][kb]")
{
    Facts facts = rocm_machine();
    facts.set("package.linux-firmware.version", "20251125-1.fc43");
    facts.set("package.amd-gpu-firmware.version", "20251125-1.fc43");
    const Report report = now(facts);
    CHECK(report.verdict == Verdict::warning);
    CHECK(ids(report).count("firmware.linux-firmware-20251125-rocm") == 0);
    CHECK(ids(report).count("firmware.amd-gpu-firmware-20251125-rocm") == 0);
    CHECK(ids(report).count("firmware.linux-firmware-20251125-loads-at-next-boot-rocm") == 1);
    CHECK(ids(report).count("firmware.amd-gpu-firmware-20251125-loads-at-next-boot-rocm") == 1);

    const Report after = after_reboot(facts);
    CHECK(after.verdict == Verdict::broken);
    CHECK(ids(after).count("firmware.linux-firmware-20251125-rocm") == 1);
    CHECK(ids(after).count("firmware.amd-gpu-firmware-20251125-rocm") == 1);

    // MES 0x83 loaded: broken now as well.
    facts.set("gpu.0.firmware.mes", "0x00000083");
    CHECK(ids(now(facts)).count("firmware.linux-firmware-20251125-rocm") == 1);
    CHECK(ids(now(facts)).count("firmware.linux-firmware-20251125-loads-at-next-boot-rocm") == 0);

    // The loaded firmware unknown (the drm probe failed): the package decides, as before.
    for (const std::string& key : facts.keys_matching("gpu.*")) facts.erase(key);
    facts.mark_unknown("gpu.*", "drm probe failed: no answer in 5 s");
    CHECK(now(facts).verdict == Verdict::broken);
    CHECK(ids(now(facts)).count("firmware.linux-firmware-20251125-rocm") == 1);
}

TEST_CASE("MES 0x83 loaded and no package database: undecided after a reboot, not fixed by it", "[rules][kb]")
{
    Facts facts = rocm_machine();
    facts.set("gpu.0.firmware.mes", "0x00000083");
    for (const std::string& key : facts.keys_matching("package.*")) facts.erase(key);
    facts.erase("packages.manager");
    facts.erase("boot.initramfs.older_than_firmware");
    CHECK(ids(now(facts)).count("firmware.mes-0x83-rocm") == 1);
    const Report after = after_reboot(facts);
    CHECK(ids(after).count("firmware.mes-0x83-rocm") == 0);
    CHECK(undecided_ids(after).count("firmware.mes-0x83-rocm") == 1);
    CHECK(after.verdict == Verdict::warning); // a broken rule undecided: never a plain OK

    // An initramfs older than the fixed packages may bring the broken blob back: not "fixed by
    // rebooting" either, but undecided until `dracut -f`.
    Facts stale = rocm_machine();
    stale.set("gpu.0.firmware.mes", "0x00000083");
    stale.set("boot.initramfs.older_than_firmware", "true");
    CHECK(ids(now(stale)).count("firmware.mes-0x83-stale-initramfs") == 1);
    CHECK(undecided_ids(after_reboot(stale)).count("firmware.mes-0x83-rocm") == 1);
    CHECK(after_reboot(stale).verdict == Verdict::warning);

    // Fixed packages and a fresh initramfs: the next boot loads the fixed firmware.
    Facts pending = rocm_machine();
    pending.set("gpu.0.firmware.mes", "0x00000083");
    CHECK(ids(now(pending)).count("firmware.mes-0x83-reboot-pending") == 1);
    CHECK(after_reboot(pending).verdict == Verdict::ok);
}

TEST_CASE("a discrete GPU beside the Strix Halo does not trigger the container twin of the kernel rule", "[rules][kb]")
{
    Facts facts = rocm_machine();
    facts.set("kernel.release", "6.18.3-200.fc43.x86_64");
    facts.set("gpu.1.pci.device", "0x744c"); // RX 7900 XTX
    facts.set("gpu.1.pci.vendor", "0x1002");
    const auto found = ids(now(facts));
    CHECK(found.count("kernel.older-than-6.18.4-gfx1151") == 1);
    CHECK(found.count("kernel.older-than-6.18.4-gfx1151-rocm-agent") == 0);

    // Inside a container no PCI device is visible: the twin is what catches it.
    for (const std::string& key : facts.keys_matching("gpu.*")) facts.erase(key);
    const auto in_container = ids(now(facts));
    CHECK(in_container.count("kernel.older-than-6.18.4-gfx1151") == 0);
    CHECK(in_container.count("kernel.older-than-6.18.4-gfx1151-rocm-agent") == 1);
}

TEST_CASE("[snapshot] taken may be a TOML date-time", "[rules][facts]")
{
    auto facts = halo::rules::parse_facts_toml(
        "[snapshot]\ntaken = 2026-11-27T10:15:02Z\nhost = \"strix\"\n[facts]\n\"kernel.release\" = \"6.18.9\"\n",
        "f.toml");
    REQUIRE(facts);
    CHECK(facts->snapshot.taken == "2026-11-27T10:15:02Z");
    auto offset = halo::rules::parse_facts_toml("[snapshot]\ntaken = 2026-11-27T11:15:02.5+01:00\n[facts]\n", "f.toml");
    REQUIRE(offset);
    CHECK(offset->snapshot.taken == "2026-11-27T11:15:02.500000000+01:00");
    auto bad = halo::rules::parse_facts_toml("[snapshot]\nhost = 2026-11-27T10:15:02Z\n[facts]\n", "g.toml");
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message, Catch::StartsWith("g.toml:2:8: 'snapshot.host' must be a string"));
}
