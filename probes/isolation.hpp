#pragma once
// Runs a probe that loads a GPU driver in a child process with a deadline. The child writes a
// facts file to a pipe; the parent reads it until the deadline, then kills the child's process
// group. A crash, a hang or garbage becomes the probe's status ("failed: crashed with SIGSEGV in
// the Vulkan driver", "failed: no answer in 5 s"); the caller's process is never at risk.

#include "probes/probe.hpp"
#include "rules/facts.hpp"

namespace halo::probes {

// Merges the child's facts and the probe's status into `facts`.
void run_probe_isolated(const ProbeInfo& probe, const ProbeContext& context, rules::Facts& facts);

} // namespace halo::probes
