#include "probes/isolation.hpp"

#include "probes/runner.hpp"

namespace halo::probes {

// Interim: no registered probe is isolated yet. The GPU probes work replaces this with the
// fork/pipe/deadline runner.
void run_probe_isolated(const ProbeInfo& probe, const ProbeContext& context, rules::Facts& facts)
{
    run_probe_in_process(probe, context, facts);
}

} // namespace halo::probes
