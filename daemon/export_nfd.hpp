#pragma once
// node-feature-discovery's local source: a features.d file of `name=value` lines. The names carry
// their own prefix (halo-check.io/…), which NFD keeps as it is (a bare name would get
// feature.node.kubernetes.io/). `# +expiry-time=` makes NFD drop the labels when the file is not
// rewritten in time: a dead daemon's node loses them.

#include "daemon/export_input.hpp"

#include <ctime>
#include <string>
#include <string_view>

namespace halo::app {

// The labels' namespace; see docs/fleet.md.
inline constexpr std::string_view k_label_prefix = "halo-check.io/";

// `expires` is when NFD should forget the labels (seconds since the epoch).
std::string format_nfd(const ExportInput& input, std::time_t expires);

// Kubernetes' rule for a label value: empty, or at most 63 characters of [A-Za-z0-9_.-] that
// begin and end with a letter or digit.
bool valid_label_value(std::string_view value) noexcept;
// `value` made valid: other characters become '_', cut to 63, ends trimmed to a letter or digit.
std::string label_value(std::string_view value);

} // namespace halo::app
