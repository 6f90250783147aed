// The knowledge-base entries from the January-September 2026 field reports: each one fires on a
// fixture built from its report, stays silent on the known-good stacks, and holds at its edges.

#include "rules/evaluate.hpp"
#include "rules/facts_io.hpp"
#include "rules/log_match.hpp"
#include "rules/rule_loader.hpp"
#include "tests/unit/support/knowledge_base.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <utility>

namespace {

using halo::rules::Facts;
using halo::rules::LogSource;
using halo::rules::Verdict;
using S = std::set<std::string>;

const halo::rules::RuleSet& kb() { return halo::test::embedded_kb(); }

Facts fixture(const char* name) { return halo::test::facts_fixture(name); }

S findings(const Facts& facts)
{
    S ids;
    for (const auto& f : halo::rules::evaluate(kb(), facts).findings) ids.insert(f.rule->id);
    return ids;
}

bool fires(const Facts& facts, const std::string& id) { return findings(facts).count(id) == 1; }

std::string known_good(const Facts& facts)
{
    const auto report = halo::rules::evaluate(kb(), facts);
    return report.known_good ? report.known_good->id : std::string{};
}

// Every rule and log pattern this file covers.
const S k_rules{
    "rocm.kernel-host-rocm-before-7.2",
    "kernel.cwsr-disable-obsolete",
    "rocm.hsa-override-gfx-version-gfx12",
    "rocm.hsa-override-gfx-version-wrong",
    "rocm.hsa-override-gfx-version-native",
    "rocm.host-buffer-wrong-output",
    "images.therock-nightly-unpinned",
    "host.amd-iommu-pt-invalid",
    "host.amd-iommu-off-npu",
    "host.ttm-pages-limit-no-reserve-64gb",
    "host.ttm-pages-limit-no-reserve-96gb",
    "host.gttsize-above-ram-64gb",
    "host.gttsize-above-ram-96gb",
    "host.uma-carve-out-large",
    "engine.mmap-large-model",
    "vulkan.radv-mesa-25.3.6-linux-7-device-lost",
    "engine.glm-4.7-vulkan-direct-io",
    "engine.dense-27b-31b-expected-speed",
};

const S k_log_patterns{
    "log.vulkan-device-lost-radv-mesa-25.3.6",
    "log.compute-ring-timeout",
    "log.device-wedged-recovered",
    "log.device-wedged",
    "log.memory-critical-error-podman",
    "log.memory-critical-error",
    "log.amd-iommu-unknown-option",
    "log.full-prompt-reprocessing",
};

// The stable machine switched to a ROCm engine in the given toolbox image.
Facts rocm_engine(const std::string& tag)
{
    Facts facts = fixture("ok-vulkan-radv.toml");
    facts.set("engine.backend", "rocm");
    facts.set("engine.container", "llama-" + tag);
    facts.set("engine.image.tag", tag);
    facts.set("engine.image.tag_base", tag);
    facts.set("engine.image", "docker.io/kyuz0/amd-strix-halo-toolboxes:" + tag);
    facts.set("engine.image.created", "2026-11-18T04:02:37Z");
    return facts;
}

// The known-good stacks: the Vulkan fixture (TOML and JSON) and the ROCm toolboxes that have
// known-good entries, on the same machine.
std::vector<std::pair<std::string, Facts>> known_good_stacks()
{
    std::vector<std::pair<std::string, Facts>> out;
    out.emplace_back("ok-vulkan-radv.toml", fixture("ok-vulkan-radv.toml"));
    out.emplace_back("ok-vulkan-radv.json", fixture("ok-vulkan-radv.json"));
    for (const char* tag : {"rocm-7.14", "rocm-7.2", "rocm-7.2.4", "rocm-7.14_20260901T020000"})
        out.emplace_back(tag, rocm_engine(tag));
    return out;
}

} // namespace

TEST_CASE("2026 entries are loaded, dated and sourced", "[rules][kb][kb2026]")
{
    S rules;
    for (const auto& r : kb().rules) rules.insert(r.id);
    S patterns;
    for (const auto& p : kb().log_patterns) patterns.insert(p.id);
    for (const auto& id : k_rules) {
        INFO(id);
        CHECK(rules.count(id) == 1);
    }
    for (const auto& id : k_log_patterns) {
        INFO(id);
        CHECK(patterns.count(id) == 1);
    }
}

