#pragma once
// Runs the selected probes into one Facts value. In-process probes run under try/catch; probes
// marked `isolated` run in a child process with a deadline (probes/isolation.hpp). Unselected
// probes get status not_run and their keys become unknown, never a silent pass.

#include "probes/probe.hpp"
#include "rules/facts.hpp"

#include <string>
#include <vector>

namespace halo::probes {

struct Selection {
    std::vector<std::string> only; // empty = all
    std::vector<std::string> skip;
};

// Throws halo::Fatal for an unknown probe id (with the nearest known id).
void validate_selection(const Selection& selection);

rules::Facts run_probes(const ProbeContext& context, const Selection& selection = {});

// Marks every key pattern the probe provides unknown ("<id> probe <reason>"); keys it did set stay.
// Shared by the in-process and the isolated runner.
void mark_provides_unknown(const ProbeInfo& probe, rules::Facts& facts, const std::string& reason);

// Runs one probe in this process, catching everything; records status and unknown keys.
void run_probe_in_process(const ProbeInfo& probe, const ProbeContext& context, rules::Facts& facts);

// Calls probe.collect into `facts`; an exception becomes a failed status ("internal error: …").
rules::ProbeStatus collect_guarded(const ProbeInfo& probe, const ProbeContext& context, rules::Facts& facts) noexcept;

} // namespace halo::probes
