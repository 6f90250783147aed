// The fleet export's cost per re-check, next to the re-check itself: what halo-checkd adds after
// each evaluation when [export] names both files (render the Prometheus text and the NFD file,
// write each atomically: a dot-named temporary file and a rename, no fsync), against the check it follows (run the
// probes on a fixture root, evaluate both views). Medians of N runs after one warm-up. Usage: bench_export --root DIR
// --config FILE [--runs N] [--dir DIR] Goal: the export costs under 1 ms beyond the check.

#include "daemon/atomic_file.hpp"
#include "daemon/export_nfd.hpp"
#include "daemon/export_prometheus.hpp"
#include "probes/host.hpp"
#include "probes/runner.hpp"
#include "rules/evaluate.hpp"
#include "rules/rule_loader.hpp"
#include "rules/views.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

using Clock = std::chrono::steady_clock;

namespace {

double median_ms(int runs, const std::function<void()>& body)
{
    body();
    std::vector<double> samples;
    for (int i = 0; i < runs; ++i) {
        const auto start = Clock::now();
        body();
        samples.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    std::sort(samples.begin(), samples.end());
    return samples[samples.size() / 2];
}

} // namespace

int main(int argc, char** argv)
{
    int runs = 51;
    std::string root, config, dir;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string arg = argv[i];
        if (arg == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
        else if (arg == "--root") root = argv[i + 1];
        else if (arg == "--config") config = argv[i + 1];
        else if (arg == "--dir") dir = argv[i + 1];
    }
    if (root.empty()) {
        fmt::print(stderr, "usage: bench_export --root DIR --config FILE [--runs N] [--dir DIR]\n");
        return 2;
    }
    if (dir.empty()) dir = std::filesystem::temp_directory_path() / "halo-bench-export";
    std::filesystem::create_directories(dir);
    const halo::rules::LoadedRules loaded = halo::rules::load_rules({});
    if (loaded.has_errors()) {
        fmt::print(stderr, "bench_export: the embedded rules do not load\n");
        return 1;
    }
    halo::probes::Host host(root);
    halo::probes::ProbeContext context{host, std::chrono::milliseconds(5000), {}, {}, {}};
    if (!config.empty()) context.config_path = config;
    context.config_host = halo::probes::Host("/");

    halo::rules::Facts facts;
    halo::rules::Report now, next;
    const double check = median_ms(runs, [&] {
        facts = halo::probes::run_probes(context);
        now = halo::rules::evaluate(loaded.rules, facts);
        next = halo::rules::evaluate(loaded.rules, halo::rules::next_boot_view(facts));
    });

    halo::app::ExportInput in;
    in.facts = &facts;
    in.now = &now;
    in.next_boot = &next;
    in.checked_at = std::time(nullptr);
    halo::app::EngineStatus engine;
    engine.state = halo::app::EngineState::ready;
    in.engine = engine;
    std::size_t bytes = 0;
    const double render = median_ms(runs, [&] {
        bytes = halo::app::format_prometheus(in).size() + halo::app::format_nfd(in, in.checked_at + 600).size();
    });
    bool written = true;
    const double exporting = median_ms(runs, [&] {
        written =
            written && halo::app::write_file_atomically(dir + "/halo_check.prom", halo::app::format_prometheus(in),
                                                        0644, halo::app::Durability::unsynced);
        written = written &&
                  halo::app::write_file_atomically(dir + "/halo-check", halo::app::format_nfd(in, in.checked_at + 600),
                                                   0644, halo::app::Durability::unsynced);
    });
    // The same with fsync of each file and the directory, as state.json is written: what the
    // export would cost if it asked for durability too.
    const double synced = median_ms(runs, [&] {
        written =
            written && halo::app::write_file_atomically(dir + "/halo_check.prom", halo::app::format_prometheus(in));
        written = written &&
                  halo::app::write_file_atomically(dir + "/halo-check", halo::app::format_nfd(in, in.checked_at + 600));
    });
    if (!written) {
        fmt::print(stderr, "bench_export: writing into '{}' failed\n", dir);
        return 1;
    }
    fmt::print("fleet export per re-check, root '{}', median of {} runs, files in '{}'\n\n", root, runs, dir);
    fmt::print("{:<44} {:>10.3f} ms\n", "check (probes + both views evaluated)", check);
    fmt::print("{:<44} {:>10.3f} ms  ({} bytes)\n", "render (prometheus + nfd)", render, bytes);
    fmt::print("{:<44} {:>10.3f} ms  (goal: < 1 ms)\n", "export (render + 2 atomic writes)", exporting);
    fmt::print("{:<44} {:>10.1f} %\n", "export / check", 100.0 * exporting / check);
    fmt::print("{:<44} {:>10.3f} ms  (not used: see daemon/atomic_file.hpp)\n",
               "the same with fsync (file + directory)", synced);
    return 0;
}