TEST_CASE("no 2026 entry fires on a known-good stack", "[rules][kb][kb2026]")
{
    for (const auto& [name, facts] : known_good_stacks()) {
        INFO(name);
        const auto report = halo::rules::evaluate(kb(), facts);
        CHECK_FALSE(known_good(facts).empty());
        for (const auto& f : report.findings) CHECK(k_rules.count(f.rule->id) == 0);
        for (const auto& u : report.undecided) CHECK(k_rules.count(u.rule->id) == 0);
        CHECK(report.verdict == Verdict::ok);
    }
}

TEST_CASE("the 2026 facts fixtures give the findings written at their tops", "[rules][kb][kb2026][fixtures]")
{
    const Facts uma = fixture("warning-uma-64gb-carve-out.toml");
    CHECK(findings(uma) == S{"host.uma-carve-out-large", "host.ttm-pages-limit-no-reserve-64gb"});
    CHECK(halo::rules::evaluate(kb(), uma).verdict == Verdict::warning);
    CHECK(known_good(uma) == "known-good.vulkan-radv-fedora");

    const Facts copied = fixture("warning-64gb-128gb-params-amd-iommu-pt.toml");
    CHECK(findings(copied) ==
          S{"host.ttm-pages-limit-no-reserve-64gb", "host.gttsize-above-ram-64gb", "host.amd-iommu-pt-invalid"});
    CHECK(halo::rules::evaluate(kb(), copied).verdict == Verdict::warning);
    CHECK(known_good(copied) == "known-good.vulkan-radv-fedora");

    const Facts override12 = fixture("broken-hsa-override-gfx12.toml");
    CHECK(findings(override12) == S{"rocm.hsa-override-gfx-version-gfx12"});
    CHECK(halo::rules::evaluate(kb(), override12).verdict == Verdict::broken);
    CHECK(known_good(override12) == "known-good.rocm-7.14");

    const Facts host_rocm = fixture("broken-host-rocm-7.1.1-kernel-6.18.5.toml");
    CHECK(findings(host_rocm) == S{"rocm.kernel-host-rocm-before-7.2"});
    CHECK(halo::rules::evaluate(kb(), host_rocm).verdict == Verdict::broken);
    CHECK(known_good(host_rocm).empty());
}

TEST_CASE("kernel x host ROCm: the VGPR/CWSR pairing", "[rules][kb][kb2026]")
{
    Facts facts = fixture("broken-host-rocm-7.1.1-kernel-6.18.5.toml");
    const std::string id = "rocm.kernel-host-rocm-before-7.2";
    for (const char* version : {"6.4.4", "7.0.2", "7.1.1", "7.9.0", "7.10.0"}) {
        INFO(version);
        facts.set("rocm.host.version", version);
        CHECK(fires(facts, id));
    }
    for (const char* version : {"7.2.0", "7.2.1", "7.11.0", "7.14.0"}) {
        INFO(version);
        facts.set("rocm.host.version", version);
        CHECK_FALSE(fires(facts, id));
    }
    facts.set("rocm.host.version", "7.1.1");
    // The kernels that still take the old save-area size.
    for (const char* kernel : {"6.18.3-200.fc43.x86_64", "6.17.8-300.fc43.x86_64", "6.18.0-364.vanilla.fc43.x86_64"}) {
        INFO(kernel);
        facts.set("kernel.release", kernel);
        CHECK_FALSE(fires(facts, id));
    }
    for (const char* kernel : {"6.17.9-300.fc43.x86_64", "6.18.4-200.fc43.x86_64", "7.0.1-262.vanilla.fc43.x86_64"}) {
        INFO(kernel);
        facts.set("kernel.release", kernel);
        CHECK(fires(facts, id));
    }
    // In a container the host's ROCm is not the engine's.
    facts.set("engine.wrapper", "toolbox");
    CHECK_FALSE(fires(facts, id));
    facts.set("engine.wrapper", "host");
    facts.set("engine.backend", "vulkan");
    CHECK_FALSE(fires(facts, id));
}

