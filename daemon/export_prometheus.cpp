#include "daemon/export_prometheus.hpp"

#include "rules/views.hpp"

#include <fmt/core.h>

#include <array>
#include <filesystem>
#include <utility>
#include <vector>

namespace halo::app {

namespace {

using Labels = std::vector<std::pair<std::string_view, std::string>>;

class Writer {
public:
    // HELP and TYPE once per metric, before its first sample.
    void family(std::string_view name, std::string_view type, std::string_view help)
    {
        m_out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    }
    void sample(std::string_view name, const Labels& labels, double value)
    {
        m_out += name;
        if (!labels.empty()) {
            m_out += '{';
            bool first = true;
            for (const auto& [key, v] : labels) {
                if (!first) m_out += ',';
                first = false;
                m_out += fmt::format("{}=\"{}\"", key, escape_label_value(v));
            }
            m_out += '}';
        }
        m_out += ' ';
        m_out += fmt::format("{}", value);
        m_out += '\n';
    }
    std::string take() { return std::move(m_out); }

private:
    std::string m_out;
};

std::string fact(const rules::Facts& f, std::string_view key) { return f.get(key).value_or(""); }

std::string first_of(const rules::Facts& f, std::initializer_list<std::string> keys)
{
    for (const std::string& k : keys)
        if (auto v = f.get(k); v && !v->empty()) return *v;
    return {};
}

// The version of the first firmware package installed, in the order the rules know them (Fedora's
// first), so the label means the same on every distribution.
std::string firmware_version(const rules::Facts& f)
{
    for (std::string_view name : rules::firmware_packages()) {
        const std::string key = "package." + std::string(name);
        if (std::string v = first_of(f, {key + ".evr", key + ".version"}); !v.empty()) return v;
    }
    return {};
}

std::string model_name(const rules::Facts& f)
{
    std::string name = fact(f, "engine.model.name");
    if (!name.empty()) return name;
    const std::string path = fact(f, "engine.model.path");
    return path.empty() ? std::string() : std::filesystem::path(path).filename().string();
}

struct View {
    std::string_view name;
    const rules::Report* report;
};

void report_metrics(Writer& w, const std::array<View, 2>& views)
{
    w.family("halo_check_verdict", "gauge", "The verdict: 0 ok, 1 warning, 2 broken, 3 unknown");
    for (const View& v : views)
        w.sample("halo_check_verdict", {{"view", std::string(v.name)}}, verdict_number(v.report->verdict));
    w.family("halo_check_finding", "gauge", "1 for each rule that matched (severity info, warning or broken)");
    for (const View& v : views) {
        for (const rules::Finding& f : v.report->findings) {
            if (!f.rule) continue;
            w.sample("halo_check_finding",
                     {{"rule", f.rule->id},
                      {"severity", std::string(rules::to_string(f.rule->severity))},
                      {"view", std::string(v.name)}},
                     1);
        }
    }
    w.family("halo_check_undecided", "gauge", "1 for each warning or broken rule that facts it needs left undecided");
    for (const View& v : views) {
        for (const rules::Undecided& u : v.report->undecided)
            if (u.rule) w.sample("halo_check_undecided", {{"rule", u.rule->id}, {"view", std::string(v.name)}}, 1);
    }
    w.family("halo_check_known_good", "gauge", "1 for the known-good combination this machine matches now");
    if (views[0].report->known_good) w.sample("halo_check_known_good", {{"id", views[0].report->known_good->id}}, 1);
}

void stack_metrics(Writer& w, const ExportInput& in)
{
    const rules::Facts& f = *in.facts;
    w.family("halo_check_stack_info", "gauge", "The software stack this machine runs, as labels; always 1");
    w.sample("halo_check_stack_info",
             {{"kernel", fact(f, "kernel.release")},
              {"linux_firmware", firmware_version(f)},
              {"mes", fact(f, "gpu.0.firmware.mes")},
              {"mesa", first_of(f, {"package.mesa-vulkan-drivers.evr", "package.mesa-vulkan-drivers.version"})},
              {"rocm", fact(f, "rocm.host.version")},
              {"image", fact(f, "engine.image")},
              {"image_digest", fact(f, "engine.image.digest")},
              {"model", model_name(f)},
              {"backend", fact(f, "engine.backend")}},
             1);
    w.family("halo_check_probe_up", "gauge",
             "1 when the probe ran (ok, partial or not applicable), 0 when it failed or did not run");
    for (const auto& [probe, status] : f.probes()) {
        const bool up = status.state == rules::ProbeState::ok || status.state == rules::ProbeState::partial ||
                        status.state == rules::ProbeState::not_applicable;
        w.sample("halo_check_probe_up", {{"probe", probe}}, up ? 1 : 0);
    }
    w.family("halo_check_last_check_timestamp_seconds", "gauge", "When the machine was last checked, Unix time");
    w.sample("halo_check_last_check_timestamp_seconds", {}, static_cast<double>(in.checked_at));
}

void engine_metrics(Writer& w, const EngineStatus& e)
{
    static constexpr std::array k_states{EngineState::stopped,  EngineState::refused, EngineState::starting,
                                         EngineState::loading,  EngineState::ready,   EngineState::unhealthy,
                                         EngineState::stopping, EngineState::backoff, EngineState::given_up,
                                         EngineState::failed};
    w.family("halo_check_engine_state", "gauge", "1 for the state halo-checkd's engine is in, 0 for the others");
    for (EngineState s : k_states)
        w.sample("halo_check_engine_state", {{"state", std::string(to_string(s))}}, e.state == s ? 1 : 0);
    w.family("halo_check_engine_ready", "gauge", "1 when the engine is ready (healthy and smoke-tested)");
    w.sample("halo_check_engine_ready", {}, e.state == EngineState::ready ? 1 : 0);
    w.family("halo_check_engine_restarts_total", "counter", "Engine restarts since halo-checkd started");
    w.sample("halo_check_engine_restarts_total", {}, static_cast<double>(e.restarts_total));
    if (e.smoke) {
        w.family("halo_check_smoke_ok", "gauge", "1 when the last smoke test passed");
        w.sample("halo_check_smoke_ok", {}, e.smoke->ok ? 1 : 0);
    }
    // The figures of the last smoke test that passed: a failed one has none.
    if (const std::optional<SmokeFigures>& good = e.smoke && e.smoke->ok ? e.smoke : e.smoke_good) {
        w.family("halo_check_smoke_prompt_tokens_per_second", "gauge",
                 "Prompt processing speed of the last passing smoke test");
        w.sample("halo_check_smoke_prompt_tokens_per_second", {}, good->prompt_per_second);
        w.family("halo_check_smoke_generation_tokens_per_second", "gauge",
                 "Generation speed of the last passing smoke test");
        w.sample("halo_check_smoke_generation_tokens_per_second", {}, good->predicted_per_second);
        if (auto at = parse_rfc3339(good->at)) {
            w.family("halo_check_smoke_timestamp_seconds", "gauge", "When the last passing smoke test ran, Unix time");
            w.sample("halo_check_smoke_timestamp_seconds", {}, static_cast<double>(*at));
        }
    }
}

void gpu_metrics(Writer& w, const std::vector<GpuGauges>& gpus)
{
    struct Gauge {
        std::string_view name;
        std::string_view help;
        std::optional<double> GpuGauges::*field;
    };
    static constexpr std::array<Gauge, 7> k_gauges{{
        {"halo_check_gpu_busy_ratio", "GPU busy, 0 to 1 (amdgpu gpu_busy_percent)", &GpuGauges::busy_ratio},
        {"halo_check_gpu_vram_used_bytes", "VRAM in use (amdgpu mem_info_vram_used)", &GpuGauges::vram_used_bytes},
        {"halo_check_gpu_vram_total_bytes", "VRAM size (amdgpu mem_info_vram_total)", &GpuGauges::vram_total_bytes},
        {"halo_check_gpu_gtt_used_bytes", "GTT in use (amdgpu mem_info_gtt_used)", &GpuGauges::gtt_used_bytes},
        {"halo_check_gpu_gtt_total_bytes", "GTT size (amdgpu mem_info_gtt_total)", &GpuGauges::gtt_total_bytes},
        {"halo_check_gpu_temperature_celsius", "GPU edge temperature (amdgpu hwmon temp1_input)",
         &GpuGauges::temperature_celsius},
        {"halo_check_gpu_power_watts", "GPU power (amdgpu hwmon power1_average)", &GpuGauges::power_watts},
    }};
    for (const Gauge& g : k_gauges) {
        bool any = false;
        for (const GpuGauges& gpu : gpus) {
            const std::optional<double>& v = gpu.*(g.field);
            if (!v) continue;
            if (!any) w.family(g.name, "gauge", g.help);
            any = true;
            w.sample(g.name, {{"gpu", gpu.index}}, *v);
        }
    }
}

} // namespace

std::string escape_label_value(std::string_view value)
{
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

int verdict_number(rules::Verdict verdict) noexcept
{
    switch (verdict) {
    case rules::Verdict::ok: return 0;
    case rules::Verdict::warning: return 1;
    case rules::Verdict::broken: return 2;
    case rules::Verdict::unknown: return 3;
    }
    return 3;
}

std::string format_prometheus(const ExportInput& in)
{
    Writer w;
    report_metrics(w, {View{"now", in.now}, View{"next_boot", in.next_boot}});
    stack_metrics(w, in);
    if (in.engine) engine_metrics(w, *in.engine);
    gpu_metrics(w, gpu_gauges(*in.facts));
    return w.take();
}

} // namespace halo::app
