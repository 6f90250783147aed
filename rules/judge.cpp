#include "rules/judge.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace halo::rules {

namespace {

// Best first: the verdict a user would rather have.
int usability_rank(Verdict v)
{
    switch (v) {
    case Verdict::ok: return 0;
    case Verdict::warning: return 1;
    case Verdict::unknown: return 2;
    case Verdict::broken: return 3;
    }
    return 2;
}

void make_unknown(Report& report)
{
    report.verdict = Verdict::unknown;
    report.exit_code = ExitCode::unknown;
}

bool a_probe_failed(const Facts& facts)
{
    return std::any_of(facts.probes().begin(), facts.probes().end(),
                       [](const auto& entry) { return entry.second.state == ProbeState::failed; });
}

// An OK that rests on rules a failed probe left undecided is not an OK.
std::string settle_undecided(Report& report, const Facts& facts)
{
    if (report.verdict != Verdict::ok || report.undecided.empty() || !a_probe_failed(facts)) return {};
    make_unknown(report);
    return fmt::format("a probe failed, and {} rule{} could not be decided without it", report.undecided.size(),
                       report.undecided.size() == 1 ? "" : "s");
}

} // namespace

const std::vector<std::string>& known_backends()
{
    static const std::vector<std::string> list{"rocm", "vulkan"};
    return list;
}

std::string backend_label(std::string_view backend)
{
    if (backend == "rocm") return "ROCm";
    if (backend == "vulkan") return "Vulkan";
    return std::string(backend);
}

bool engine_configured(const Facts& facts)
{
    const auto& all = facts.all();
    const auto it = all.lower_bound(std::string_view("engine."));
    return it != all.end() && it->first.rfind("engine.", 0) == 0;
}

Facts backend_view(const Facts& facts, std::string_view backend)
{
    Facts view = facts;
    view.set("engine.backend", std::string(backend), "view:no engine configured, judged for " + std::string(backend));
    return view;
}

Tri amd_gpu_present(const Facts& facts)
{
    for (const std::string& key : facts.keys_matching("gpu.*.pci.vendor")) {
        if (facts.get(key) == std::optional<std::string>("0x1002")) return Tri::yes;
    }
    if (facts.unknown_reason("gpu.0.pci.vendor")) return Tri::unknown;
    const auto drm = facts.probes().find("drm");
    if (drm == facts.probes().end() && facts.keys_matching("gpu.*.pci.vendor").empty()) return Tri::unknown;
    return Tri::no;
}

Judgement judge(const RuleSet& rules, const Facts& facts, const JudgeOptions& options)
{
    Judgement j;
    if (engine_configured(facts)) {
        j.report = evaluate(rules, facts, options.evaluate);
        j.unknown_reason = settle_undecided(j.report, facts);
        if (auto backend = facts.get("engine.backend")) j.backend = *backend;
    } else {
        for (const std::string& backend : known_backends()) {
            BackendVerdict b{backend, evaluate(rules, backend_view(facts, backend), options.evaluate), {}};
            b.unknown_reason = settle_undecided(b.report, facts);
            j.backends.push_back(std::move(b));
        }
        // stable: on a tie the first backend listed is taken.
        std::size_t best = 0;
        for (std::size_t i = 1; i < j.backends.size(); ++i) {
            if (usability_rank(j.backends[i].report.verdict) < usability_rank(j.backends[best].report.verdict))
                best = i;
        }
        j.report = j.backends[best].report;
        j.backend = j.backends[best].backend;
        j.unknown_reason = j.backends[best].unknown_reason;
    }
    const bool judged_fine = j.report.verdict == Verdict::ok || j.report.verdict == Verdict::warning;
    if (!options.no_gpu_ok && amd_gpu_present(facts) == Tri::no && judged_fine) {
        make_unknown(j.report);
        j.no_gpu = true;
        j.unknown_reason = "no Strix Halo GPU found (no AMD GPU among the DRM devices)";
        for (BackendVerdict& b : j.backends) {
            if (b.report.verdict == Verdict::ok || b.report.verdict == Verdict::warning) {
                make_unknown(b.report);
                b.unknown_reason = "no Strix Halo GPU found";
            }
        }
    }
    return j;
}

} // namespace halo::rules
