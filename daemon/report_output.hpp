#pragma once
// Presents a Report: the human form (verdict line first, one block per finding; colour only when
// asked) and the JSON form (the public contract in docs/rules.md).

#include "rules/evaluate.hpp"
#include "rules/facts.hpp"

#include <string>

namespace halo::app {

struct OutputStyle {
    bool colour = false;
    bool verbose = false; // also list probe statuses
};

std::string format_report_text(const rules::Report& report, const rules::Facts& facts, const OutputStyle& style);
std::string format_report_json(const rules::Report& report, const rules::Facts& facts);

// Colour on a terminal unless NO_COLOR is set (https://no-color.org).
bool want_colour(int fd);

} // namespace halo::app