TEST_CASE("amdgpu.cwsr_enable=0 is obsolete once kernel and image are fixed", "[rules][kb][kb2026]")
{
    const std::string id = "kernel.cwsr-disable-obsolete";
    Facts facts = rocm_engine("rocm-7.14");
    facts.set("kernel.cmdline.amdgpu.cwsr_enable", "0");
    CHECK(fires(facts, id));
    CHECK(halo::rules::evaluate(kb(), facts).verdict == Verdict::ok); // info only
    Facts vulkan = fixture("ok-vulkan-radv.toml");
    vulkan.set("kernel.cmdline.amdgpu.cwsr_enable", "0");
    CHECK(fires(vulkan, id));
    // Still the stop-gap: an old kernel, or an image without the user-space fix.
    facts.set("kernel.release", "6.18.3-200.fc43.x86_64");
    CHECK_FALSE(fires(facts, id));
    Facts old_image = rocm_engine("rocm-7.1.1");
    old_image.set("kernel.cmdline.amdgpu.cwsr_enable", "0");
    CHECK_FALSE(fires(old_image, id));
    facts = rocm_engine("rocm-7.14");
    facts.set("kernel.cmdline.amdgpu.cwsr_enable", "1");
    CHECK_FALSE(fires(facts, id));
}

TEST_CASE("HSA_OVERRIDE_GFX_VERSION on gfx1151", "[rules][kb][kb2026]")
{
    auto with = [](const char* value) {
        Facts f = rocm_engine("rocm-7.14");
        f.set("engine.env.HSA_OVERRIDE_GFX_VERSION", value);
        return f;
    };
    const std::string gfx12 = "rocm.hsa-override-gfx-version-gfx12";
    const std::string wrong = "rocm.hsa-override-gfx-version-wrong";
    const std::string native = "rocm.hsa-override-gfx-version-native";
    CHECK(findings(with("12.0.1")).count(gfx12) == 1);
    CHECK(findings(with("12.0.1")).count(wrong) == 0);
    CHECK(halo::rules::evaluate(kb(), with("12.0.0")).verdict == Verdict::broken);
    for (const char* value : {"11.0.0", "11.0.2", "10.3.0", "9.4.2", "11.5.0", "11.6.0"}) {
        INFO(value);
        const S ids = findings(with(value));
        CHECK(ids.count(wrong) == 1);
        CHECK(ids.count(gfx12) == 0);
        CHECK(ids.count(native) == 0);
        CHECK(halo::rules::evaluate(kb(), with(value)).verdict == Verdict::warning);
    }
    const S ids = findings(with("11.5.1"));
    CHECK(ids.count(native) == 1);
    CHECK(ids.count(wrong) == 0);
    CHECK(halo::rules::evaluate(kb(), with("11.5.1")).verdict == Verdict::ok);

    // A Vulkan engine does not read it, and another GPU may need it.
    Facts vulkan = fixture("ok-vulkan-radv.toml");
    vulkan.set("engine.env.HSA_OVERRIDE_GFX_VERSION", "12.0.1");
    CHECK(findings(vulkan).count(gfx12) == 0);
    Facts other_gpu = with("11.0.0");
    other_gpu.set("rocm.agent.1.gfx_target", "gfx1100");
    CHECK(findings(other_gpu).count(wrong) == 0);
}

TEST_CASE("the ROCm host-buffer bug by image build date", "[rules][kb][kb2026]")
{
    const std::string id = "rocm.host-buffer-wrong-output";
    Facts facts = rocm_engine("rocm-7.2.4");
    for (const char* created : {"2026-07-18T03:00:00Z", "2026-07-25T03:10:44Z", "2026-07-31T23:59:59Z"}) {
        INFO(created);
        facts.set("engine.image.created", created);
        CHECK(fires(facts, id));
    }
    for (const char* created : {"2026-07-17T23:59:59Z", "2026-08-01T00:00:01Z", "2026-11-18T04:02:37Z"}) {
        INFO(created);
        facts.set("engine.image.created", created);
        CHECK_FALSE(fires(facts, id));
    }
    Facts vulkan = fixture("ok-vulkan-radv.toml");
    vulkan.set("engine.image.created", "2026-07-25T03:10:44Z");
    CHECK_FALSE(fires(vulkan, id));
}

TEST_CASE("the moving therock-nightly tag is information, immutable tags are not", "[rules][kb][kb2026]")
{
    const std::string id = "images.therock-nightly-unpinned";
    Facts facts = rocm_engine("therock-nightly");
    CHECK(fires(facts, id));
    CHECK(known_good(facts) == "known-good.therock-nightly");
    CHECK(halo::rules::evaluate(kb(), facts).verdict == Verdict::ok);
    CHECK_FALSE(fires(rocm_engine("therock-nightly_20260901T020000"), id));
}

