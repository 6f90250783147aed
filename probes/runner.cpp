#include "probes/runner.hpp"

#include "common/fatal.hpp"
#include "common/spelling.hpp"
#include "probes/isolation.hpp"
#include "probes/registry.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <exception>

namespace halo::probes {

namespace {

bool contains(const std::vector<std::string>& list, std::string_view id)
{
    return std::find(list.begin(), list.end(), id) != list.end();
}

} // namespace

void mark_provides_unknown(const ProbeInfo& probe, rules::Facts& facts, const std::string& reason)
{
    for (std::string_view pattern : probe.provides) {
        // Keys the probe did set before failing stay; the rest of its keys are unknown.
        facts.mark_unknown(std::string(pattern), fmt::format("{} probe {}", probe.id, reason));
    }
}

void validate_selection(const Selection& selection)
{
    std::vector<std::string> known;
    for (const ProbeInfo& info : registry()) known.emplace_back(info.id);
    for (const auto* list : {&selection.only, &selection.skip}) {
        for (const std::string& id : *list) {
            if (find_probe(id)) continue;
            std::string message = fmt::format("unknown probe '{}'", id);
            if (auto guess = nearest(id, known)) message += fmt::format(", did you mean '{}'?", *guess);
            else message += "; 'halo-check probes' lists them";
            throw Fatal(message);
        }
    }
}

rules::ProbeStatus collect_guarded(const ProbeInfo& probe, const ProbeContext& context, rules::Facts& facts) noexcept
{
    try {
        FactSink sink(facts, std::string(probe.id));
        return probe.collect(context, sink);
    } catch (const std::exception& e) {
        return status_failed(fmt::format("internal error: {}", e.what()));
    } catch (...) {
        return status_failed("internal error");
    }
}

void run_probe_in_process(const ProbeInfo& probe, const ProbeContext& context, rules::Facts& facts)
{
    const auto start = std::chrono::steady_clock::now();
    rules::ProbeStatus status = collect_guarded(probe, context, facts);
    status.elapsed_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (status.state == rules::ProbeState::failed) mark_provides_unknown(probe, facts, "failed: " + status.reason);
    facts.set_probe_status(std::string(probe.id), std::move(status));
}

rules::Facts run_probes(const ProbeContext& context, const Selection& selection)
{
    validate_selection(selection);
    rules::Facts facts;
    for (const ProbeInfo& probe : registry()) {
        const bool selected =
            (selection.only.empty() || contains(selection.only, probe.id)) && !contains(selection.skip, probe.id);
        if (!selected) {
            facts.set_probe_status(std::string(probe.id), {rules::ProbeState::not_run, "not selected", 0});
            mark_provides_unknown(probe, facts, std::string(rules::k_not_selected_reason));
            continue;
        }
        if (probe.isolated) run_probe_isolated(probe, context, facts);
        else run_probe_in_process(probe, context, facts);
    }
    return facts;
}

} // namespace halo::probes
