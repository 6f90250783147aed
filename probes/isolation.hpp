#pragma once
// Runs a probe that loads a GPU driver in a child process with a deadline. The child writes a
// facts file to a pipe; the parent reads it until the deadline, then kills the child's process
// group. A crash, a hang or garbage becomes the probe's status ("failed: crashed with SIGSEGV in
// the Vulkan driver", "failed: no answer in 5 s"); the caller's process is never at risk.
//
// The deadline is ProbeContext::budget. The child: its own process group (so grandchildren a
// driver may spawn die with it), default dispositions for the crash signals (so a sanitizer or a
// host application's handler cannot turn a driver crash into an exit code), stdout on /dev/null
// (a driver that prints must not corrupt `halo-check facts` output; stderr stays for
// diagnostics). It runs only the probe and then `_exit`s, so it is safe to fork from a process
// with other threads as long as the probe itself does not need them.

#include "probes/probe.hpp"
#include "rules/facts.hpp"

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace halo::probes {

// The most a child may write back; a larger answer is garbage, not a facts file.
inline constexpr std::size_t k_isolation_answer_cap = 4u << 20;

// Merges the child's facts and the probe's status into `facts`.
void run_probe_isolated(const ProbeInfo& probe, const ProbeContext& context, rules::Facts& facts);

// "the Vulkan driver", "the amdgpu driver (libdrm)", or "the <id> probe": the words a crash
// message names the culprit with.
std::string isolation_culprit(std::string_view probe_id);

// "5 s", "1.5 s", "250 ms".
std::string describe_duration(std::chrono::milliseconds duration);

} // namespace halo::probes
