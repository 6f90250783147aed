// bench_engine_restart: how long an engine takes to serve again.
//
//   crash STATE_DIR PORT RUNS GAP_MS TIMEOUT_S
//       halo-checkd supervises an engine on PORT with its state in STATE_DIR. RUNS times: SIGKILL
//       the engine pid the state file names, then time (from just before the kill) the state
//       file naming a new pid (relaunched), saying ready with a new pid (ready), and GET /health
//       answering 200 again after it had stopped answering 200 (health). The state file is
//       watched with inotify; /health is polled every 2 ms from a second thread. GAP_MS after
//       each ready, so the next crash comes after the smoke test and outside the restart window.
//   start PORT RUNS TIMEOUT_S -- COMMAND [ARGS…]
//       The engine started by hand: after one warm-up, RUNS times fork/exec COMMAND, time to the
//       first answer on /health (the socket is bound) and to the first 200, then SIGTERM it and
//       wait for it.
//
// Prints one line per run and a median/range line per measure; exits 1 when a wait times out.

#include "engine_bench_support.hpp"

#include <atomic>
#include <thread>

using namespace halo::bench;

namespace {

constexpr int k_poll_us = 2000;

int crash(const std::string& dir, int port, int runs, int gap_ms, int timeout_s)
{
    StateWatch watch(dir);
    if (!watch.ok()) {
        fmt::print(stderr, "bench_engine_restart: error: Failed to watch '{}' with inotify: {}\n", dir,
                   std::strerror(errno));
        return 1;
    }
    std::vector<double> relaunched, ready, health;
    for (int i = 1; i <= runs; ++i) {
        long old = 0;
        const bool up = watch.until(
            [&](const nlohmann::json& s, double) {
                old = engine_pid(s);
                return engine_state(s) == "ready" && old > 0;
            },
            mono_ms() + timeout_s * 1000.0);
        if (!up) {
            fmt::print(stderr, "bench_engine_restart: error: engine not ready within {} s before crash {}\n", timeout_s,
                       i);
            return 1;
        }
        const double deadline = mono_ms() + timeout_s * 1000.0;
        std::atomic<double> health_at{-1};
        const double t0 = mono_ms();
        ::kill(static_cast<pid_t>(old), SIGKILL);
        // A 200 counts only after a failure: the first poll may still reach the dying engine.
        std::thread poller([&] {
            bool down = false;
            while (mono_ms() < deadline) {
                const int status = http_status(port, "/health", 1000);
                if (status != 200) down = true;
                else if (down) {
                    health_at = mono_ms();
                    return;
                }
                ::usleep(k_poll_us);
            }
        });
        double launch_at = -1, ready_at = -1;
        watch.until(
            [&](const nlohmann::json& s, double at) {
                const long pid = engine_pid(s);
                if (pid <= 0 || pid == old) return false;
                if (launch_at < 0) launch_at = at;
                if (engine_state(s) != "ready") return false;
                ready_at = at;
                return true;
            },
            deadline);
        poller.join();
        if (ready_at < 0 || health_at < 0) {
            fmt::print(stderr, "bench_engine_restart: error: crash {}: no new ready engine within {} s ({})\n", i,
                       timeout_s, ready_at < 0 ? "state file" : "/health");
            return 1;
        }
        relaunched.push_back(launch_at - t0);
        ready.push_back(ready_at - t0);
        health.push_back(health_at - t0);
        fmt::print("crash {:2}: relaunched {:7.1f} ms, /health 200 {:7.1f} ms, state ready {:7.1f} ms\n", i,
                   launch_at - t0, health_at - t0, ready_at - t0);
        std::fflush(stdout);
        ::usleep(static_cast<useconds_t>(gap_ms) * 1000);
    }
    fmt::print("crash → relaunched (new pid in the state file): {}\n", summary_text(relaunched));
    fmt::print("crash → /health 200 again:                      {}\n", summary_text(health));
    fmt::print("crash → state file ready with a new pid:        {}\n", summary_text(ready));
    return 0;
}

int start(int port, int runs, int timeout_s, const std::vector<std::string>& cmd)
{
    std::vector<double> bound, ready;
    // Run 0 is a warm-up, as in bench_exec: the first start reads the binary and the model from
    // disk, which a restart under the daemon never does.
    for (int i = 0; i <= runs; ++i) {
        // The previous run's engine has exited; its port must be free before the clock starts.
        for (int w = 0; http_status(port, "/health", 200) != 0; ++w) {
            if (w > 1000) {
                fmt::print(stderr, "bench_engine_restart: error: port {} still answers before run {}\n", port, i);
                return 1;
            }
            ::usleep(10000);
        }
        const double deadline = mono_ms() + timeout_s * 1000.0;
        const double t0 = mono_ms();
        const pid_t pid = spawn(cmd);
        double bound_at = -1, ready_at = -1;
        int status = 0;
        bool exited = false;
        while (mono_ms() < deadline) {
            const int code = http_status(port, "/health", 1000);
            if (code != 0 && bound_at < 0) bound_at = mono_ms();
            if (code == 200) {
                ready_at = mono_ms();
                break;
            }
            if (::waitpid(pid, &status, WNOHANG) == pid) {
                exited = true;
                break;
            }
            ::usleep(k_poll_us);
        }
        const std::string run = i == 0 ? std::string("warm-up") : fmt::format("run {}", i);
        if (exited) {
            fmt::print(stderr, "bench_engine_restart: error: {}: '{}' exited ({}) before /health answered 200\n", run,
                       cmd[0],
                       WIFEXITED(status) ? fmt::format("status {}", WEXITSTATUS(status))
                                         : fmt::format("signal {}", WTERMSIG(status)));
            return 1;
        }
        if (ready_at < 0) {
            stop_child(pid, 1000);
            fmt::print(stderr, "bench_engine_restart: error: {}: '{}' did not answer /health 200 within {} s\n", run,
                       cmd[0], timeout_s);
            return 1;
        }
        stop_child(pid, 10000);
        if (i == 0) continue;
        bound.push_back(bound_at - t0);
        ready.push_back(ready_at - t0);
        fmt::print("start {:2}: first answer {:7.1f} ms, /health 200 {:7.1f} ms\n", i, bound_at - t0, ready_at - t0);
        std::fflush(stdout);
    }
    fmt::print("start → first /health answer (socket bound): {}\n", summary_text(bound));
    fmt::print("start → /health 200:                         {}\n", summary_text(ready));
    return 0;
}

int usage()
{
    fmt::print(stderr, "usage: bench_engine_restart crash STATE_DIR PORT RUNS GAP_MS TIMEOUT_S\n"
                       "       bench_engine_restart start PORT RUNS TIMEOUT_S -- COMMAND [ARGS...]\n");
    return 2;
}

} // namespace

int main(int argc, char** argv)
{
    const std::vector<std::string> a(argv + 1, argv + argc);
    try {
        if (a.size() == 6 && a[0] == "crash")
            return crash(a[1], std::stoi(a[2]), std::stoi(a[3]), std::stoi(a[4]), std::stoi(a[5]));
        if (a.size() >= 6 && a[0] == "start" && a[4] == "--")
            return start(std::stoi(a[1]), std::stoi(a[2]), std::stoi(a[3]), {a.begin() + 5, a.end()});
    } catch (const std::invalid_argument&) {
        fmt::print(stderr, "bench_engine_restart: error: a number argument is not a number\n");
    } catch (const std::out_of_range&) {
        fmt::print(stderr, "bench_engine_restart: error: a number argument is out of range\n");
    }
    return usage();
}