TEST_CASE("amd_iommu=pt is invalid, iommu=pt and amd_iommu=off are not findings", "[rules][kb][kb2026]")
{
    const std::string id = "host.amd-iommu-pt-invalid";
    Facts facts = fixture("ok-vulkan-radv.toml");
    for (const char* value : {"pt", "fullflush,pt", "pt,force_isolation"}) {
        INFO(value);
        facts.set("kernel.cmdline.amd_iommu", value);
        CHECK(fires(facts, id));
    }
    for (const char* value : {"off", "on", "fullflush", "force_isolation"}) {
        INFO(value);
        facts.set("kernel.cmdline.amd_iommu", value);
        CHECK_FALSE(fires(facts, id));
    }
    facts.erase("kernel.cmdline.amd_iommu");
    facts.set("kernel.cmdline.iommu", "pt");
    CHECK_FALSE(fires(facts, id));
}

TEST_CASE("amd_iommu=off on a machine with an NPU is information", "[rules][kb][kb2026]")
{
    const std::string id = "host.amd-iommu-off-npu";
    Facts facts = fixture("ok-vulkan-radv.toml"); // amd_iommu=off, no NPU seen
    CHECK_FALSE(fires(facts, id));
    facts.set("npu.pci.device", "0x17f0");
    facts.set("npu.driver", "none");
    CHECK(fires(facts, id));
    CHECK(halo::rules::evaluate(kb(), facts).verdict == Verdict::ok);
    facts.set("kernel.cmdline.amd_iommu", "on");
    CHECK_FALSE(fires(facts, id));
    facts.erase("kernel.cmdline.amd_iommu");
    facts.set("kernel.cmdline.iommu", "pt");
    CHECK_FALSE(fires(facts, id));
}

TEST_CASE("GTT sizing on 64 GB and 96 GB machines", "[rules][kb][kb2026]")
{
    // The 128 GB machine with kyuz0's parameters is the known-good fixture: nothing fires.
    Facts facts = fixture("ok-vulkan-radv.toml");
    const S gtt{"host.ttm-pages-limit-no-reserve-64gb", "host.ttm-pages-limit-no-reserve-96gb",
                "host.gttsize-above-ram-64gb", "host.gttsize-above-ram-96gb"};
    auto ours = [&](const Facts& f) {
        S out;
        for (const auto& id : findings(f)) {
            if (gtt.count(id)) out.insert(id);
        }
        return out;
    };
    CHECK(ours(facts).empty());

    // 64 GB with the 128 GB line copied, then scaled down as the rule's fix says.
    facts.set("host.mem.total_bytes", "66571993088");
    CHECK(ours(facts) == S{"host.ttm-pages-limit-no-reserve-64gb", "host.gttsize-above-ram-64gb"});
    facts.set("kernel.ttm.pages_limit", "15728640");
    facts.set("kernel.cmdline.ttm.pages_limit", "15728640");
    facts.erase("kernel.cmdline.amdgpu.gttsize");
    CHECK(ours(facts).empty());
    facts.set("kernel.ttm.pages_limit", "15728641");
    CHECK(ours(facts) == S{"host.ttm-pages-limit-no-reserve-64gb"});
    facts.set("kernel.ttm.pages_limit", "15728640");
    facts.set("kernel.cmdline.amdgpu.gttsize", "61440");
    CHECK(ours(facts).empty());
    facts.set("kernel.cmdline.amdgpu.gttsize", "65536");
    CHECK(ours(facts) == S{"host.gttsize-above-ram-64gb"});

    // 96 GB.
    Facts big = fixture("ok-vulkan-radv.toml");
    big.set("host.mem.total_bytes", "99857989632");
    CHECK(ours(big) == S{"host.ttm-pages-limit-no-reserve-96gb", "host.gttsize-above-ram-96gb"});
    big.set("kernel.ttm.pages_limit", "24117248");
    big.set("kernel.cmdline.amdgpu.gttsize", "94208");
    CHECK(ours(big).empty());
    CHECK(halo::rules::evaluate(kb(), big).verdict == Verdict::ok);

    // Not a Strix Halo: no advice.
    Facts other = fixture("ok-vulkan-radv.toml");
    other.set("host.mem.total_bytes", "66571993088");
    other.set("gpu.0.pci.device", "0x744c");
    CHECK(ours(other).empty());
}

