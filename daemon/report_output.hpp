#pragma once
// Presents a Report: the human form (verdict line first, one block per finding; colour only when
// asked) and the JSON form (the public contract in docs/json.md).

#include "rules/evaluate.hpp"
#include "rules/facts.hpp"
#include "rules/judge.hpp"

#include <nlohmann/json_fwd.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace halo::app {

struct OutputStyle {
    bool colour = false;
    bool verbose = false;    // also list probe statuses and the rules not checked
    bool short_form = false; // each finding's title, evidence and fix; its why and links only when verbose
    std::size_t width = 0;   // wrap lines to this many columns; 0: never
    std::size_t height = 0;  // repeat the verdict line at the end of a report taller than this; 0: never
    std::string knowledge{}; // "feed 7 (published …)": the header's knowledge line; empty: none
};

std::string format_report_text(const rules::Report& report, const rules::Facts& facts, const OutputStyle& style);
// The same, with one line per backend when the machine was judged for each, and the reason for
// an UNKNOWN the rules did not give.
std::string format_judgement_text(const rules::Judgement& judgement, const rules::Facts& facts,
                                  const OutputStyle& style);
// "BROKEN firmware.mes-0x83-rocm (+2)": for scripts and status bars.
std::string format_oneline(const rules::Judgement& judgement);

// What every JSON document halo-check prints starts with (docs/json.md): the schema version, the
// tool's version and the knowledge base's date.
inline constexpr int k_json_schema_version = 1;
nlohmann::ordered_json json_envelope(std::string_view knowledge_date);

// One diagnostic as JSON: {"level", "file", "line", "column", "message"}, the location taken
// from a "file:line:col: what" message (null fields when it names none).
nlohmann::ordered_json diagnostic_json(std::string_view level, std::string_view message);

std::string format_judgement_json(const rules::Judgement& judgement, const rules::Facts& facts,
                                  std::string_view knowledge_date);

// --color: "always", "never", or "auto" (a terminal, unless NO_COLOR is set: https://no-color.org,
// or TERM=dumb).
bool want_colour(int fd, std::string_view mode = "auto");

// The terminal's size on fd (columns, rows), or $COLUMNS/$LINES, or 0 when it is not a terminal.
struct TerminalSize {
    std::size_t columns = 0;
    std::size_t rows = 0;
};
TerminalSize terminal_size(int fd);

// Wraps each line longer than `width` at spaces; continuation lines are indented under the text
// after a "label:" at the line's start, else two past the line's own indentation. Colour escapes
// take no room.
std::string wrap_text(std::string_view text, std::size_t width);

// A multi-line text under a label: every line after the first starts with `pad`, the text's own
// indentation kept; trailing blanks dropped.
std::string indent_continuations(std::string_view text, std::string_view pad);

} // namespace halo::app
