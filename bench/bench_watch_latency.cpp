// bench_watch_latency: latency from the end of an rpm transaction (the rpmdb write) to the
// watchers' debounced callback.
//
// Builds a real rpmdb under a temp root (tests/support/make_rpmdb.sh) and N RPMs of
// linux-firmware (tests/support/make_rpm.sh), arms Watchers::default_paths on the root in an
// sd-event loop, then N times: runs `rpm --root R --dbpath /usr/lib/sysimage/rpm -U --justdb`
// of the next version on a thread, takes the time when rpm has exited, and the time the
// callback runs. Latency = callback − rpm exit; goal: under the quiet period + 100 ms.
//
// Usage: bench_watch_latency [RUNS] [QUIET_MS]   (env HALO_SOURCE_DIR: the source tree, default .)

#define HALO_TEST_DATA ""
#include "../tests/unit/daemon/checkd/watch_test_support.hpp"
#include "daemon/checkd/watchers.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

using namespace halo;

namespace {

int run(int argc, char** argv)
{
    const int runs = argc > 1 ? std::stoi(argv[1]) : 10;
    const std::uint64_t quiet_ms = argc > 2 ? std::stoul(argv[2]) : 2000;
    const char* src = std::getenv("HALO_SOURCE_DIR");
    const std::string support = std::string(src ? src : ".") + "/tests/support/";
    test::TempDir dir;
    const std::string root = dir.str() + "/root";
    auto sh = [](const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); };
    if (sh(support + "make_rpmdb.sh '" + root + "' linux-firmware=20251111-1.fc43") != 0) {
        fmt::print(stderr,
                   "bench_watch_latency: make_rpmdb.sh failed (run from the source tree or set HALO_SOURCE_DIR)\n");
        return 1;
    }
    std::vector<std::string> rpms;
    for (int i = 0; i < runs; ++i) {
        const std::string version = std::to_string(20260101 + i);
        if (sh(support + "make_rpm.sh '" + dir.str() + "' linux-firmware " + version + " 1.fc43") != 0) return 1;
        rpms.push_back(dir.str() + "/linux-firmware-" + version + "-1.fc43.noarch.rpm");
    }

    probes::Host host(root);
    test::EventLoop loop;
    std::uint64_t callback_at = 0;
    std::size_t batches = 0;
    checkd::Watchers w(host, checkd::Watchers::default_paths(host),
                       [&](const checkd::WatchBatch&) {
                           callback_at = test::mono_usec();
                           ++batches;
                       },
                       {quiet_ms * 1000, 10 * quiet_ms * 1000});
    if (!w.attach(loop.e).ok()) return 1;

    std::vector<double> latency_ms;
    std::size_t extra_batches = 0;
    for (const auto& rpm : rpms) {
        std::atomic<std::uint64_t> rpm_done{0};
        callback_at = 0;
        const std::size_t before = batches;
        std::thread t([&] {
            sh("rpm --root '" + root + "' --dbpath /usr/lib/sysimage/rpm -U --justdb --nodeps --noscripts '" + rpm +
               "'");
            rpm_done = test::mono_usec();
        });
        loop.run_until([&] { return rpm_done.load() != 0 && batches > before; }, 30'000'000);
        t.join();
        loop.run_for(2 * quiet_ms * 1000); // any second batch would show here
        if (batches == before) {
            fmt::print(stderr, "no callback for {}\n", rpm);
            return 1;
        }
        extra_batches += batches - before - 1;
        latency_ms.push_back(static_cast<double>(callback_at - rpm_done.load()) / 1000.0);
    }
    std::sort(latency_ms.begin(), latency_ms.end());
    fmt::print("quiet {} ms, {} installs: rpm exit -> callback median {:.1f} ms, min {:.1f}, max {:.1f}; "
               "over the quiet period: median {:.1f} ms (goal < 100); extra batches {}\n",
               quiet_ms, runs, latency_ms[latency_ms.size() / 2], latency_ms.front(), latency_ms.back(),
               latency_ms[latency_ms.size() / 2] - static_cast<double>(quiet_ms), extra_batches);
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_watch_latency: error: %s\n", e.what());
        return 1;
    }
}
