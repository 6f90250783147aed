#pragma once
// The subcommands of `halo-check`, each a small function over the library. They print and return
// the exit code; a halo::Fatal thrown from here is printed once by cli_main.

#include "daemon/knowledge.hpp"
#include "rules/evaluate.hpp"
#include "rules/facts.hpp"
#include "rules/judge.hpp"
#include "rules/rule_loader.hpp"

#include <optional>
#include <string>
#include <vector>

namespace halo::check {

struct CheckOptions {
    std::optional<std::string> facts;
    std::vector<std::string> rules;
    bool no_dropins = false;
    bool json = false;
    bool verbose = false;
    bool next_boot = false;
    std::string fail_on = "warning";
    bool strict = false;
    std::optional<std::string> root;
    std::vector<std::string> only;
    std::vector<std::string> skip;
    std::optional<std::string> config;
    double probe_timeout_s = 5.0;
    std::string colour = "auto"; // --color: auto | always | never
    bool quiet = false;          // -q: the exit code only
    bool oneline = false;        // "BROKEN firmware.mes-0x83-rocm (+2)"
    bool no_gpu_ok = false;      // judge a machine without an AMD GPU on its other rules
};

struct FactsOptions {
    CheckOptions probe;
    bool json = false;
};

struct RunOptions {
    CheckOptions check;
    bool dry_run = false;
    std::vector<std::string> command;
};

struct RulesOptions {
    std::vector<std::string> paths;
    bool json = false;
    CheckOptions sources;
};

// `halo-check diff` (daemon/cli_diff.cpp).
struct DiffCommandOptions {
    std::vector<std::string> files; // 0, 1 or 2 facts files; 3 or more: the fleet matrix
    bool json = false;
    bool all = false; // also keys that change by themselves (rules::volatile_key_patterns)
    std::optional<std::string> state_dir;
    CheckOptions probe; // --root, --only, --skip, --config for "this machine now"
};
// `halo-check status|restart|stop|start|reload|smoke` (daemon/cli_daemon.cpp): talk to halo-checkd
// through its state directory (state.json, the request file and signals; docs/daemon.md).
struct DaemonOptions {
    std::optional<std::string> state_dir;
    bool json = false;
    bool no_wait = false;                                   // return once the request is sent
    double timeout_s = 0;                                   // how long to wait for the outcome; 0: the verb's default
    std::vector<std::pair<std::string, const void*>> verbs; // name, its CLI::App (set by add_daemon_commands)
};
// Adds the six subcommands to `app` (a CLI::App; void* keeps CLI11 out of this header).
void add_daemon_commands(void* app, DaemonOptions& options);
// The verb chosen on the command line, or empty.
std::string chosen_daemon_verb(const DaemonOptions& options);
int command_daemon(const std::string& verb, const DaemonOptions& options);

// Probes this machine (or --root) as the options select, with the snapshot filled in. Throws
// halo::Fatal for a --root that is not a directory or an unknown probe id.
rules::Facts probe_machine(const CheckOptions& options,
                           const std::optional<std::vector<std::string>>& engine_command = std::nullopt);

// The rules the options name; errors are fatal (exit 3), lint warnings go to stderr.
rules::LoadedRules load_rules_or_die(const CheckOptions& options, bool show_warnings = true);
// The same, with the installed feed it was loaded with (docs/feed.md).
app::Knowledge load_knowledge_or_die(const CheckOptions& options, bool show_warnings = true);
rules::EvaluateOptions evaluate_options(const CheckOptions& options);
rules::JudgeOptions judge_options(const CheckOptions& options);
// The --facts file when one is named, else this machine (or --root) probed.
rules::Facts facts_to_judge(const CheckOptions& options);

// `halo-check export` (daemon/check/cli_export.cpp).
struct ExportOptions {
    CheckOptions check;
    std::string format = "prometheus"; // prometheus | npd | nfd
    std::optional<std::string> output; // written atomically; stdout when absent
    std::optional<std::string> state_dir;
    std::string interval = "5m"; // how often the export runs: NFD's labels expire after twice this
};
int command_export(const ExportOptions& options);

// `halo-check config validate`: the configuration through halo-checkd's own parser.
struct ConfigValidateOptions {
    std::optional<std::string> config;
    bool json = false;
};
int command_config_validate(const ConfigValidateOptions& options);

// `halo-check bench` (cli_bench.cpp, docs/bench.md).
struct BenchOptions {
    std::optional<std::string> url; // default: the configured engine's, else http://127.0.0.1:8080
    int runs = 3;
    std::vector<long> depths{512, 4096, 16384};
    bool json = false;
    bool save = false;
    std::vector<std::string> compare; // A.json [B.json]
    std::optional<std::string> state_dir;
    std::optional<std::string> api_key_file;
    CheckOptions probe; // --config, --root (memory readings and facts from a fixture tree)
};
void add_bench_command(void* app, BenchOptions& options, const void** chosen);
int command_bench(const BenchOptions& options);

// `halo-check update` (cli_update.cpp, docs/feed.md).
struct UpdateOptions {
    std::optional<std::string> url;
    std::optional<std::string> from;
    bool allow_downgrade = false;
    bool rollback = false;
    std::vector<std::string> trusted_keys;
    std::string keys_dir = "/etc/halo-check/keys.d";
    std::optional<std::string> ca_file;
    std::optional<std::string> state_dir;
    double timeout_s = 60;
    CheckOptions check; // --facts, --config: what the dry run judges
};
void add_update_command(void* app, UpdateOptions& options, const void** chosen);
int command_update(const UpdateOptions& options);
// `halo-check engine-check` (cli_engine_check.cpp, docs/engine-check.md).
struct EngineCheckOptions {
    std::optional<std::string> url; // default: the configured engine's, else http://127.0.0.1:8080
    std::optional<std::string> model;
    std::optional<std::string> api_key_file;
    bool json = false;
    std::vector<std::string> only;
    double timeout_s = 60;
    std::optional<std::string> config;
};
void add_engine_check_command(void* app, EngineCheckOptions& options, const void** chosen);
int command_engine_check(const EngineCheckOptions& options);

int command_check(const CheckOptions& options);
int command_facts(const FactsOptions& options);
int command_probes(bool json);
int command_run(const RunOptions& options);
int command_rules_validate(const RulesOptions& options);
int command_rules_list(const RulesOptions& options);
int command_explain(const std::string& id, const CheckOptions& sources, bool json);
int command_diff(const DiffCommandOptions& options);

} // namespace halo::check
