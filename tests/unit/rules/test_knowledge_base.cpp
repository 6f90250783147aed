// The default knowledge base judged on realistic facts: each fixture under tests/data/facts gives
// exactly the findings written at its top, and the edges of the important rules (version
// boundaries, build dates, tag globs that must not catch newer tags) hold.

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

namespace {

using halo::rules::Facts;
using halo::rules::Verdict;

const halo::rules::RuleSet& kb() { return halo::test::embedded_kb(); }

Facts fixture(const char* name) { return halo::test::facts_fixture(name); }

std::set<std::string> findings(const Facts& facts)
{
    std::set<std::string> ids;
    for (const auto& f : halo::rules::evaluate(kb(), facts).findings) ids.insert(f.rule->id);
    return ids;
}

std::set<std::string> undecided(const Facts& facts)
{
    std::set<std::string> ids;
    for (const auto& u : halo::rules::evaluate(kb(), facts).undecided) ids.insert(u.rule->id);
    return ids;
}

std::string known_good(const Facts& facts)
{
    const auto report = halo::rules::evaluate(kb(), facts);
    return report.known_good ? report.known_good->id : std::string{};
}

// The stable Vulkan machine switched to a ROCm engine in the given image.
Facts rocm_engine(const std::string& tag, const std::string& created)
{
    Facts facts = fixture("ok-vulkan-radv.toml");
    facts.set("engine.backend", "rocm");
    facts.set("engine.image.tag", tag);
    facts.set("engine.image", "docker.io/kyuz0/amd-strix-halo-toolboxes:" + tag);
    if (created.empty()) facts.erase("engine.image.created");
    else facts.set("engine.image.created", created);
    return facts;
}

} // namespace

TEST_CASE("the embedded knowledge base loads without errors or lint warnings", "[rules][kb]")
{
    const auto loaded = halo::rules::load_embedded_rules();
    for (const auto& d : loaded.diagnostics) INFO(d.message);
    CHECK(loaded.diagnostics.empty());
    CHECK(loaded.rules.rules.size() >= 40);
    CHECK(loaded.rules.known_good.size() >= 6);
    CHECK(loaded.rules.log_patterns.size() >= 15);
}

TEST_CASE("each facts fixture gives the findings written at its top", "[rules][kb][fixtures]")
{
    using S = std::set<std::string>;
    CHECK(findings(fixture("ok-vulkan-radv.toml")).empty());
    CHECK(known_good(fixture("ok-vulkan-radv.toml")) == "known-good.vulkan-radv-fedora");
    CHECK(findings(fixture("ok-vulkan-radv.json")).empty());
    CHECK(halo::rules::evaluate(kb(), fixture("ok-vulkan-radv.json")).verdict == Verdict::ok);

    CHECK(findings(fixture("warning-ctx-200k.toml")) == S{"engine.ctx-size-over-128k"});
    CHECK(halo::rules::evaluate(kb(), fixture("warning-ctx-200k.toml")).verdict == Verdict::warning);

    CHECK(findings(fixture("broken-fw-20251125-rocm.toml")) ==
          S{"firmware.mes-0x83-rocm", "firmware.linux-firmware-20251125-rocm",
            "firmware.amd-gpu-firmware-20251125-rocm", "images.rocm-7.2-superseded"});
    CHECK(findings(fixture("broken-mes-0x83-rocm.toml")) ==
          S{"firmware.mes-0x83-rocm", "firmware.mes-0x83-stale-initramfs"});
    CHECK(findings(fixture("broken-kernel-6.18.5-rocm-7.1.1.toml")) ==
          S{"rocm.kernel-6.18.4-needs-fixed-rocm", "images.rocm-7.1.1-retired", "images.retired-toolbox-installed"});
    CHECK(halo::rules::evaluate(kb(), fixture("broken-kernel-6.18.5-rocm-7.1.1.toml")).verdict == Verdict::broken);

    CHECK(findings(fixture("broken-model-missing.toml")) == S{"engine.model-unreadable"});
    CHECK(halo::rules::evaluate(kb(), fixture("broken-model-missing.toml")).verdict == Verdict::broken);
    // The stack is still the known-good one; it is the engine that cannot start.
    CHECK(known_good(fixture("broken-model-missing.toml")) == "known-good.vulkan-radv-fedora");

    const Facts unknown_gpu = fixture("undecided-gpu-unknown.toml");
    CHECK(findings(unknown_gpu).empty());
    CHECK(undecided(unknown_gpu).count("firmware.mes-0x83-rocm") == 1);
    CHECK(halo::rules::evaluate(kb(), unknown_gpu).verdict == Verdict::warning);
    CHECK(known_good(unknown_gpu).empty());
}

