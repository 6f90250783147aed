#include "completion_sample.hpp"
#include "daemon/check/completion.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace halo::check;
using halo::check::testing::sample_tree;

TEST_CASE("completion scripts: each shell's script registers for the program", "[check][completion]")
{
    const CompletionCommand tree = sample_tree();
    const std::string bash = bash_completion(tree, "prog");
    CHECK(bash.find("complete -F _prog prog\n") != std::string::npos);
    CHECK(bash.find("_prog_options()") != std::string::npos);
    const std::string zsh = zsh_completion(tree, "prog");
    CHECK(zsh.rfind("#compdef prog\n", 0) == 0);
    const std::string fish = fish_completion(tree, "prog");
    CHECK(fish.find("complete -c prog -n '_prog_at \\'\\'' -s v -l verbose -d 'Say more'\n") != std::string::npos);
    CHECK(fish.find("-l only -x -a '(__fish_complete_list , \"prog completion --list probes\")'") != std::string::npos);
    CHECK(fish.find("-n '_prog_at \\'rules validate\\'' -r -F\n") != std::string::npos);
    CHECK(fish.find("set -g _prog_subcommands '|rules' '|explain' 'rules|validate'\n") != std::string::npos);
    CHECK(fish.find("set -g _prog_valued '|--only' 'explain|--fail-on'\n") != std::string::npos);
}
