#include "rules/facts_diff.hpp"
#include "rules/facts_io.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace halo::rules;

namespace {

Facts load(const std::string& name)
{
    auto facts = load_facts_file(std::string(HALO_TEST_DATA) + "/facts/" + name);
    REQUIRE(facts.ok());
    return std::move(*facts);
}

const FactChange* find(const FactsDiff& diff, const std::string& key)
{
    auto it = std::find_if(diff.changes.begin(), diff.changes.end(), [&](const FactChange& c) { return c.key == key; });
    return it == diff.changes.end() ? nullptr : &*it;
}

} // namespace

TEST_CASE("facts diff: added, removed and changed keys in key order, with old and new values", "[rules][facts_diff]")
{
    Facts a;
    a.set("kernel.release", "6.18.3-200.fc43.x86_64");
    a.set("package.linux-firmware.version", "20251111");
    a.set("package.amdvlk.version", "2025.Q2.1");
    a.set("engine.backend", "rocm");
    Facts b;
    b.set("kernel.release", "6.18.5-200.fc43.x86_64");
    b.set("package.linux-firmware.version", "20251125");
    b.set("engine.backend", "rocm");
    b.set("engine.image.created", "2026-01-25T09:31:12Z");

    const FactsDiff diff = diff_facts(a, b);
    REQUIRE(diff.changes.size() == 4);
    CHECK(diff.changes[0].key == "engine.image.created"); // ordered by key
    CHECK(diff.changes[0].kind == FactChange::Kind::added);
    CHECK(diff.changes[1].key == "kernel.release");
    CHECK(diff.changes[2].key == "package.amdvlk.version");
    CHECK(diff.changes[2].kind == FactChange::Kind::removed);
    CHECK(diff.changes[3].key == "package.linux-firmware.version");

    CHECK(format_diff_lines(diff) == std::vector<std::string>{
                                         "engine.image.created (absent) → 2026-01-25T09:31:12Z",
                                         "kernel.release 6.18.3-200.fc43.x86_64 → 6.18.5-200.fc43.x86_64",
                                         "package.amdvlk.version 2025.Q2.1 → (absent)",
                                         "package.linux-firmware.version 20251111 → 20251125",
                                     });
    CHECK(diff_facts(b, b).empty());
}

TEST_CASE("facts diff leaves out keys that change by themselves, unless asked", "[rules][facts_diff]")
{
    Facts a;
    a.set("container.llama-rocm-7.2.state", "running");
    a.set("package.kernel.installtime", "2026-01-05T18:22:41Z");
    a.set("boot.initramfs.mtime", "2026-01-05T18:23:00Z");
    a.set("gpu.0.firmware.source", "/sys/kernel/debug/dri/1/amdgpu_firmware_info");
    a.set("kernel.cmdline.BOOT_IMAGE", "(hd0,gpt2)/vmlinuz-6.18.3-200.fc43.x86_64");
    a.set("engine.image.created", "2026-01-05T02:18:33Z");
    Facts b;
    b.set("container.llama-rocm-7.2.state", "exited");
    b.set("package.kernel.installtime", "2026-01-14T07:54:32Z");
    b.set("boot.initramfs.mtime", "2026-01-14T07:55:10Z");
    b.set("gpu.0.firmware.source", "/sys/kernel/debug/dri/0/amdgpu_firmware_info");
    b.set("kernel.cmdline.BOOT_IMAGE", "(hd0,gpt2)/vmlinuz-6.18.5-200.fc43.x86_64");
    b.set("engine.image.created", "2026-01-25T09:31:12Z"); // a refreshed image is a real change

    const FactsDiff diff = diff_facts(a, b);
    REQUIRE(diff.changes.size() == 1);
    CHECK(diff.changes[0].key == "engine.image.created");
    CHECK(diff.ignored == 5);

    DiffOptions all;
    all.include_volatile = true;
    CHECK(diff_facts(a, b, all).changes.size() == 6);

    DiffOptions extra;
    extra.extra_ignored = {"engine.image.*"};
    CHECK(diff_facts(a, b, extra).changes.empty());
}

TEST_CASE("facts diff: a key whose probe failed is unknown, not removed", "[rules][facts_diff]")
{
    Facts a;
    a.set("gpu.0.firmware.mes", "0x00000080");
    a.set_probe_status("drm", {ProbeState::ok, "", 2.1});
    Facts b;
    b.mark_unknown("gpu.*", "drm probe failed: Permission denied");
    b.set_probe_status("drm", {ProbeState::failed, "Permission denied", 0.3});

    const FactsDiff diff = diff_facts(a, b);
    REQUIRE(diff.changes.size() == 1);
    REQUIRE(diff.changes[0].unknown_reason);
    CHECK(format_change(diff.changes[0]) ==
          "gpu.0.firmware.mes 0x00000080 → (unknown: drm probe failed: Permission denied)");
    REQUIRE(diff.probes.size() == 1);
    CHECK(format_probe_change(diff.probes[0]) == "probe drm ok → failed: Permission denied");
}

TEST_CASE("facts diff ignores probe timings and the snapshot header", "[rules][facts_diff]")
{
    Facts a;
    a.set("kernel.release", "6.18.9-200.fc43.x86_64");
    a.set_probe_status("kernel", {ProbeState::ok, "", 0.4});
    a.snapshot = {"2026-01-01T00:00:00Z", "one", "0.1.0"};
    Facts b = a;
    b.set_probe_status("kernel", {ProbeState::ok, "", 9.9});
    b.snapshot = {"2026-02-01T00:00:00Z", "two", "0.2.0"};
    CHECK(diff_facts(a, b).empty());
}

TEST_CASE("facts diff between the shared fixtures: the field report's kernel update", "[rules][facts_diff]")
{
    const Facts good = load("ok-vulkan-radv.toml");
    const Facts broken = load("broken-kernel-6.18.5-rocm-7.1.1.toml");
    const FactsDiff diff = diff_facts(good, broken);
    const FactChange* kernel = find(diff, "kernel.release");
    REQUIRE(kernel);
    CHECK(kernel->kind == FactChange::Kind::changed);
    CHECK(*kernel->new_value == "6.18.5-200.fc43.x86_64");
    CHECK_FALSE(find(diff, "boot.initramfs.mtime"));
    // The most telling changes come first where room is short.
    const auto ranked = changes_by_relevance(diff);
    REQUIRE_FALSE(ranked.empty());
    CHECK(ranked.front()->key == "kernel.release");
    // Ranking reorders, it never drops.
    CHECK(ranked.size() == diff.changes.size());
}

TEST_CASE("facts diff handles instance names with dots and empty sides", "[rules][facts_diff]")
{
    Facts a;
    Facts b;
    b.set("container.llama-rocm-7.2.state", "running");
    b.set("container.llama-rocm-7.2.image.tag", "rocm-7.2");
    const FactsDiff diff = diff_facts(a, b);
    REQUIRE(diff.changes.size() == 1); // the state is volatile even with dots in the name
    CHECK(diff.changes[0].key == "container.llama-rocm-7.2.image.tag");
    CHECK(diff_facts(b, a).changes.size() == 1);
    CHECK(diff_facts(a, a).empty());
}
