#pragma once
// Loads the merged rule set from the embedded knowledge base plus drop-in directories in the
// systemd style (load_rules); each file is read by parse_rules_file (rules/rule_file.hpp).
//
//   embedded < /usr/share/halo-check/rules.d < /etc/halo-check/rules.d
//            < $XDG_CONFIG_HOME/halo-check/rules.d < --rules PATH…
//
// Within the directories a file of the same name overrides an earlier one; then files apply in
// name order, `--rules` paths last in the order given. An entry whose id was already loaded
// replaces it; `[[disable]] id = "…"` (applied after every file is loaded) removes an entry,
// whichever file defines it.

#include "rules/rule.hpp"
#include "rules/rule_file.hpp"

#include <optional>
#include <string>
#include <vector>

namespace halo::rules {

struct RuleSources {
    bool embedded = true;
    std::vector<std::string> dropin_dirs; // lowest priority first
    std::vector<std::string> extra;       // --rules: files or directories
};

// The standard drop-in directories, under `root` (normally "/"), with $XDG_CONFIG_HOME (or
// $HOME/.config) when known.
std::vector<std::string> default_dropin_dirs(const std::string& root, const std::optional<std::string>& xdg_config_home,
                                             const std::optional<std::string>& home);

struct LoadedRules {
    RuleSet rules;
    std::vector<Diagnostic> diagnostics;
    bool has_errors() const;
};

LoadedRules load_rules(const RuleSources& sources);

// The embedded knowledge base alone.
LoadedRules load_embedded_rules();

} // namespace halo::rules
