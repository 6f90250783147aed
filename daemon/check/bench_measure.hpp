#pragma once
// The requests `halo-check bench` sends the engine and the readings it takes around them:
// the field report's request, streamed generation, prompt processing at each depth, and memory
// (the engine's RSS from /proc, amdgpu's GTT and VRAM in use from sysfs). Each request's figures
// come from the engine's own `timings`, so the client's overhead stays out of them.

#include "common/result.hpp"
#include "daemon/check/bench_result.hpp"
#include "probes/host.hpp"

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace halo::check {

struct BenchPlan {
    std::string url; // scheme://host:port
    int runs = 3;
    std::vector<long> depths{512, 4096, 16384};
    std::vector<std::string> headers;                 // Authorization, when the engine wants a key
    std::function<void(const std::string&)> progress; // one line of what runs now
    std::chrono::milliseconds timeout{std::chrono::minutes(10)};
};

// The pids listening on the URL's port (the engine); empty when none is visible.
std::vector<pid_t> engine_pids(const probes::Host& host, const std::string& url);

// RSS of `pids` (VmRSS in /proc/PID/status) and amdgpu's GTT/VRAM in use summed over the cards
// (/sys/class/drm/card*/device/mem_info_{gtt,vram}_used); each nullopt where not readable.
MemoryReading read_memory(const probes::Host& host, const std::vector<pid_t>& pids);
// The larger of each reading.
void keep_peak(MemoryReading& peak, const MemoryReading& now);

// The figures of one run of the suite; an error naming the request and what went wrong (the
// engine not answering, stopping mid-run, an answer without tokens or with absurd timings).
Result<BenchResult> run_bench(const BenchPlan& plan, const probes::Host& host);

// The prompt of `depth` tokens for /completion: `base` (tokenised text) repeated from `offset`,
// so each depth's prompt differs from the others.
std::vector<long> prompt_tokens(const std::vector<long>& base, long depth, std::size_t offset);

} // namespace halo::check