TEST_CASE("kernel 6.18.4 boundary for ROCm images without the fix", "[rules][kb]")
{
    Facts facts = rocm_engine("rocm-7.1.1", "2026-01-05T02:18:33Z");
    facts.set("kernel.release", "6.18.3-200.fc43.x86_64");
    CHECK(findings(facts).count("rocm.kernel-6.18.4-needs-fixed-rocm") == 0);
    CHECK(findings(facts).count("kernel.older-than-6.18.4-gfx1151") == 1);
    facts.set("kernel.release", "6.18.4-200.fc43.x86_64");
    CHECK(findings(facts).count("rocm.kernel-6.18.4-needs-fixed-rocm") == 1);
    CHECK(findings(facts).count("kernel.older-than-6.18.4-gfx1151") == 0);
    facts.set("kernel.release", "6.19.12-200.fc43.x86_64");
    CHECK(findings(facts).count("rocm.kernel-6.18.4-needs-fixed-rocm") == 1);

    facts.set("kernel.release", "6.17.8-300.fc43.x86_64");
    CHECK(findings(facts).count("rocm.kernel-6.17.9-needs-fixed-rocm") == 0);
    facts.set("kernel.release", "6.17.9-300.fc43.x86_64");
    CHECK(findings(facts).count("rocm.kernel-6.17.9-needs-fixed-rocm") == 1);
    facts.set("kernel.release", "6.18.0-364.vanilla.fc43.x86_64");
    CHECK(findings(facts).count("rocm.kernel-6.17.9-needs-fixed-rocm") == 0);
    CHECK(findings(facts).count("rocm.kernel-6.18.4-needs-fixed-rocm") == 0);
}

TEST_CASE("fixed ROCm images are not caught by the old-tag globs", "[rules][kb]")
{
    for (const char* tag : {"rocm-7.14", "rocm-7.2", "rocm-7.2.4", "rocm-7.14_20260901T020000", "therock-nightly"}) {
        INFO(tag);
        const Facts facts = rocm_engine(tag, "2026-11-18T04:02:37Z");
        const auto ids = findings(facts);
        CHECK(ids.count("rocm.kernel-6.18.4-needs-fixed-rocm") == 0);
        CHECK(ids.count("rocm.kernel-6.18.4-therock-before-fix") == 0);
        CHECK(ids.count("images.rocm-7.1.1-retired") == 0);
    }
    for (const char* tag :
         {"rocm-7.1.1", "rocm-7.1.1_20260105T021833", "rocm-7.1-rocwmma", "rocm-6.4.3", "rocm-7rc-rocwmma"}) {
        INFO(tag);
        CHECK(findings(rocm_engine(tag, "2026-01-05T02:18:33Z")).count("rocm.kernel-6.18.4-needs-fixed-rocm") == 1);
    }
}

TEST_CASE("rocm-6.4.4 and nightly images are judged by their build date", "[rules][kb]")
{
    CHECK(
        findings(rocm_engine("rocm-6.4.4", "2026-01-20T10:00:00Z")).count("rocm.kernel-6.18.4-rocm-6.4.4-before-fix") ==
        1);
    CHECK(
        findings(rocm_engine("rocm-6.4.4", "2026-01-24T10:00:00Z")).count("rocm.kernel-6.18.4-rocm-6.4.4-before-fix") ==
        0);
    CHECK(findings(rocm_engine("rocm-6.4.4", "2026-01-24T10:00:00Z")).count("rocm.rocm-6.4.4-build-date-unknown") == 0);
    CHECK(findings(rocm_engine("rocm-6.4.4", "")).count("rocm.rocm-6.4.4-build-date-unknown") == 1);
    CHECK(findings(rocm_engine("rocm-6.4.4_20260123T235959", ""))
              .count("rocm.kernel-6.18.4-rocm-6.4.4-immutable-tag-before-fix") == 1);
    CHECK(findings(rocm_engine("rocm-6.4.4_20260124T000000", ""))
              .count("rocm.kernel-6.18.4-rocm-6.4.4-immutable-tag-before-fix") == 0);
    CHECK(findings(rocm_engine("rocm7-nightlies", "2025-12-18T23:00:00Z"))
              .count("rocm.kernel-6.18.4-therock-before-fix") == 1);
    CHECK(findings(rocm_engine("rocm7-nightlies", "2026-01-12T03:00:00Z"))
              .count("rocm.kernel-6.18.4-therock-before-fix") == 0);
}

