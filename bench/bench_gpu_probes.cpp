// The cost of isolation and of the GPU probes: each GPU probe in-process vs in an isolated child,
// and the three together vs `vulkaninfo --summary` alone. Medians of N runs (default 15, first
// run of each kind discarded as warm-up), printed side by side with their ratio.
// Usage: bench_gpu_probes [--runs N] [--root DIR] [--vulkaninfo PATH]
// The Vulkan ICD is whatever the environment selects (pin it with VK_ICD_FILENAMES).

#include "probes/drm_probe.hpp"
#include "probes/isolation.hpp"
#include "probes/kfd_probe.hpp"
#include "probes/runner.hpp"
#include "probes/vulkan_probe.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

using namespace halo::probes;
using Clock = std::chrono::steady_clock;

namespace {

double median_ms(int runs, const std::function<void()>& body)
{
    body(); // warm-up: page cache, loader JSON, driver .so
    std::vector<double> samples;
    for (int i = 0; i < runs; ++i) {
        const auto start = Clock::now();
        body();
        samples.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    }
    std::sort(samples.begin(), samples.end());
    return samples[samples.size() / 2];
}

bool run_command(const std::string& path)
{
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int null = ::open("/dev/null", O_WRONLY);
        ::dup2(null, 1);
        ::dup2(null, 2);
        ::execlp(path.c_str(), path.c_str(), "--summary", static_cast<char*>(nullptr));
        ::_exit(127);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

} // namespace

int main(int argc, char** argv)
{
    int runs = 15;
    std::string root = "/", vulkaninfo = "vulkaninfo";
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string arg = argv[i];
        if (arg == "--runs") runs = std::max(1, std::atoi(argv[i + 1]));
        else if (arg == "--root") root = argv[i + 1];
        else if (arg == "--vulkaninfo") vulkaninfo = argv[i + 1];
    }
    Host host(root);
    ProbeContext context{host, std::chrono::milliseconds(10000), {}, {}, {}};
    const ProbeInfo* gpu_probes[] = {&k_drm_probe, &k_vulkan_probe, &k_kfd_probe};

    fmt::print("GPU probes, root '{}', median of {} runs (ms)\n\n", root, runs);
    fmt::print("{:<10} {:>12} {:>12} {:>10} {:>12}\n", "probe", "in-process", "isolated", "ratio", "overhead");
    for (const ProbeInfo* probe : gpu_probes) {
        const double in = median_ms(runs, [&] {
            halo::rules::Facts facts;
            run_probe_in_process(*probe, context, facts);
        });
        const double iso = median_ms(runs, [&] {
            halo::rules::Facts facts;
            run_probe_isolated(*probe, context, facts);
        });
        fmt::print("{:<10} {:>12.2f} {:>12.2f} {:>9.2f}x {:>+12.2f}\n", probe->id, in, iso, iso / in, iso - in);
    }

    // The set as the runner runs it: drm and vulkan isolated, kfd in-process.
    const double all = median_ms(runs, [&] {
        halo::rules::Facts facts;
        for (const ProbeInfo* probe : gpu_probes) {
            if (probe->isolated) run_probe_isolated(*probe, context, facts);
            else run_probe_in_process(*probe, context, facts);
        }
    });
    fmt::print("\n{:<34} {:>10.2f} ms\n", "drm+vulkan+kfd (as the runner runs)", all);
    if (run_command(vulkaninfo)) {
        const double vi = median_ms(runs, [&] { run_command(vulkaninfo); });
        fmt::print("{:<34} {:>10.2f} ms\n", "vulkaninfo --summary alone", vi);
        fmt::print("{:<34} {:>10.2f}x  (goal: <= 1.00)\n", "ratio GPU probes / vulkaninfo", all / vi);
    } else {
        fmt::print("'{} --summary' did not run; no comparison\n", vulkaninfo);
    }
    return 0;
}
