#pragma once
// The one way into toml++: every TOML reader (config, rules and facts files, storage.conf) calls
// parse_toml(), so the guard against toml++ 3.3.0's defects (common/toml_guard.hpp) cannot be
// forgotten and every syntax error reads the same. tests/integration/lint_sources.sh holds the
// rest of the tree to it.

#include "common/result.hpp"

#include <toml++/toml.h>

#include <string>
#include <string_view>

namespace halo {

// The parsed document, strings and keys exactly as written; or "origin:line:col: what; fix".
// `origin` names the input in messages and in the nodes' source regions.
Result<toml::table> parse_toml(std::string_view text, std::string_view origin);

// "origin:line:col" of where a node (or an error) begins, for messages about parsed documents.
std::string toml_where(std::string_view origin, const toml::source_region& region);

} // namespace halo
