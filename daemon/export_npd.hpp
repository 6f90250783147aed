#pragma once
// node-problem-detector's custom-plugin contract: exit 0 OK, 1 NonOK (a problem), any other code
// Unknown; the first line of stdout, cut to 80 bytes, is the condition's message. halo-check's
// own exit codes (2 BROKEN) would read as Unknown there, so the export maps them: BROKEN and, with
// --fail-on warning, WARNING are problems (1), UNKNOWN is 3.

#include "rules/evaluate.hpp"

#include <string>

namespace halo::app {

inline constexpr std::size_t k_npd_message_bytes = 80;

struct NpdResult {
    int exit_code = 0;   // 0, 1 or 3
    std::string message; // one line, at most k_npd_message_bytes bytes (cut on a UTF-8 boundary)
};

NpdResult format_npd(const rules::Report& report, rules::FailOn fail_on, bool next_boot);

} // namespace halo::app