TEST_CASE("known-good ROCm stacks need kernel, firmware and MES together", "[rules][kb]")
{
    Facts facts = rocm_engine("rocm-7.14", "2026-11-18T04:02:37Z");
    CHECK(findings(facts).empty());
    CHECK(known_good(facts) == "known-good.rocm-7.14");
    facts.set("gpu.0.firmware.mes", "0x00000083");
    CHECK(known_good(facts).empty());
    CHECK(findings(facts).count("firmware.mes-0x83-rocm") == 1);

    Facts rebuilt = rocm_engine("rocm-6.4.4", "2026-01-25T09:31:12Z");
    CHECK(known_good(rebuilt) == "known-good.rocm-6.4.4-rebuilt");
}

TEST_CASE("host and engine settings", "[rules][kb]")
{
    Facts facts = fixture("ok-vulkan-radv.toml");
    facts.set("engine.host", "0.0.0.0");
    CHECK(findings(facts).count("engine.listens-on-non-loopback") == 1);
    for (const char* host : {"127.0.0.1", "::1", "localhost"}) {
        facts.set("engine.host", host);
        CHECK(findings(facts).count("engine.listens-on-non-loopback") == 0);
    }

    Facts params = fixture("ok-vulkan-radv.toml");
    params.erase("kernel.cmdline.amdgpu.gttsize");
    params.set("kernel.cmdline.ttm.pages_limit", "16777216");
    CHECK(findings(params).count("host.gttsize-128gb") == 1);
    CHECK(findings(params).count("host.ttm-pages-limit-128gb") == 1);
    params.set("host.mem.total_bytes", "66571993088"); // a 64 GB machine: no advice
    CHECK(findings(params).count("host.gttsize-128gb") == 0);

    Facts nomodeset = fixture("ok-vulkan-radv.toml");
    nomodeset.set("kernel.cmdline.nomodeset", "true");
    CHECK(findings(nomodeset).count("kernel.nomodeset-gpu-backend") == 1);

    Facts amdvlk = fixture("ok-vulkan-radv.toml");
    amdvlk.set("engine.image.tag", "vulkan-amdvlk");
    CHECK(findings(amdvlk).count("engine.amdvlk-2gib-buffer-limit") == 1);
    amdvlk.set("engine.model.size_bytes", "1073741824");
    CHECK(findings(amdvlk).count("engine.amdvlk-2gib-buffer-limit") == 0);

    Facts glm = fixture("warning-ctx-200k.toml");
    glm.set("engine.flash_attn", "on");
    CHECK(findings(glm).count("engine.glm-4.7-flash-flash-attention") == 1);

    Facts cpu = fixture("ok-vulkan-radv.toml");
    cpu.set("vulkan.software_only", "true");
    CHECK(findings(cpu).count("vulkan.software-only") == 1);

    Facts kfd = rocm_engine("rocm-7.14", "2026-11-18T04:02:37Z");
    kfd.set("rocm.kfd.accessible", "false");
    CHECK(findings(kfd).count("rocm.kfd-not-accessible") == 1);
    kfd.set("rocm.kfd.present", "false");
    CHECK(findings(kfd).count("rocm.kfd-missing") == 1);
    // Broken needs positive evidence: no word on /dev/kfd is not "/dev/kfd is missing".
    kfd.erase("rocm.kfd.present");
    CHECK(findings(kfd).count("rocm.kfd-missing") == 0);
}

TEST_CASE("firmware 20251125 without a ROCm engine is a warning", "[rules][kb]")
{
    Facts facts = fixture("ok-vulkan-radv.toml");
    facts.set("package.amd-gpu-firmware.version", "20251125");
    const auto ids = findings(facts);
    CHECK(ids.count("firmware.amd-gpu-firmware-20251125-installed") == 1);
    CHECK(ids.count("firmware.amd-gpu-firmware-20251125-rocm") == 0);
    CHECK(halo::rules::evaluate(kb(), facts).verdict == Verdict::warning);
}

namespace {

// The first line of a tests/data/logs file that a knowledge-base pattern explains, as the
// supervisor records it for a run: the pattern's id and its filled title.
std::pair<std::string, std::string> first_explained(const char* log, const Facts& facts)
{
    std::ifstream in(std::filesystem::path(HALO_TEST_DATA) / "logs" / log);
    REQUIRE(in);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        if (auto m = halo::rules::explain_log_line(kb().log_patterns, halo::rules::LogSource::engine, line, facts)) {
            return {m->pattern->id, m->title};
        }
    }
    return {};
}

} // namespace

