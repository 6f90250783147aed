#include "daemon/check/cli.hpp"

#include "common/fatal.hpp"
#include "common/spelling.hpp"
#include "daemon/check/cli_commands.hpp"
#include "daemon/check/cli_completion.hpp"
#include "daemon/config.hpp"
#include "daemon/knowledge.hpp"
#include "daemon/version_info.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace halo::check {

namespace {

void add_rule_options(CLI::App& app, CheckOptions& o)
{
    app.add_option("--rules", o.rules, "Rules file or directory, after the defaults (repeatable)")->type_name("PATH");
    app.add_flag("--no-dropins", o.no_dropins,
                 "Ignore the drop-in directories (/usr/share, /etc, $XDG_CONFIG_HOME halo-check/rules.d)");
}

void add_probe_options(CLI::App& app, CheckOptions& o)
{
    app.add_option("--root", o.root, "Read the machine under DIR instead of / (fixture trees)")->type_name("DIR");
    app.add_option("--only", o.only, "Run only these probes (comma-separated)")->delimiter(',')->type_name("PROBE,...");
    app.add_option("--skip", o.skip, "Skip these probes (comma-separated)")->delimiter(',')->type_name("PROBE,...");
    app.add_option("--config", o.config,
                   "Configuration file (default: $XDG_CONFIG_HOME/halo-check/config.toml, "
                   "then /etc/halo-check/config.toml)")
        ->type_name("FILE");
    app.add_option("--probe-timeout", o.probe_timeout_s, "Time limit for each isolated GPU probe, in seconds")
        ->type_name("SECONDS")
        ->check(CLI::Range(0.1, 600.0));
}

void add_verdict_options(CLI::App& app, CheckOptions& o)
{
    app.add_option("--fail-on", o.fail_on, "Exit non-zero from this severity on: warning (default) or broken")
        ->check(CLI::IsMember({"warning", "broken"}));
    app.add_flag("--strict", o.strict, "Warn when no known-good combination matches (untested combination)");
    app.add_flag("--no-gpu-ok", o.no_gpu_ok,
                 "Judge a machine without an AMD GPU on its other rules (else UNKNOWN: no Strix Halo GPU found)");
}

void add_output_options(CLI::App& app, CheckOptions& o)
{
    app.add_option("--color", o.colour, "Colour: auto (a terminal, without NO_COLOR; default), always or never")
        ->check(CLI::IsMember({"auto", "always", "never"}))
        ->type_name("WHEN");
    app.add_flag("-q,--quiet", o.quiet, "Print nothing; the exit code says the verdict");
}

void add_check_options(CLI::App& app, CheckOptions& o)
{
    app.add_option("--facts", o.facts, "Judge this facts file (TOML or JSON) instead of probing the machine")
        ->type_name("FILE");
    app.add_flag("--next-boot", o.next_boot, "Judge the machine as it will be after a reboot");
    app.add_flag("--json", o.json, "Print the report as JSON");
    app.add_flag("--oneline", o.oneline, "Print one line: the verdict and the first finding (scripts, status bars)");
    app.add_flag("-v,--verbose", o.verbose, "Also each finding's why and links, every probe's status");
    add_output_options(app, o);
    add_rule_options(app, o);
    add_probe_options(app, o);
    add_verdict_options(app, o);
}

// Every option and subcommand name, for "did you mean" on a typo.
void collect_names(const CLI::App& app, std::vector<std::string>& names)
{
    for (const CLI::Option* option : app.get_options()) {
        for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
    }
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
        names.push_back(sub->get_name());
        collect_names(*sub, names);
    }
}

std::string suggestion(const CLI::App& app, int argc, char** argv)
{
    std::vector<std::string> names;
    collect_names(app, names);
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--") break;
        if (arg.rfind("--", 0) == 0) arg = arg.substr(0, arg.find('='));
        else if (!arg.empty() && arg[0] == '-') continue;
        if (std::find(names.begin(), names.end(), arg) != names.end()) continue;
        if (auto guess = nearest(arg, names); guess && *guess != arg) {
            return fmt::format("; did you mean '{}' instead of '{}'?", *guess, arg);
        }
    }
    return {};
}

