#pragma once
// The verdict halo-check gives one machine. With an engine configured, its backend decides (the
// plain evaluation). Without one, every hardware rule is gated on `engine.backend` and would stay
// silent, so the machine is judged once per backend (ROCm, Vulkan) and the best usable backend's
// verdict is the machine's. A machine with no AMD GPU at all cannot run the stack: UNKNOWN, "no
// Strix Halo GPU found", unless the caller says a GPU is not needed. An OK whose rules could not
// all be decided because a probe failed is not a plain OK either: UNKNOWN, with those rules.

#include "rules/evaluate.hpp"

#include <optional>
#include <string>
#include <vector>

namespace halo::rules {

struct BackendVerdict {
    std::string backend; // "rocm", "vulkan"
    Report report;
    std::string unknown_reason; // as Judgement's, for this backend
};

struct JudgeOptions {
    EvaluateOptions evaluate;
    bool no_gpu_ok = false; // a machine without an AMD GPU is judged on its other rules
};

struct Judgement {
    Report report;                        // the one the verdict is taken from
    std::vector<BackendVerdict> backends; // one per backend when no engine is configured
    std::optional<std::string> backend;   // the backend `report` is for (configured or best)
    std::string unknown_reason;           // why the verdict is UNKNOWN, when the rules did not say
    bool no_gpu = false;                  // UNKNOWN because no AMD GPU was found
};

// The backends a Strix Halo runs llama.cpp on, in the order they are reported.
const std::vector<std::string>& known_backends();
std::string backend_label(std::string_view backend); // "ROCm", "Vulkan"

// True when the facts carry any engine.* fact: an engine is configured (or given to `run`).
bool engine_configured(const Facts& facts);

// The facts as if the engine ran on `backend`.
Facts backend_view(const Facts& facts, std::string_view backend);

// Whether an AMD GPU (PCI vendor 0x1002) is among the DRM devices: yes, no, or unknown (the drm
// probe failed or did not run).
Tri amd_gpu_present(const Facts& facts);

Judgement judge(const RuleSet& rules, const Facts& facts, const JudgeOptions& options = {});

} // namespace halo::rules
