#pragma once
// One rules file's schema: [[rule]], [[known_good]], [[log_pattern]] and [[disable]] entries
// (docs/rules.md), read from its text with every problem as a diagnostic "file:line:col: what".
// Merging files into one set is rules/rule_loader.hpp's job.

#include "rules/rule.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace halo::rules {

struct Diagnostic {
    enum class Level { error, warning };
    Level level = Level::error;
    std::string message; // "file:line:col: what is wrong"
};

struct RulesFile {
    RuleSet entries;
    std::vector<std::string> disabled; // ids from [[disable]]
    std::vector<Diagnostic> diagnostics;
    bool has_errors() const;
};

// `origin` names the file in messages. `lint` adds the warnings (keys outside the catalogue …);
// the embedded knowledge base is loaded without them: its tests hold it to the catalogue. A file
// with errors comes back with its diagnostics and no entries. `own_table` names a top-level table
// the caller reads itself (a feed's [feed]), skipped here.
RulesFile parse_rules_file(std::string_view text, const std::string& origin, bool lint = true,
                           std::string_view own_table = {});

} // namespace halo::rules
