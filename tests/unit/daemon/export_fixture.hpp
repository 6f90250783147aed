#pragma once
// A broken Strix Halo machine as plain values, for the export formatters' tests.

#include "daemon/export_input.hpp"
#include "rules/evaluate.hpp"
#include "rules/rule.hpp"

namespace halo::test {

struct ExportFixture {
    rules::Rule mes;
    rules::Rule tainted;
    rules::Rule undecided;
    rules::KnownGood good;
    rules::Facts facts;
    rules::Report now;
    rules::Report next;

    ExportFixture()
    {
        mes.id = "firmware.linux-firmware-20251125-rocm";
        mes.severity = rules::Severity::broken;
        tainted.id = "kernel.tainted";
        tainted.severity = rules::Severity::warning;
        undecided.id = "rocm.user-in-render-group";
        undecided.severity = rules::Severity::broken;
        good.id = "fedora43-rocm-7.2";
        facts.set("kernel.release", "6.17.7-300.fc43.x86_64");
        facts.set("package.linux-firmware.evr", "20251125-1.fc43");
        facts.set("gpu.0.pci.vendor", "0x1002");
        facts.set("gpu.0.firmware.mes", "0x00000083");
        facts.set("gpu.0.mem.gtt_total", "133143986176");
        facts.set("gpu.0.mem.vram_total", "536870912");
        facts.set("gpu.0.sensor.busy_percent", "3");
        facts.set("gpu.0.sensor.gtt_used", "70506459136");
        facts.set("gpu.0.sensor.vram_used", "254758912");
        facts.set("gpu.0.sensor.temp_millicelsius", "46000");
        facts.set("gpu.0.sensor.power_microwatts", "18000000");
        facts.set("rocm.kfd.accessible", "true");
        facts.set("rocm.agent.1.gfx_target", "gfx1151");
        facts.set("vulkan.gpu_count", "1");
        facts.set("engine.backend", "rocm");
        facts.set("engine.image", "docker.io/kyuz0/amd-strix-halo-toolboxes:rocm-7.2");
        facts.set("engine.image.digest", "sha256:0123abcd");
        facts.set("engine.model.path", "/models/Qwen3-30B-A3B-Q4_K_M.gguf");
        facts.set_probe_status("drm", {rules::ProbeState::ok, "", 0});
        facts.set_probe_status("vulkan", {rules::ProbeState::failed, "vulkaninfo crashed", 0});
        now.verdict = rules::Verdict::broken;
        now.findings.push_back({&mes, {{"gpu.0.firmware.mes", "0x00000083"}}});
        now.findings.push_back({&tainted, {}});
        now.undecided.push_back({&undecided, {{"rocm.user_in_render_group", "kfd probe failed"}}, {}});
        next.verdict = rules::Verdict::ok;
        next.known_good = &good;
    }

    app::ExportInput input() const
    {
        app::ExportInput in;
        in.facts = &facts;
        in.now = &now;
        in.next_boot = &next;
        in.checked_at = 1796000000;
        return in;
    }
};

} // namespace halo::test