TEST_CASE("a large BIOS carve-out", "[rules][kb][kb2026]")
{
    const std::string id = "host.uma-carve-out-large";
    Facts facts = fixture("ok-vulkan-radv.toml");
    for (const char* bytes : {"536870912", "1073741824", "4294967296"}) {
        INFO(bytes);
        facts.set("gpu.0.mem.vram_total", bytes);
        CHECK_FALSE(fires(facts, id));
    }
    for (const char* bytes : {"8589934592", "68719476736", "103079215104"}) {
        INFO(bytes);
        facts.set("gpu.0.mem.vram_total", bytes);
        CHECK(fires(facts, id));
    }
    // A discrete card's 24 GiB of VRAM is no carve-out: the Strix Halo's own must be large.
    facts.set("gpu.0.mem.vram_total", "536870912");
    facts.set("gpu.1.pci.device", "0x744c");
    facts.set("gpu.1.mem.vram_total", "25753026560");
    CHECK_FALSE(fires(facts, id));
}

TEST_CASE("mmap of a model over 20 GiB", "[rules][kb][kb2026]")
{
    const std::string id = "engine.mmap-large-model";
    Facts facts = fixture("ok-vulkan-radv.toml"); // 30 GiB, --no-mmap
    CHECK_FALSE(fires(facts, id));
    facts.set("engine.mmap", "on");
    CHECK(fires(facts, id));
    facts.set("engine.load_mode", "none"); // newer builds' spelling of --no-mmap
    CHECK_FALSE(fires(facts, id));
    facts.set("engine.load_mode", "mmap");
    CHECK(fires(facts, id));
    facts.erase("engine.load_mode");
    facts.set("engine.model.size_bytes", "21474836480"); // 20 GiB exactly
    CHECK_FALSE(fires(facts, id));
    facts.set("engine.model.size_bytes", "17179869184");
    CHECK_FALSE(fires(facts, id));
}

TEST_CASE("RADV from Mesa 25.3.6 on Linux 7.x", "[rules][kb][kb2026]")
{
    const std::string id = "vulkan.radv-mesa-25.3.6-linux-7-device-lost";
    Facts facts = fixture("ok-vulkan-radv.toml");
    facts.set("vulkan.0.driver_version", "25.3.6");
    facts.set("vulkan.0.driver_info", "Mesa 25.3.6");
    CHECK_FALSE(fires(facts, id)); // kernel 6.18.9
    facts.set("kernel.release", "7.0.4-200.fc43.x86_64");
    CHECK(fires(facts, id));
    facts.set("vulkan.0.driver_version", "25.3.7");
    CHECK_FALSE(fires(facts, id));
    // One device must be both: llvmpipe from Mesa 25.3.6 beside a RADV of another Mesa is not it.
    facts.set("vulkan.1.driver_id", "MESA_LLVMPIPE");
    facts.set("vulkan.1.driver_version", "25.3.6");
    CHECK_FALSE(fires(facts, id));
    facts.set("vulkan.0.driver_version", "25.3.6");
    CHECK(fires(facts, id));
    facts.set("engine.backend", "rocm");
    CHECK_FALSE(fires(facts, id));
}

TEST_CASE("GLM-4.7 on Vulkan with --direct-io", "[rules][kb][kb2026]")
{
    const std::string id = "engine.glm-4.7-vulkan-direct-io";
    Facts facts = fixture("warning-ctx-200k.toml");
    CHECK_FALSE(fires(facts, id)); // direct I/O not asked for: llama-server's default is off
    facts.set("engine.direct_io", "on");
    CHECK(fires(facts, id));
    facts.set("engine.direct_io", "off");
    CHECK_FALSE(fires(facts, id));
    Facts qwen = fixture("ok-vulkan-radv.toml");
    qwen.set("engine.direct_io", "on");
    CHECK_FALSE(fires(qwen, id));
}

TEST_CASE("dense 27-31B models: the expected speed is information", "[rules][kb][kb2026]")
{
    const std::string id = "engine.dense-27b-31b-expected-speed";
    Facts facts = fixture("ok-vulkan-radv.toml");
    for (const char* label : {"27B", "31B", "30B"}) {
        INFO(label);
        facts.set("engine.model.size_label", label);
        CHECK(fires(facts, id));
        CHECK(halo::rules::evaluate(kb(), facts).verdict == Verdict::ok);
    }
    for (const char* label : {"30B-A3B", "35B-A3B", "8B", "32B", "26B"}) {
        INFO(label);
        facts.set("engine.model.size_label", label);
        CHECK_FALSE(fires(facts, id));
    }
}