// Every subcommand's options, and the CLI11 node that says whether it was chosen.
struct Commands {
    CheckOptions check;
    FactsOptions facts;
    bool probes_json = false;
    RunOptions run;
    RulesOptions rules;
    std::string explain_id;
    bool explain_json = false;
    CheckOptions explain_sources;
    DiffCommandOptions diff;
    ExportOptions exporting;
    DaemonOptions daemon; // status, restart, stop, start, reload, smoke (cli_daemon.cpp)
    BenchOptions bench;
    const void* bench_cmd = nullptr;
    UpdateOptions update;
    const void* update_cmd = nullptr;
    EngineCheckOptions engine_check;
    const void* engine_check_cmd = nullptr;
    CompletionRequest completion;
    ConfigValidateOptions config;
    CLI::App* config_validate_cmd = nullptr;
    CLI::App* facts_cmd = nullptr;
    CLI::App* probes_cmd = nullptr;
    CLI::App* run_cmd = nullptr;
    CLI::App* validate_cmd = nullptr;
    CLI::App* list_cmd = nullptr;
    CLI::App* explain_cmd = nullptr;
    CLI::App* diff_cmd = nullptr;
    CLI::App* export_cmd = nullptr;
    CLI::App* completion_cmd = nullptr;
};

void add_export_command(CLI::App& app, Commands& c)
{
    c.export_cmd = app.add_subcommand(
        "export", "Print (or --output) the verdict for a fleet: Prometheus textfile metrics, a node-problem-detector "
                  "plugin answer, or node-feature-discovery labels (docs/fleet.md)");
    ExportOptions& o = c.exporting;
    c.export_cmd->add_option("--format", o.format, "prometheus (default), npd or nfd")
        ->check(CLI::IsMember({"prometheus", "npd", "nfd"}));
    c.export_cmd->add_option("--output", o.output, "Write FILE atomically instead of printing (prometheus, nfd)")
        ->type_name("FILE");
    c.export_cmd->add_option("--facts", o.check.facts, "Judge this facts file instead of probing the machine")
        ->type_name("FILE");
    c.export_cmd->add_flag("--next-boot", o.check.next_boot,
                           "npd: judge the machine as after a reboot (prometheus and nfd carry both views)");
    c.export_cmd
        ->add_option("--interval", o.interval,
                     "How often the export runs; nfd labels expire after twice this (default 5m)")
        ->type_name("DURATION");
    c.export_cmd
        ->add_option("--state-dir", o.state_dir,
                     "halo-checkd's state directory, for the engine's figures (default: as the daemon's)")
        ->type_name("DIR");
    add_rule_options(*c.export_cmd, o.check);
    add_probe_options(*c.export_cmd, o.check);
    add_verdict_options(*c.export_cmd, o.check);
}

