#pragma once
// The one way into toml++: every TOML reader (config, rules and facts files, storage.conf) calls
// parse_toml(), so the guard against toml++ 3.3.0's defects (common/toml_guard.hpp) cannot be
// forgotten and every syntax error reads the same. tests/integration/lint_sources.sh holds the
// rest of the tree to it.

#include "common/result.hpp"

#include <toml++/toml.h>

#include <string>
#include <string_view>
#include <utility>

namespace halo {

// The parsed document, strings and keys exactly as written; or "origin:line:col: what; fix".
// `origin` names the input in messages and in the nodes' source regions.
Result<toml::table> parse_toml(std::string_view text, std::string_view origin);

// A document guarded once and parsed in pieces (rules/rule_file.cpp reads a feed of thousands
// of entries one entry at a time): parse() takes a piece cut from text(), the guarded text, whose
// lines are those of the input.
class GuardedToml {
public:
    static Result<GuardedToml> guard(std::string_view text, std::string_view origin);
    std::string_view text() const { return m_text; }
    // The piece parsed, strings and keys exactly as written; its nodes' lines count from the
    // piece's first line.
    Result<toml::table> parse(std::string_view piece) const;

private:
    GuardedToml(std::string text, std::string_view origin) : m_text(std::move(text)), m_origin(origin) {}
    std::string m_text;
    std::string m_origin;
};

// "origin:line:col" of where a node (or an error) begins, for messages about parsed documents.
std::string toml_where(std::string_view origin, const toml::source_region& region);

} // namespace halo
