#pragma once
// A `when` (or `unless`) table as a whole: every condition must hold, and conditions whose keys
// share a `*` instance segment (`gpu.*.pci.device`, `gpu.*.firmware.mes`) must hold for the same
// instance. "The Strix Halo GPU runs MES 0x83" must not be satisfied by one GPU that is a Strix
// Halo and another that runs MES 0x83.

#include "rules/condition.hpp"
#include "rules/facts.hpp"

#include <span>
#include <string>
#include <utility>
#include <vector>

namespace halo::rules {

struct ConditionSetOutcome {
    Tri result = Tri::yes;
    std::vector<std::pair<std::string, std::string>> matched; // key -> value, for the instance that held
    std::vector<std::pair<std::string, std::string>> unknown; // key -> why it is unknown
};

// The family a wildcard key joins on: the text up to and including its first `*` segment, when
// more segments follow it ("gpu.*" for "gpu.*.pci.device"); empty for a key that joins nothing
// ("kernel.cmdline.*", where the `*` is the last segment, or a key without `*`).
std::string join_family(std::string_view key);

ConditionSetOutcome evaluate_all(std::span<const Condition> conditions, const Facts& facts);

} // namespace halo::rules