void add_commands(CLI::App& app, Commands& c)
{
    add_check_options(app, c.check);
    CLI::App* check_cmd = app.add_subcommand("check", "Probe (or read --facts), evaluate the rules, print the report");
    add_check_options(*check_cmd, c.check);

    c.facts_cmd = app.add_subcommand("facts", "Print this machine's facts file (attach it to bug reports)");
    c.facts_cmd->add_flag("--json", c.facts.json, "Print JSON instead of TOML");
    add_probe_options(*c.facts_cmd, c.facts.probe);

    c.probes_cmd = app.add_subcommand("probes", "List the probes and what each reads");
    c.probes_cmd->add_flag("--json", c.probes_json, "Print JSON");

    c.run_cmd =
        app.add_subcommand("run", "Check, then exec COMMAND only if the verdict passes --fail-on (default broken)");
    c.run_cmd->add_flag("--dry-run", c.run.dry_run, "Show the decision; do not exec");
    c.run_cmd->add_flag("--json", c.run.check.json, "Print the report as JSON");
    c.run_cmd->add_flag("-v,--verbose", c.run.check.verbose, "Also each finding's why and links");
    add_output_options(*c.run_cmd, c.run.check);
    add_rule_options(*c.run_cmd, c.run.check);
    add_probe_options(*c.run_cmd, c.run.check);
    add_verdict_options(*c.run_cmd, c.run.check);
    c.run.check.fail_on = "broken";
    c.run_cmd->add_option("command", c.run.command, "The engine command line, after --")
        ->required()
        ->expected(1, -1)
        ->type_name("COMMAND");

    CLI::App* rules_cmd = app.add_subcommand("rules", "Work with rules files");
    rules_cmd->require_subcommand(1);
    c.validate_cmd = rules_cmd->add_subcommand("validate", "Parse and lint rules files (exit 0 or 3)");
    c.validate_cmd->add_option("paths", c.rules.paths, "Files or directories (default: every loaded rules file)")
        ->type_name("PATH");
    c.validate_cmd->add_flag("--json", c.rules.json, "Print JSON");
    c.list_cmd = rules_cmd->add_subcommand("list", "List the loaded rules, known-good entries and log patterns");
    c.list_cmd->add_flag("--json", c.rules.json, "Print JSON");
    for (CLI::App* sub : {c.validate_cmd, c.list_cmd}) add_rule_options(*sub, c.rules.sources);

    CLI::App* config_cmd = app.add_subcommand("config", "Work with the configuration file");
    config_cmd->require_subcommand(1);
    c.config_validate_cmd = config_cmd->add_subcommand(
        "validate",
        "Parse the configuration as halo-checkd does: unknown keys and bad values are errors (exit 0 or 3)");
    c.config_validate_cmd
        ->add_option("--config", c.config.config,
                     "Configuration file (default: $XDG_CONFIG_HOME/halo-check/config.toml, then "
                     "/etc/halo-check/config.toml)")
        ->type_name("FILE");
    c.config_validate_cmd->add_flag("--json", c.config.json, "Print JSON");

    c.explain_cmd = app.add_subcommand("explain", "Show one rule, known-good entry or log pattern in full");
    c.explain_cmd->add_option("id", c.explain_id, "The entry's id")->required()->type_name("ID");
    c.explain_cmd->add_flag("--json", c.explain_json, "Print JSON");
    add_rule_options(*c.explain_cmd, c.explain_sources);

    c.diff_cmd = app.add_subcommand(
        "diff", "Show what changed between two facts files; with one, FILE_A against this machine now; with none, "
                "the last known good facts against now; with three or more (one per node), the facts that differ "
                "between them. Exit 0 when nothing changed, 1 when something did");
    c.diff_cmd->add_option("files", c.diff.files, "FILE_A [FILE_B ...]: facts files (TOML or JSON)")
        ->expected(0, -1)
        ->type_name("FILE");
    c.diff_cmd->add_flag("--json", c.diff.json, "Print JSON");
    c.diff_cmd->add_flag("--all", c.diff.all,
                         "Also show keys that change by themselves (container state, install times …)");
    c.diff_cmd
        ->add_option("--state-dir", c.diff.state_dir,
                     "Where the last known good facts are (default: "
                     "$XDG_STATE_HOME/halo-check)")
        ->type_name("DIR");
    add_probe_options(*c.diff_cmd, c.diff.probe);
    add_export_command(app, c);
    add_daemon_commands(&app, c.daemon);
    add_bench_command(&app, c.bench, &c.bench_cmd);
    add_update_command(&app, c.update, &c.update_cmd);
    add_engine_check_command(&app, c.engine_check, &c.engine_check_cmd);
    c.completion_cmd = add_completion_command(app, c.completion);
}

