#include "completion_sample.hpp"
#include "daemon/check/completion.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace halo::check;
using halo::check::testing::sample_tree;

TEST_CASE("completion tree: an option's type name says what completes its value", "[check][completion]")
{
    std::vector<std::string> choices;
    CHECK(value_kind_of("DIR", choices) == ValueKind::directory);
    CHECK(value_kind_of("FILE", choices) == ValueKind::file);
    CHECK(value_kind_of("PATH", choices) == ValueKind::file);
    CHECK(value_kind_of("PROBE,...", choices) == ValueKind::probes);
    CHECK(value_kind_of("ID", choices) == ValueKind::rule);
    CHECK(value_kind_of("COMMAND", choices) == ValueKind::command);
    CHECK(value_kind_of("SECONDS:FLOAT in [0.1 - 600]", choices) == ValueKind::text);
    CHECK(value_kind_of("TEXT", choices) == ValueKind::text);
    CHECK(choices.empty());
    CHECK(value_kind_of("TEXT:{warning,broken}", choices) == ValueKind::choice);
    CHECK(choices == std::vector<std::string>{"warning", "broken"});
    CHECK(value_kind_of("TEXT:{bash}", choices) == ValueKind::choice);
    CHECK(choices == std::vector<std::string>{"bash"});
}

TEST_CASE("completion tree: every command is visited with its path, parents first", "[check][completion]")
{
    std::vector<std::string> paths;
    for_each_command(sample_tree(), [&](const std::string& path, const CompletionCommand&) { paths.push_back(path); });
    CHECK(paths == std::vector<std::string>{"", "rules", "rules validate", "explain"});
}

TEST_CASE("completion tree: the listing names every command and option", "[check][completion]")
{
    CHECK(command_listing(sample_tree(), "prog") == "prog: -v --verbose --only\n"
                                                    "prog rules:\n"
                                                    "prog rules validate: --json\n"
                                                    "prog explain: --fail-on\n");
}

TEST_CASE("completion tree: the shell tables hold subcommands, options and value kinds", "[check][completion]")
{
    const std::string tables = shell_tables(sample_tree(), "_prog");
    CHECK(tables.find("    '') printf '%s\\n' 'rules' 'explain' ;;\n") != std::string::npos);
    CHECK(tables.find("    'rules') printf '%s\\n' 'validate' ;;\n") != std::string::npos);
    CHECK(tables.find("    'rules validate') printf '%s\\n' '--json' ;;\n") != std::string::npos);
    CHECK(tables.find("    '|--only') printf '%s\\n' 'probes' ;;\n") != std::string::npos);
    CHECK(tables.find("    'explain|--fail-on') printf '%s\\n' 'choice warning broken' ;;\n") != std::string::npos);
    CHECK(tables.find("    'explain') printf '%s\\n' 'rule' ;;\n") != std::string::npos);
    CHECK(tables.find("    'rules validate') printf '%s\\n' 'file' ;;\n") != std::string::npos);
    // A flag has no value kind.
    CHECK(tables.find("'|--verbose'") == std::string::npos);
    CHECK(tables.find("'rules:Work with rules files'") != std::string::npos);
}

TEST_CASE("completion tree: shell quoting survives a quote in a help text", "[check][completion]")
{
    CHECK(shell_quote("plain") == "'plain'");
    CHECK(shell_quote("this machine's facts") == "'this machine'\\''s facts'");
    CHECK(shell_quote("") == "''");
    CHECK(shell_quote("$HOME `x`") == "'$HOME `x`'");
}
