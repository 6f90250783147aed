#include "probes/drm_probe.hpp"
#include "probes/isolation.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace halo::probes;
using halo::rules::Facts;
using halo::rules::ProbeState;

namespace {

std::string slurp(const std::string& path)
{
    std::ifstream in(path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

Facts run_on(const std::string& host_name)
{
    Host host(std::string(HALO_TEST_DATA) + "/hosts/" + host_name);
    ProbeContext context{host, std::chrono::milliseconds(5000), {}, {}, {}};
    Facts facts;
    run_probe_isolated(k_drm_probe, context, facts);
    return facts;
}

} // namespace

TEST_CASE("amdgpu_firmware_info parses the verbatim gfx1151 file", "[probes][drm]")
{
    const auto text =
        slurp(std::string(HALO_TEST_DATA) + "/hosts/strix-fedora43-good/sys/kernel/debug/dri/1/amdgpu_firmware_info");
    const auto info = parse_amdgpu_firmware_info(text);
    CHECK(info.versions.at("mes") == "0x00000080");
    CHECK(info.versions.at("mes_kiq") == "0x0000006f");
    CHECK(info.versions.at("smc") == "0x0a640200"); // " (100.2.0)" dropped
    CHECK(info.versions.at("ta_hdcp") == "0x17000049");
    CHECK(info.versions.at("rlc_srlc") == "0x00000000");
    CHECK(info.versions.at("sdma0") == "0x00000011");
    CHECK(info.versions.at("imu") == "0x0b352300");
    CHECK(info.versions.size() == 31);
    CHECK(info.vbios == std::optional<std::string>("113-STRXLGEN-001"));
}

TEST_CASE("amdgpu_firmware_info parser skips garbage and truncation", "[probes][drm]")
{
    const auto info = parse_amdgpu_firmware_info("MES feature version: 1, firmware version: 0x0000\n"
                                                 "MES_KIQ feature version: 6, firmware version: zzz\n"
                                                 "feature version: 1, firmware version: 0x1\n"
                                                 "\x01\xff garbage\n"
                                                 "VPE feature version: 60, firmware version: 0x00000017");
    CHECK(info.versions.size() == 2);
    CHECK(info.versions.at("mes") == "0x0000");
    CHECK(info.versions.at("vpe") == "0x00000017");
    CHECK_FALSE(info.vbios);
    CHECK(parse_amdgpu_firmware_info("").versions.empty());
    CHECK(firmware_key("TA SECUREDISPLAY") == "ta_securedisplay");
}

TEST_CASE("uevent parser", "[probes][drm]")
{
    const auto u = parse_uevent("DRIVER=amdgpu\nPCI_SLOT_NAME=0000:c1:00.0\nbroken\n=x\n");
    CHECK(u.at("DRIVER") == "amdgpu");
    CHECK(u.at("PCI_SLOT_NAME") == "0000:c1:00.0");
    CHECK(u.size() == 2);
}

TEST_CASE("drm probe on the Strix Halo fixtures reads the loaded MES", "[probes][drm]")
{
    auto good = run_on("strix-fedora43-good");
    CHECK(good.probes().at("drm").state == ProbeState::ok);
    CHECK(good.get("gpu.0.firmware.mes") == std::optional<std::string>("0x00000080"));
    CHECK(good.get("gpu.0.firmware.source") == std::optional<std::string>("debugfs"));
    CHECK(good.get("gpu.0.pci.vendor") == std::optional<std::string>("0x1002"));
    CHECK(good.get("gpu.0.pci.device") == std::optional<std::string>("0x1586"));
    CHECK(good.get("gpu.0.pci.slot") == std::optional<std::string>("0000:c1:00.0"));
    CHECK(good.get("gpu.0.render_node") == std::optional<std::string>("/dev/dri/renderD128"));
    CHECK(good.get("gpu.0.mem.gtt_total") == std::optional<std::string>("133143986176"));
    CHECK(good.get("gpu.0.mem.vram_total") == std::optional<std::string>("536870912"));
    CHECK(good.get("gpu.0.vbios") == std::optional<std::string>("113-STRXLGEN-001"));
    CHECK(good.get("kernel.ttm.pages_limit") == std::optional<std::string>("32505856"));
    CHECK(good.get("gpu.amdgpu.in_tree") == std::optional<std::string>("true"));
    CHECK_FALSE(good.contains("gpu.amdgpu.module_version"));

    auto bad = run_on("strix-fedora43-fw20251125-rocm");
    CHECK(bad.get("gpu.0.firmware.mes") == std::optional<std::string>("0x00000083"));
}

TEST_CASE("drm probe reads amdgpu's busy, memory in use, temperature and power gauges", "[probes][drm]")
{
    auto good = run_on("strix-fedora43-good");
    CHECK(good.get("gpu.0.sensor.busy_percent") == std::optional<std::string>("3"));
    CHECK(good.get("gpu.0.sensor.vram_used") == std::optional<std::string>("254758912"));
    CHECK(good.get("gpu.0.sensor.gtt_used") == std::optional<std::string>("70506459136"));
    CHECK(good.get("gpu.0.sensor.temp_millicelsius") == std::optional<std::string>("46000"));
    CHECK(good.get("gpu.0.sensor.power_microwatts") == std::optional<std::string>("18000000"));
    CHECK(good.find("gpu.0.sensor.power_microwatts")->source.ends_with("/hwmon/hwmon5/power1_average"));

    // A host without the files has no gauges rather than made-up zeros.
    auto dgpu = run_on("dgpu-igpu");
    CHECK_FALSE(dgpu.contains("gpu.0.sensor.busy_percent"));
    CHECK_FALSE(dgpu.contains("gpu.0.sensor.temp_millicelsius"));
}

TEST_CASE("drm probe with a dGPU and an iGPU numbers both in card order", "[probes][drm]")
{
    auto facts = run_on("dgpu-igpu");
    CHECK(facts.get("gpu.count") == std::optional<std::string>("2"));
    CHECK(facts.get("gpu.0.pci.device") == std::optional<std::string>("0x744c"));
    CHECK(facts.get("gpu.0.render_node") == std::optional<std::string>("/dev/dri/renderD129"));
    CHECK(facts.get("gpu.1.pci.device") == std::optional<std::string>("0x1586"));
    CHECK(facts.get("gpu.1.firmware.mes") == std::optional<std::string>("0x00000080")); // matched by slot
    CHECK(facts.get("gpu.0.firmware.mes") == std::optional<std::string>("0x00000076"));
}

TEST_CASE("drm probe without a GPU is not applicable, not failed", "[probes][drm]")
{
    for (const char* name : {"debian12-nogpu", "minimal"}) {
        auto facts = run_on(name);
        CHECK(facts.probes().at("drm").state == ProbeState::not_applicable);
        CHECK(facts.probes().at("drm").reason == "no DRM devices");
        CHECK(facts.get("gpu.amdgpu.loaded") == std::optional<std::string>("false"));
        CHECK_FALSE(facts.unknown_reason("gpu.0.firmware.mes"));
    }
}

TEST_CASE("drm probe finds the NPU by its PCI class, and whether its driver bound", "[probes][drm]")
{
    auto facts = run_on("dgpu-igpu");
    CHECK(facts.get("npu.pci.device") == std::optional<std::string>("0x17f0"));
    CHECK(facts.get("npu.pci.slot") == std::optional<std::string>("0000:c3:00.1"));
    CHECK(facts.get("npu.driver") == std::optional<std::string>("amdxdna"));
    // The GPU's own PCI entry (class 0x03…) is not taken for an NPU, and hosts without one have
    // no npu facts.
    for (const char* name : {"strix-fedora43-good", "debian12-nogpu", "minimal"}) {
        INFO(name);
        const auto none = run_on(name);
        CHECK_FALSE(none.contains("npu.pci.device"));
        CHECK_FALSE(none.contains("npu.driver"));
    }
}