// "rules validate" for the chosen leaf subcommand; empty when none was chosen.
CLI::App* chosen_leaf(CLI::App& app, std::string& path)
{
    CLI::App* leaf = &app;
    for (auto subs = leaf->get_subcommands(); !subs.empty(); subs = leaf->get_subcommands()) {
        leaf = subs.front();
        path += path.empty() ? leaf->get_name() : " " + leaf->get_name();
    }
    return leaf == &app ? nullptr : leaf;
}

// Options given before the subcommand apply to it, as if written after it; one it does not take is
// an error. Dropping them silently would let `halo-check --fail-on warning run -- …` pass a gate the
// user asked for.
void apply_global_options(CLI::App& app)
{
    std::string path;
    CLI::App* leaf = chosen_leaf(app, path);
    if (!leaf) return;
    for (CLI::Option* global : app.get_options()) {
        if (global->count() == 0) continue;
        const std::string name = global->get_name();
        CLI::Option* local = leaf->get_option_no_throw(name);
        if (!local) {
            throw CLI::ValidationError(fmt::format("{} does not apply to 'halo-check {}'; remove it, or see "
                                                   "'halo-check {} --help' for what it takes",
                                                   name, path, path));
        }
        if (local->count() > 0) {
            throw CLI::ValidationError(
                fmt::format("{} is given both before and after '{}'; give it once, after the subcommand", name, path));
        }
        local->add_result(global->results());
        local->run_callback();
    }
}

int run_chosen(const CLI::App& app, const Commands& c)
{
    if (*c.completion_cmd) return command_completion(app, c.completion);
    if (auto verb = chosen_daemon_verb(c.daemon); !verb.empty()) return command_daemon(verb, c.daemon);
    if (*c.facts_cmd) return command_facts(c.facts);
    if (*c.probes_cmd) return command_probes(c.probes_json);
    if (*c.run_cmd) return command_run(c.run);
    if (*c.validate_cmd) return command_rules_validate(c.rules);
    if (*c.config_validate_cmd) return command_config_validate(c.config);
    if (*c.list_cmd) return command_rules_list(c.rules);
    if (*c.explain_cmd) return command_explain(c.explain_id, c.explain_sources, c.explain_json);
    if (*c.diff_cmd) return command_diff(c.diff);
    if (*c.export_cmd) return command_export(c.exporting);
    if (static_cast<const CLI::App*>(c.bench_cmd)->parsed()) return command_bench(c.bench);
    if (static_cast<const CLI::App*>(c.update_cmd)->parsed()) return command_update(c.update);
    if (static_cast<const CLI::App*>(c.engine_check_cmd)->parsed()) return command_engine_check(c.engine_check);
    return command_check(c.check);
}

} // namespace

int cli_main(int argc, char** argv)
{
    CLI::App app{"halo-check: checks that this machine can run local LLM inference on AMD Strix Halo "
                 "safely.\n\nExit codes: 0 OK, 1 WARNING, 2 BROKEN, 3 UNKNOWN (could not decide).",
                 "halo-check"};
    // A callback, so the knowledge base is read only when --version is asked for.
    app.set_version_flag("--version", [] {
        return app::program_version_text("halo-check") + "\n" +
               app::feed_version_line(
                   app::find_installed_knowledge(app::resolve_state_dir(std::nullopt), app::system_state_dir()));
    });
    app.require_subcommand(0, 1);
    Commands commands;
    add_commands(app, commands);

    try {
        app.parse(argc, argv);
        apply_global_options(app);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "halo-check: error: %s%s\nRun 'halo-check --help' for usage.\n", e.what(),
                     suggestion(app, argc, argv).c_str());
        return static_cast<int>(ExitCode::unknown);
    }

    try {
        return run_chosen(app, commands);
    } catch (const Fatal& e) {
        std::fprintf(stderr, "halo-check: error: %s\n", e.what());
        return static_cast<int>(e.code());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "halo-check: error: internal error: %s\n", e.what());
        return static_cast<int>(ExitCode::unknown);
    }
}

} // namespace halo::check
