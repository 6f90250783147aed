#pragma once
// `halo-check completion bash|zsh|fish` writes a completion script from the command tree;
// `halo-check completion --list probes|rules|commands` prints what the scripts complete at run
// time (probe ids, rule ids) and the tree itself (for the tests). Hidden from --help: it is for
// packagers and the scripts, not for a user's daily work.

#include "daemon/check/completion.hpp"

#include <string>

namespace CLI {
class App;
} // namespace CLI

namespace halo::check {

struct CompletionRequest {
    std::string shell; // bash, zsh or fish
    std::string list;  // probes, rules or commands
};

// The visible tree below `app`: hidden subcommands (an empty group) are left out.
CompletionCommand completion_tree(const CLI::App& app);

// Adds the hidden `completion` subcommand to `app` and returns it.
CLI::App* add_completion_command(CLI::App& app, CompletionRequest& request);

// Prints what `request` asks for, from the tree of `app`.
int command_completion(const CLI::App& app, const CompletionRequest& request);

} // namespace halo::check
