#include "probes/kfd_probe.hpp"
#include "probes/runner.hpp"

#include <catch2/catch.hpp>

using namespace halo::probes;
using halo::rules::Facts;
using halo::rules::ProbeState;

namespace {

Facts run_on(const std::string& host_name, std::optional<std::string> user = std::nullopt)
{
    Host host(std::string(HALO_TEST_DATA) + "/hosts/" + host_name);
    if (user) host.set_env("USER", *user);
    ProbeContext context{host, std::chrono::milliseconds(5000), {}, {}, {}};
    Facts facts;
    run_probe_in_process(k_kfd_probe, context, facts);
    return facts;
}

} // namespace

TEST_CASE("gfx_target_version decodes to the LLVM target", "[probes][kfd]")
{
    CHECK(decode_gfx_target_version(110501) == std::optional<std::string>("gfx1151"));
    CHECK(decode_gfx_target_version(110000) == std::optional<std::string>("gfx1100"));
    CHECK(decode_gfx_target_version(90010) == std::optional<std::string>("gfx90a"));
    CHECK(decode_gfx_target_version(90400) == std::optional<std::string>("gfx940"));
    CHECK(decode_gfx_target_version(100300) == std::optional<std::string>("gfx1030"));
    CHECK_FALSE(decode_gfx_target_version(0));
    CHECK_FALSE(decode_gfx_target_version(91600)); // minor 16 has no one-digit form
    CHECK_FALSE(decode_gfx_target_version(18446744073709551615ull));
}

TEST_CASE("KFD properties parser takes key/number lines only", "[probes][kfd]")
{
    const auto p = parse_kfd_properties("vendor_id 4098\ndevice_id 5510\nlocation_id 49664\ndomain 0\n"
                                        "gfx_target_version 110501\nbroken\nname has words\nneg -1\n"
                                        "huge 99999999999999999999999\n");
    CHECK(p.at("vendor_id") == 4098);
    CHECK(p.at("gfx_target_version") == 110501);
    CHECK(p.size() == 5);
}

TEST_CASE("kfd probe on the Strix Halo fixture", "[probes][kfd]")
{
    auto facts = run_on("strix-fedora43-good");
    CHECK(facts.probes().at("kfd").state == ProbeState::ok);
    CHECK(facts.get("rocm.agent_count") == std::optional<std::string>("1")); // CPU node skipped
    CHECK(facts.get("rocm.agent.0.gfx_target") == std::optional<std::string>("gfx1151"));
    CHECK(facts.get("rocm.agent.0.simd_count") == std::optional<std::string>("80"));
    CHECK(facts.get("rocm.agent.0.drm_render_minor") == std::optional<std::string>("128"));
    CHECK(facts.get("rocm.agent.0.vendor_id") == std::optional<std::string>("0x1002"));
    CHECK(facts.get("rocm.agent.0.device_id") == std::optional<std::string>("0x1586"));
    CHECK(facts.get("rocm.agent.0.location_id") == std::optional<std::string>("49664"));
    CHECK(facts.get("rocm.kfd.present") == std::optional<std::string>("true"));
    CHECK(facts.get("rocm.kfd.groups") == std::optional<std::string>("render"));
    CHECK(facts.get("rocm.kfd.accessible") == std::optional<std::string>("true"));
    CHECK(facts.get("rocm.user_in_render_group") == std::optional<std::string>("true"));
    CHECK_FALSE(facts.contains("rocm.host.version"));
}

TEST_CASE("kfd probe: a user outside render cannot open /dev/kfd", "[probes][kfd]")
{
    auto facts = run_on("strix-fedora43-good", "guest");
    CHECK(facts.get("rocm.kfd.accessible") == std::optional<std::string>("false"));
    CHECK(facts.get("rocm.render.accessible") == std::optional<std::string>("false"));
    CHECK(facts.get("rocm.user_in_render_group") == std::optional<std::string>("false"));
    CHECK(facts.get("rocm.kfd.groups") == std::optional<std::string>("render"));
}

TEST_CASE("kfd probe with two GPU agents", "[probes][kfd]")
{
    auto facts = run_on("dgpu-igpu");
    CHECK(facts.get("rocm.agent_count") == std::optional<std::string>("2"));
    CHECK(facts.get("rocm.agent.1.gfx_target") == std::optional<std::string>("gfx1100"));
    CHECK(facts.get("rocm.agent.1.device_id") == std::optional<std::string>("0x744c"));
}

TEST_CASE("kfd probe without KFD is not applicable", "[probes][kfd]")
{
    for (const char* name : {"debian12-nogpu", "minimal"}) {
        auto facts = run_on(name);
        CHECK(facts.probes().at("kfd").state == ProbeState::not_applicable);
        CHECK(facts.probes().at("kfd").reason == "no /sys/class/kfd: amdgpu KFD not loaded");
    }
}
