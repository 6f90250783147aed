#pragma once
// Loads the merged rule set from the embedded knowledge base plus drop-in directories in the
// systemd style (load_rules); each file is read by parse_rules_file (rules/rule_file.hpp).
//
//   embedded < the installed feed < /usr/share/halo-check/rules.d < /etc/halo-check/rules.d
//            < $XDG_CONFIG_HOME/halo-check/rules.d < --rules PATH…
//
// A drop-in file of the same name as an embedded or earlier drop-in file replaces it; then the
// embedded files apply in name order, the feed over them, the drop-in files in name order, and
// `--rules` paths last in the order given. An entry whose id was already loaded
// replaces it; `[[disable]] id = "…"` (applied after every file is loaded) removes an entry,
// whichever file defines it.

#include "rules/rule.hpp"
#include "rules/rule_file.hpp"

#include <optional>
#include <string>
#include <vector>

namespace halo::rules {

// The installed knowledge feed's text (rules/feed_file.hpp), already verified by its installer.
struct FeedSource {
    std::string text;
    std::string origin; // "feed 12", what `rules list` and `explain` name as the entry's origin
};

struct RuleSources {
    bool embedded = true;
    std::optional<FeedSource> feed;
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
