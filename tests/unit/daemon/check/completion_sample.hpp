#pragma once
// A small command tree of the shape halo-check's has (options at the top, a nested subcommand, a
// choice, positional arguments) for the completion tests.

#include "daemon/check/completion.hpp"

namespace halo::check::testing {

inline CompletionCommand sample_tree()
{
    CompletionCommand root;
    root.options = {{{"-v", "--verbose"}, "Say more", ValueKind::none, {}},
                    {{"--only"}, "Only these probes", ValueKind::probes, {}}};
    CompletionCommand rules{"rules", "Work with rules files", {}, {}, {}};
    CompletionCommand validate{"validate", "Lint rules files", {{{"--json"}, "JSON", ValueKind::none, {}}}, {}, {}};
    validate.arguments.value = ValueKind::file;
    rules.subcommands.push_back(validate);
    root.subcommands.push_back(rules);
    CompletionCommand explain{"explain", "Show one rule's text", {}, {}, {}};
    explain.arguments.value = ValueKind::rule;
    explain.options = {{{"--fail-on"}, "Severity", ValueKind::choice, {"warning", "broken"}}};
    root.subcommands.push_back(explain);
    return root;
}

} // namespace halo::check::testing
