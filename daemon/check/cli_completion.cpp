#include "daemon/check/cli_completion.hpp"

#include "common/fatal.hpp"
#include "daemon/environment.hpp"
#include "probes/registry.hpp"
#include "rules/rule_loader.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>

namespace halo::check {

namespace {

void print(const std::string& text)
{
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
}

CompletionOption option_of(const CLI::Option& o)
{
    CompletionOption out;
    for (const std::string& s : o.get_snames()) out.names.push_back("-" + s);
    for (const std::string& l : o.get_lnames()) out.names.push_back("--" + l);
    out.help = o.get_description();
    // A flag expects no value; --help and --version are flags too.
    if (o.get_expected_max() > 0) out.value = value_kind_of(o.get_type_name(), out.choices);
    return out;
}

// Every rule, known-good entry and log pattern `explain` accepts from the standard sources. A
// drop-in that does not load is left out quietly: a completion must not print into the command
// line, and `halo-check rules validate` names the problem.
std::string rule_ids()
{
    rules::RuleSources sources;
    sources.dropin_dirs = rules::default_dropin_dirs("/", app::env_value("XDG_CONFIG_HOME"), app::env_value("HOME"));
    const rules::RuleSet set = rules::load_rules(sources).rules;
    std::string out;
    for (const rules::Rule& r : set.rules) out += r.id + "\n";
    for (const rules::KnownGood& g : set.known_good) out += g.id + "\n";
    for (const rules::LogPattern& p : set.log_patterns) out += p.id + "\n";
    return out;
}

std::string probe_ids()
{
    std::string out;
    for (const probes::ProbeInfo& p : probes::registry()) out += std::string(p.id) + "\n";
    return out;
}

} // namespace

CompletionCommand completion_tree(const CLI::App& app)
{
    CompletionCommand out;
    out.name = app.get_name();
    out.help = app.get_description();
    for (const CLI::Option* o : app.get_options()) {
        if (o->nonpositional()) out.options.push_back(option_of(*o));
        else if (out.arguments.value == ValueKind::none) out.arguments = option_of(*o);
    }
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App* s) { return !s->get_group().empty(); })) {
        out.subcommands.push_back(completion_tree(*sub));
    }
    return out;
}

CLI::App* add_completion_command(CLI::App& app, CompletionRequest& request)
{
    CLI::App* cmd = app.add_subcommand("completion", "Write a shell completion script, or list what it completes");
    cmd->group(""); // hidden from --help
    cmd->add_option("shell", request.shell, "The shell to write the script for")
        ->check(CLI::IsMember({"bash", "zsh", "fish"}));
    cmd->add_option("--list", request.list, "Print the probe ids, the rule ids, or the command tree, one a line")
        ->check(CLI::IsMember({"probes", "rules", "commands"}));
    return cmd;
}

int command_completion(const CLI::App& app, const CompletionRequest& request)
{
    if (request.shell.empty() == request.list.empty()) {
        throw Fatal("'halo-check completion' needs a shell (bash, zsh, fish) or --list (probes, rules, commands), "
                    "and not both; for example 'halo-check completion bash'");
    }
    const std::string& program = app.get_name();
    const CompletionCommand tree = completion_tree(app);
    if (request.list == "probes") print(probe_ids());
    else if (request.list == "rules") print(rule_ids());
    else if (request.list == "commands") print(command_listing(tree, program));
    else if (request.shell == "bash") print(bash_completion(tree, program));
    else if (request.shell == "zsh") print(zsh_completion(tree, program));
    else print(fish_completion(tree, program));
    return 0;
}

} // namespace halo::check
