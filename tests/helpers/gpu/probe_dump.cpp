// Runs GPU probes through the real runner and prints the facts file: the integration tests and
// bench/gpu_device_check.sh use it before the CLI's `halo-check facts --only …` exists.
// Usage: halo_probe_dump [--root DIR] [--budget-ms N] [--in-process] PROBE…

#include "probes/isolation.hpp"
#include "probes/registry.hpp"
#include "probes/runner.hpp"
#include "rules/facts_io.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char** argv)
{
    std::string root = "/";
    long budget = 5000;
    bool in_process = false;
    std::vector<std::string> ids;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--root" && i + 1 < argc) root = argv[++i];
        else if (arg == "--budget-ms" && i + 1 < argc) budget = std::atol(argv[++i]);
        else if (arg == "--in-process") in_process = true;
        else ids.push_back(arg);
    }
    halo::probes::Host host(root);
    halo::probes::ProbeContext context{host, std::chrono::milliseconds(budget), {}, {}, {}};
    halo::rules::Facts facts;
    for (const auto& id : ids) {
        const auto* probe = halo::probes::find_probe(id);
        if (!probe) {
            std::fprintf(stderr, "halo_probe_dump: error: unknown probe '%s'\n", id.c_str());
            return 2;
        }
        if (probe->isolated && !in_process) halo::probes::run_probe_isolated(*probe, context, facts);
        else halo::probes::run_probe_in_process(*probe, context, facts);
    }
    std::fputs(halo::rules::serialize_facts(facts, halo::rules::FactsFormat::toml).c_str(), stdout);
    return 0;
}