namespace {

// The first line of a tests/data/logs file that a knowledge-base pattern explains.
std::pair<std::string, std::string> first_explained(const char* log, LogSource source, const Facts& facts)
{
    std::ifstream in(std::filesystem::path(HALO_TEST_DATA) / "logs" / log);
    REQUIRE(in);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        if (auto m = halo::rules::explain_log_line(kb().log_patterns, source, line, facts))
            return {m->pattern->id, m->title};
    }
    return {};
}

using P = std::pair<std::string, std::string>;

} // namespace

TEST_CASE("2026 log patterns name the reports' lines", "[rules][kb][kb2026][logs]")
{
    const Facts good = fixture("ok-vulkan-radv.toml");
    CHECK(first_explained("kernel-amd-iommu-unknown-option-kyuz0-66.txt", LogSource::kernel, good) ==
          P{"log.amd-iommu-unknown-option", "The kernel ignored amd_iommu=pt: not a valid value"});
    CHECK(first_explained("kernel-ring-comp-timeout.txt", LogSource::kernel, good) ==
          P{"log.compute-ring-timeout", "GPU compute ring comp_1.0.0 timed out (a GPU job hung)"});
    // A graphics ring stays the generic entry's.
    CHECK(first_explained("kernel-ring-timeout-old.txt", LogSource::kernel, good).first == "log.ring-timeout");
    CHECK(first_explained("kernel-device-wedged-needs-recovery.txt", LogSource::kernel, good).first ==
          "log.device-wedged");
    CHECK(halo::rules::explain_log_line(kb().log_patterns, LogSource::kernel,
                                        "amdgpu 0000:c1:00.0: [drm] device wedged, but recovered through reset", good)
              ->pattern->id == "log.device-wedged-recovered");
    CHECK(first_explained("engine-full-prompt-reprocessing.txt", LogSource::engine, good).first ==
          "log.full-prompt-reprocessing");
    // Engine lines are not kernel lines.
    CHECK(first_explained("engine-full-prompt-reprocessing.txt", LogSource::kernel, good).first.empty());

    Facts rocm = rocm_engine("rocm-7.2.4");
    CHECK(first_explained("engine-memory-critical-error-rocm6182.txt", LogSource::engine, rocm).first ==
          "log.memory-critical-error");
    rocm.set("engine.wrapper", "podman");
    CHECK(first_explained("engine-memory-critical-error-rocm6182.txt", LogSource::engine, rocm).first ==
          "log.memory-critical-error-podman");

    // ErrorDeviceLost is attributed to RADV 25.3.6 on Linux 7.x only; otherwise the older entries
    // keep it (the AMDVLK one for an AMDVLK image, the generic one else).
    Facts radv = fixture("ok-vulkan-radv.toml");
    CHECK(first_explained("engine-vulkan-device-lost.txt", LogSource::engine, radv).first == "log.vulkan-device-lost");
    radv.set("kernel.release", "7.0.4-200.fc43.x86_64");
    radv.set("vulkan.0.driver_version", "25.3.6");
    CHECK(first_explained("engine-vulkan-device-lost.txt", LogSource::engine, radv).first ==
          "log.vulkan-device-lost-radv-mesa-25.3.6");
    Facts amdvlk = fixture("ok-vulkan-radv.toml");
    amdvlk.set("engine.image.tag", "vulkan-amdvlk");
    CHECK(first_explained("engine-vulkan-device-lost.txt", LogSource::engine, amdvlk).first ==
          "log.vulkan-device-lost-amdvlk");
}

TEST_CASE("lines the 2026 patterns must not take", "[rules][kb][kb2026][logs]")
{
    const Facts good = fixture("ok-vulkan-radv.toml");
    auto id_of = [&](LogSource source, const char* line) {
        auto m = halo::rules::explain_log_line(kb().log_patterns, source, line, good);
        return m ? m->pattern->id : std::string{};
    };
    CHECK(id_of(LogSource::kernel, "AMD-Vi: Using global IVHD EFR:0x246577efa2254afa, EFR2:0x0") !=
          "log.amd-iommu-unknown-option");
    CHECK(id_of(LogSource::kernel,
                "amdgpu 0000:c1:00.0: amdgpu: ring gfx_0.0.0 timeout, signaled seq=25933, emitted seq=25934") ==
          "log.ring-timeout");
    CHECK(id_of(LogSource::engine, "slot update_slots: id  0 | task 12 | kv cache rm [1024, end)").empty());
}
