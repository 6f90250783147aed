#include "daemon/export_prometheus.hpp"

#include "export_fixture.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <sstream>

using namespace halo;
using namespace halo::app;
using Catch::Contains;

namespace {

// Every sample line's metric name has HELP and TYPE lines before it, once each.
void check_metadata(const std::string& text)
{
    std::set<std::string> helped, typed;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        INFO(line);
        if (line.starts_with("# HELP ")) {
            CHECK(helped.insert(line.substr(7, line.find(' ', 7) - 7)).second);
        } else if (line.starts_with("# TYPE ")) {
            CHECK(typed.insert(line.substr(7, line.find(' ', 7) - 7)).second);
        } else {
            const std::string name = line.substr(0, line.find_first_of("{ "));
            CHECK(helped.count(name) == 1);
            CHECK(typed.count(name) == 1);
        }
    }
}

} // namespace

TEST_CASE("prometheus: verdicts of both views, findings, undecided and the known-good match", "[daemon][export]")
{
    const test::ExportFixture f;
    const std::string text = format_prometheus(f.input());
    CHECK_THAT(text, Contains("halo_check_verdict{view=\"now\"} 2\n"));
    CHECK_THAT(text, Contains("halo_check_verdict{view=\"next_boot\"} 0\n"));
    CHECK_THAT(text, Contains("halo_check_finding{rule=\"firmware.linux-firmware-20251125-rocm\",severity=\"broken\","
                              "view=\"now\"} 1\n"));
    CHECK_THAT(text, Contains("halo_check_finding{rule=\"kernel.tainted\",severity=\"warning\",view=\"now\"} 1\n"));
    CHECK_THAT(text, Contains("halo_check_undecided{rule=\"rocm.user-in-render-group\",view=\"now\"} 1\n"));
    // The known-good id is the now view's: after a reboot it would match, now it does not.
    CHECK_THAT(text, !Contains("halo_check_known_good{"));
    CHECK_THAT(text, Contains("# TYPE halo_check_verdict gauge\n"));
    check_metadata(text);
}

TEST_CASE("prometheus: the stack as an info gauge, probes up, and when the check ran", "[daemon][export]")
{
    const test::ExportFixture f;
    const std::string text = format_prometheus(f.input());
    CHECK_THAT(text,
               Contains("halo_check_stack_info{kernel=\"6.17.7-300.fc43.x86_64\",linux_firmware=\"20251125-1.fc43\","
                        "mes=\"0x00000083\",mesa=\"\",rocm=\"\",image=\"docker.io/kyuz0/amd-strix-halo-toolboxes:"
                        "rocm-7.2\",image_digest=\"sha256:0123abcd\",model=\"Qwen3-30B-A3B-Q4_K_M.gguf\","
                        "backend=\"rocm\"} 1\n"));
    CHECK_THAT(text, Contains("halo_check_probe_up{probe=\"drm\"} 1\n"));
    CHECK_THAT(text, Contains("halo_check_probe_up{probe=\"vulkan\"} 0\n"));
    CHECK_THAT(text, Contains("halo_check_last_check_timestamp_seconds 1796000000\n"));
}

TEST_CASE("prometheus: amdgpu gauges in base units", "[daemon][export]")
{
    const test::ExportFixture f;
    const std::string text = format_prometheus(f.input());
    CHECK_THAT(text, Contains("halo_check_gpu_busy_ratio{gpu=\"0\"} 0.03\n"));
    CHECK_THAT(text, Contains("halo_check_gpu_gtt_used_bytes{gpu=\"0\"} 70506459136\n"));
    CHECK_THAT(text, Contains("halo_check_gpu_gtt_total_bytes{gpu=\"0\"} 133143986176\n"));
    CHECK_THAT(text, Contains("halo_check_gpu_vram_used_bytes{gpu=\"0\"} 254758912\n"));
    CHECK_THAT(text, Contains("halo_check_gpu_vram_total_bytes{gpu=\"0\"} 536870912\n"));
    CHECK_THAT(text, Contains("halo_check_gpu_temperature_celsius{gpu=\"0\"} 46\n"));
    CHECK_THAT(text, Contains("halo_check_gpu_power_watts{gpu=\"0\"} 18\n"));

    // A machine without the gauges has no such series (not zeros).
    test::ExportFixture bare;
    bare.facts.erase("gpu.0.sensor.temp_millicelsius");
    bare.facts.erase("gpu.0.sensor.power_microwatts");
    const std::string less = format_prometheus(bare.input());
    CHECK_THAT(less, !Contains("halo_check_gpu_temperature_celsius"));
    CHECK_THAT(less, !Contains("halo_check_gpu_power_watts"));
}

TEST_CASE("prometheus: the daemon's engine state, restarts and smoke speeds", "[daemon][export]")
{
    const test::ExportFixture f;
    CHECK_THAT(format_prometheus(f.input()), !Contains("halo_check_engine_"));

    ExportInput in = f.input();
    EngineStatus e;
    e.state = EngineState::ready;
    e.restarts_total = 4;
    SmokeFigures smoke;
    smoke.ok = true;
    smoke.at = "2026-12-01T10:00:00Z";
    smoke.prompt_per_second = 812.5;
    smoke.predicted_per_second = 47.25;
    e.smoke = smoke;
    in.engine = e;
    const std::string text = format_prometheus(in);
    CHECK_THAT(text, Contains("halo_check_engine_state{state=\"ready\"} 1\n"));
    CHECK_THAT(text, Contains("halo_check_engine_state{state=\"failed\"} 0\n"));
    CHECK_THAT(text, Contains("halo_check_engine_ready 1\n"));
    CHECK_THAT(text, Contains("# TYPE halo_check_engine_restarts_total counter\nhalo_check_engine_restarts_total 4\n"));
    CHECK_THAT(text, Contains("halo_check_smoke_prompt_tokens_per_second 812.5\n"));
    CHECK_THAT(text, Contains("halo_check_smoke_generation_tokens_per_second 47.25\n"));
    CHECK_THAT(text, Contains("halo_check_smoke_timestamp_seconds 1796119200\n"));
    check_metadata(text);

    // A failed smoke test shows the last passing figures, never its own zeros.
    SmokeFigures failed;
    failed.ok = false;
    failed.error = "timed out";
    e.smoke_good = smoke;
    e.smoke = failed;
    in.engine = e;
    const std::string after = format_prometheus(in);
    CHECK_THAT(after, Contains("halo_check_smoke_ok 0\n"));
    CHECK_THAT(after, Contains("halo_check_smoke_generation_tokens_per_second 47.25\n"));
}

TEST_CASE("prometheus: label values are escaped per the exposition format", "[daemon][export]")
{
    CHECK(escape_label_value(R"(a"b\c)") == R"(a\"b\\c)");
    CHECK(escape_label_value("two\nlines") == "two\\nlines");
    CHECK(escape_label_value("plain") == "plain");
    test::ExportFixture f;
    f.facts.set("engine.model.name", "my \"best\" model");
    CHECK_THAT(format_prometheus(f.input()), Contains("model=\"my \\\"best\\\" model\""));
}

TEST_CASE("prometheus: verdict numbers are halo-check's exit codes", "[daemon][export]")
{
    CHECK(verdict_number(rules::Verdict::ok) == 0);
    CHECK(verdict_number(rules::Verdict::warning) == 1);
    CHECK(verdict_number(rules::Verdict::broken) == 2);
    CHECK(verdict_number(rules::Verdict::unknown) == 3);
}
