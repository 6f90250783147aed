#pragma once
// A guard in front of toml++ 3.3.0 (Debian 12's only version), which has two known defects on
// hostile input:
//  - undefined behaviour (TOML_UNREACHABLE in is_non_ascii_horizontal_whitespace) for code points
//    in three 1018-wide blocks of its lookup table — U+00A1…U+0499, U+2C4E…U+3047 and
//    U+FB26…U+FEFE, minus U+3000 — whenever the parser asks "is this whitespace?", which it does
//    while scanning ahead of values, not only between tokens (upstream #190/#295, PR #305);
//  - an assertion abort on `[|]` in header-only builds without NDEBUG (PR #301).
// The guard rewrites each such code point to a private-use code point (U+E000 + n) the parser
// handles safely, and restore_toml_strings() maps parsed strings and keys back, so valid
// documents read exactly as written. A document that already holds code points in the private
// range used is refused with a clear message. The product links the compiled library (built with
// NDEBUG), which turns `[|]` into an ordinary parse error.
// parse_toml() (common/toml.hpp) runs both steps around the parse; only the guard's own tests
// call them directly.

#include "common/result.hpp"

#include <string>
#include <string_view>

namespace toml {
inline namespace v3 {
class table;
}
} // namespace toml

namespace halo {

// The text to hand to the parser, or an error "origin:line:col: …" (NUL byte, reserved code point).
Result<std::string> prepare_toml_input(std::string_view text, std::string_view origin);
// Maps the rewritten code points back in every string value and key of a parsed document.
void restore_toml_strings(toml::table& root);
// The same for one string (exposed for tests).
std::string restore_toml_text(std::string_view text);

} // namespace halo
