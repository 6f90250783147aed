// containers_bench [N]: times the containers probe in-process against the podman storage that
// CONTAINERS_STORAGE_CONF names (bench/containers_bench.sh builds one), N runs, and prints the
// median and the 90th percentile in milliseconds.
#include "probes/containers_probe.hpp"
#include "probes/probe.hpp"
#include "rules/facts.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char** argv)
{
    const int runs = argc > 1 ? std::atoi(argv[1]) : 200;
    halo::probes::Host host("/");
    host.set_env("HOME", "/nonexistent");
    halo::probes::ProbeContext context{host, std::chrono::milliseconds(5000), {}, {}, {}};
    std::vector<double> ms;
    std::size_t facts_count = 0;
    for (int i = 0; i < runs; ++i) {
        halo::rules::Facts facts;
        halo::probes::FactSink sink(facts, "containers");
        const auto start = std::chrono::steady_clock::now();
        const auto status = halo::probes::k_containers_probe.collect(context, sink);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
        if (status.state != halo::rules::ProbeState::ok) {
            std::fprintf(stderr, "probe status not ok: %s\n", status.reason.c_str());
            return 1;
        }
        facts_count = facts.size();
    }
    std::sort(ms.begin(), ms.end());
    std::printf("containers probe (storage files), %d runs, %zu facts: median %.3f ms, p90 %.3f ms\n", runs,
                facts_count, ms[ms.size() / 2], ms[ms.size() * 9 / 10]);
    return 0;
}
