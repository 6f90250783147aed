#pragma once
// A pre-parser in front of toml++ 3.3.0 (Debian 12's only version), which has two known defects
// on hostile input: undefined behaviour (TOML_UNREACHABLE) on some non-ASCII code points where it
// expects whitespace, such as U+FCFF (upstream #190/#295, fixed in PR #305), and an assertion
// abort on `[|]` in header-only builds without NDEBUG (fixed in PR #301). TOML allows non-ASCII
// characters only inside strings and comments, so rejecting them elsewhere before parsing loses
// no valid document and keeps the parser off the undefined path. The product links the compiled
// library (built with NDEBUG), which turns `[|]` into an ordinary parse error.

#include "rules/result.hpp"

#include <string>
#include <string_view>

namespace halo::rules {

// An error "origin:line:col: …" for a NUL byte anywhere or a non-ASCII byte outside strings and
// comments; success otherwise (the document may still be invalid TOML: the parser decides that).
Result<void> check_toml_input(std::string_view text, const std::string& origin);

} // namespace halo::rules