TEST_CASE("the real llama-server's start-up failures are named by their cause, not the last line", "[rules][kb]")
{
    Facts facts = fixture("ok-vulkan-radv.toml");
    facts.set("engine.model.path", "/tmp/models/m.bin");
    CHECK(
        first_explained("engine-model-missing.txt", facts) ==
        std::pair<std::string, std::string>{"log.engine-model-not-found", "model file not found: /tmp/models/x.gguf"});
    CHECK(first_explained("engine-model-not-gguf.txt", facts) ==
          std::pair<std::string, std::string>{"log.engine-model-not-gguf", "'/tmp/models/m.bin' is not a GGUF file"});
    CHECK(first_explained("engine-port-in-use.txt", facts) ==
          std::pair<std::string, std::string>{"log.engine-port-in-use", "port 18557 is already in use"});

    // Another reason to fail opening the file is named as it is, not as "not found".
    const std::string denied = "E gguf_init_from_file: failed to open GGUF file '/m/x.gguf' (Permission denied)";
    auto m = halo::rules::explain_log_line(kb().log_patterns, halo::rules::LogSource::engine, denied, facts);
    REQUIRE(m);
    CHECK(m->pattern->id == "log.engine-model-unreadable");
    CHECK(m->title == "cannot open the model file /m/x.gguf: Permission denied");
    // The kernel log never says this.
    CHECK_FALSE(halo::rules::explain_log_line(kb().log_patterns, halo::rules::LogSource::kernel, denied, facts));
}

TEST_CASE("an engine that cannot start is broken, on positive evidence only", "[rules][kb]")
{
    const std::set<std::string> cannot_start{"engine.model-unreadable", "engine.model-not-gguf",
                                             "engine.binary-not-found", "engine.container-missing"};
    auto ours = [&](const std::set<std::string>& ids) {
        std::set<std::string> out;
        for (const auto& id : ids) {
            if (cannot_start.count(id)) out.insert(id);
        }
        return out;
    };
    using S = std::set<std::string>;

    // A facts file without the keys (every fixture written before them) is not judged by them:
    // neither a finding nor undecided.
    for (const char* name :
         {"ok-vulkan-radv.toml", "ok-vulkan-radv.json", "warning-ctx-200k.toml", "undecided-gpu-unknown.toml"}) {
        INFO(name);
        const Facts facts = fixture(name);
        CHECK_FALSE(facts.contains("engine.model.readable"));
        CHECK(ours(findings(facts)).empty());
        CHECK(ours(undecided(facts)).empty());
    }
    // A failed engine probe leaves them undecided: a warning, never broken.
    Facts failed = fixture("ok-vulkan-radv.toml");
    for (const char* key :
         {"engine.model.readable", "engine.model.gguf", "engine.binary.found", "engine.container.exists"})
        failed.erase(key);
    failed.mark_unknown("engine.*",
                        "engine probe failed: Failed to read '/etc/halo-check/config.toml': Permission denied");
    CHECK(ours(findings(failed)).empty());
    CHECK(ours(undecided(failed)) == cannot_start);
    CHECK(halo::rules::evaluate(kb(), failed).verdict == Verdict::warning);

    // "true" is evidence too, of an engine that can start.
    Facts facts = fixture("ok-vulkan-radv.toml");
    facts.set("engine.model.readable", "true");
    facts.set("engine.model.gguf", "true");
    facts.set("engine.binary.found", "true");
    facts.set("engine.container.exists", "true");
    CHECK(findings(facts).empty());
    CHECK(halo::rules::evaluate(kb(), facts).verdict == Verdict::ok);

    auto with = [](const char* key, const char* value) {
        Facts f = fixture("ok-vulkan-radv.toml");
        f.set(key, value);
        return f;
    };
    CHECK(ours(findings(with("engine.model.readable", "false"))) == S{"engine.model-unreadable"});
    CHECK(ours(findings(with("engine.model.gguf", "false"))) == S{"engine.model-not-gguf"});
    CHECK(ours(findings(with("engine.binary.found", "false"))) == S{"engine.binary-not-found"});
    CHECK(ours(findings(with("engine.container.exists", "false"))) == S{"engine.container-missing"});
    for (const auto& f : {with("engine.model.readable", "false"), with("engine.binary.found", "false")}) {
        const auto report = halo::rules::evaluate(kb(), f);
        CHECK(report.verdict == Verdict::broken);
        CHECK(report.exit_code == halo::ExitCode::broken);
    }

    // The container rule needs a command that enters it: toolbox run or podman exec. A host
    // command with a `container` only in the config starts anyway, and distrobox may be docker's.
    Facts podman = with("engine.container.exists", "false");
    podman.set("engine.wrapper", "podman");
    CHECK(ours(findings(podman)) == S{"engine.container-missing"});
    for (const char* wrapper : {"host", "distrobox"}) {
        INFO(wrapper);
        Facts other = with("engine.container.exists", "false");
        other.set("engine.wrapper", wrapper);
        CHECK(ours(findings(other)).empty());
    }
}
