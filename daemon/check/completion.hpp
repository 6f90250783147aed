#pragma once
// Shell completion for halo-check, generated from the command tree itself: cli_completion.cpp
// reads the CLI11 tree into these plain values, and the functions here write the bash, zsh and
// fish scripts from them, so a new subcommand or option completes with no change here.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace halo::check {

// What completes an option's value or a command's arguments.
enum class ValueKind {
    none,      // a flag: no value
    text,      // a value with nothing to offer
    file,      // a path to a file
    directory, // a path to a directory
    probes,    // comma-separated probe ids (`halo-check completion --list probes`)
    rule,      // a rule id (`halo-check completion --list rules`)
    choice,    // one of a fixed set
    command,   // a command line to run (run's COMMAND)
};

struct CompletionOption {
    std::vector<std::string> names; // "-v", "--verbose"
    std::string help;
    ValueKind value = ValueKind::none;
    std::vector<std::string> choices; // ValueKind::choice
};

struct CompletionCommand {
    std::string name; // empty for the program itself
    std::string help;
    std::vector<CompletionOption> options;
    CompletionOption arguments; // no names; its value says what the positional arguments are
    std::vector<CompletionCommand> subcommands;
};

// The kind an option's value is, from its CLI11 type name: DIR, FILE, PATH, PROBE,..., ID,
// COMMAND; a name followed by a set ("TEXT:{warning,broken}") is a choice, with the set's members
// in `choices`. Any other name is text.
ValueKind value_kind_of(std::string_view type_name, std::vector<std::string>& choices);

// Every command in the tree with its path below the program ("", "check", "rules validate"),
// parents before their subcommands.
void for_each_command(const CompletionCommand& root,
                      const std::function<void(const std::string& path, const CompletionCommand&)>& visit);

// One line per command, "PATH: OPTION…" (the program itself as "halo-check:"), for the tests
// that hold the man page and the scripts to the tree.
std::string command_listing(const CompletionCommand& root, std::string_view program);

// The shell functions bash and zsh share: the tree as `case` tables (subcommands, options, the
// kind of an option's value, the kind of a command's arguments, subcommand help).
std::string shell_tables(const CompletionCommand& root, std::string_view prefix);

std::string bash_completion(const CompletionCommand& root, std::string_view program);
std::string zsh_completion(const CompletionCommand& root, std::string_view program);
std::string fish_completion(const CompletionCommand& root, std::string_view program);

// `text` as one single-quoted shell word (bash, zsh and fish read it the same way).
std::string shell_quote(std::string_view text);

} // namespace halo::check
