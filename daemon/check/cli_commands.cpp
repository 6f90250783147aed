#include "daemon/check/cli_commands.hpp"

#include "common/clock.hpp"
#include "daemon/environment.hpp"
#include "daemon/knowledge.hpp"
#include "rules/feed_file.hpp"

#include "common/fatal.hpp"
#include "common/spelling.hpp"
#include "common/text.hpp"
#include "daemon/config.hpp"
#include "daemon/report_output.hpp"
#include "daemon/version_info.hpp"
#include "probes/host.hpp"
#include "probes/registry.hpp"
#include "probes/runner.hpp"
#include "rules/evaluate.hpp"
#include "rules/facts_io.hpp"
#include "rules/rule_loader.hpp"
#include "rules/views.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace halo::check {

namespace {

void print(std::FILE* out, const std::string& text)
{
    std::fwrite(text.data(), 1, text.size(), out);
    std::fflush(out);
}

void warn(const std::string& message) { print(stderr, fmt::format("halo-check: warning: {}\n", message)); }

} // namespace

namespace {

// The feeds installed in this user's state directory and the system's, and the newer one.
app::InstalledKnowledge installed_knowledge()
{
    app::InstalledKnowledge installed =
        app::find_installed_knowledge(app::resolve_state_dir(std::nullopt), app::system_state_dir());
    for (const std::string& w : installed.warnings) warn(w);
    return installed;
}

rules::RuleSources rule_sources(const CheckOptions& o)
{
    rules::RuleSources sources;
    if (!o.no_dropins)
        sources.dropin_dirs =
            rules::default_dropin_dirs("/", app::env_value("XDG_CONFIG_HOME"), app::env_value("HOME"));
    sources.extra = o.rules;
    return sources;
}

} // namespace

namespace {

// The judged machine's name: its /etc/hostname (under --root, the fixture's), else, on this
// machine, the kernel's host name; empty when neither says.
std::string machine_name(const probes::Host& host, bool live)
{
    if (auto text = host.read_file("/etc/hostname", 4096)) {
        std::string name(trim(*text));
        if (!name.empty() && name.find('\n') == std::string::npos) return name;
    }
    if (!live) return {};
    char buffer[256] = {};
    if (::gethostname(buffer, sizeof buffer - 1) == 0) return buffer;
    return {};
}

std::optional<std::string> config_to_read(const std::optional<std::string>& named)
{
    if (named) return named;
    std::string path = app::default_config_path();
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) return path;
    return std::nullopt;
}

void check_config_or_die(const std::optional<std::string>& named)
{
    const auto path = config_to_read(named);
    if (!path) return;
    auto config = app::load_config(*path, app::ConfigUse::cli);
    if (!config) {
        throw Fatal(config.error().message + "; no verdict on a configuration halo-checkd would refuse (check it with "
                                             "'halo-check config validate')");
    }
}

} // namespace

rules::Facts probe_machine(const CheckOptions& o, const std::optional<std::vector<std::string>>& engine_command)
{
    // One parser for the configuration, halo-checkd's: what it refuses, halo-check refuses too.
    check_config_or_die(o.config);
    probes::Host host(o.root.value_or("/"));
    if (o.root) {
        std::error_code ec;
        if (!std::filesystem::is_directory(*o.root, ec)) {
            throw Fatal(fmt::format("Failed to read root '{}': not a directory; --root takes a directory that holds "
                                    "a machine's files",
                                    *o.root));
        }
    }
    probes::ProbeContext context{
        host, std::chrono::milliseconds(static_cast<long>(o.probe_timeout_s * 1000)), engine_command, o.config, {}};
    // The configuration is this machine's, as the rules are: --root only moves the machine judged.
    context.config_host = probes::Host("/");
    rules::Facts facts = probes::run_probes(context, {o.only, o.skip});
    facts.snapshot.taken = now_rfc3339();
    facts.snapshot.halo_check_version = HALO_VERSION;
    facts.snapshot.host = machine_name(host, !o.root);
    return facts;
}

// Loads the rules; errors are fatal (exit 3), lint warnings go to stderr.
app::Knowledge load_knowledge_or_die(const CheckOptions& o, bool show_warnings)
{
    app::Knowledge knowledge = app::load_knowledge(rule_sources(o), installed_knowledge(), app::now_seconds());
    const rules::LoadedRules& loaded = knowledge.loaded;
    for (const rules::Diagnostic& d : loaded.diagnostics) {
        if (d.level == rules::Diagnostic::Level::error)
            print(stderr, fmt::format("halo-check: error: {}\n", d.message));
        else if (show_warnings) warn(d.message);
    }
    if (loaded.has_errors()) {
        throw Fatal("Failed to load the rules; no verdict without them. Fix the file named above, or check it "
                    "with 'halo-check rules validate FILE'");
    }
    return knowledge;
}

rules::LoadedRules load_rules_or_die(const CheckOptions& o, bool show_warnings)
{
    return std::move(load_knowledge_or_die(o, show_warnings).loaded);
}

rules::EvaluateOptions evaluate_options(const CheckOptions& o)
{
    return {o.fail_on == "broken" ? rules::FailOn::broken : rules::FailOn::warning, o.strict};
}

rules::JudgeOptions judge_options(const CheckOptions& o)
{
    rules::JudgeOptions options;
    options.evaluate = evaluate_options(o);
    options.no_gpu_ok = o.no_gpu_ok;
    return options;
}

rules::Facts facts_to_judge(const CheckOptions& o)
{
    if (!o.facts) return probe_machine(o);
    if (o.root || !o.only.empty() || !o.skip.empty()) {
        throw Fatal("--facts judges a facts file; --root, --only and --skip select probes and cannot be "
                    "combined with it");
    }
    auto read = rules::load_facts_file(*o.facts);
    if (!read) throw Fatal(read.error().message + "; no verdict without facts");
    return std::move(*read);
}

namespace {

// The knowledge a verdict came from, as --version says it: the feed (version, dates) or the
// embedded knowledge base's date.
std::string knowledge_header(const app::Knowledge& knowledge)
{
    return app::knowledge_line(knowledge.installed, app::summarise_knowledge(rules::load_embedded_rules().rules).newest,
                               app::now_seconds());
}

std::string judgement_json(const rules::Judgement& judgement, const rules::Facts& facts,
                           const app::Knowledge& knowledge)
{
    nlohmann::ordered_json root = nlohmann::ordered_json::parse(
        app::format_judgement_json(judgement, facts, app::summarise_knowledge(knowledge.loaded.rules).newest));
    root["knowledge"] = app::knowledge_json(
        knowledge.installed, app::summarise_knowledge(rules::load_embedded_rules().rules).newest, app::now_seconds());
    return root.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

} // namespace

int command_check(const CheckOptions& o)
{
    const app::Knowledge knowledge = load_knowledge_or_die(o);
    const rules::LoadedRules& loaded = knowledge.loaded;
    rules::Facts facts = facts_to_judge(o);
    if (o.next_boot) facts = rules::next_boot_view(facts);
    const rules::Judgement judgement = rules::judge(loaded.rules, facts, judge_options(o));
    const int code = static_cast<int>(judgement.report.exit_code);
    if (o.quiet) return code;
    if (o.json) {
        print(stdout, judgement_json(judgement, facts, knowledge));
    } else if (o.oneline) {
        print(stdout, app::format_oneline(judgement));
    } else {
        const app::TerminalSize size = app::terminal_size(STDOUT_FILENO);
        app::OutputStyle style{app::want_colour(STDOUT_FILENO, o.colour), o.verbose, true, size.columns, size.rows};
        style.knowledge = knowledge_header(knowledge);
        print(stdout, app::format_judgement_text(judgement, facts, style));
    }
    return code;
}

int command_config_validate(const ConfigValidateOptions& o)
{
    const auto path = config_to_read(o.config);
    if (!path) {
        throw Fatal(fmt::format("Failed to find a configuration: neither '{}' nor --config FILE; create one (see "
                                "docs/config.md) or name it with --config",
                                app::default_config_path()));
    }
    auto config = app::load_config(*path, app::ConfigUse::cli);
    if (o.json) {
        nlohmann::ordered_json out =
            app::json_envelope(app::summarise_knowledge(rules::load_embedded_rules().rules).newest);
        out["file"] = *path;
        out["ok"] = static_cast<bool>(config);
        out["diagnostics"] = nlohmann::ordered_json::array();
        if (!config) out["diagnostics"].push_back(app::diagnostic_json("error", config.error().message));
        print(stdout, out.dump(2) + "\n");
        return config ? 0 : static_cast<int>(ExitCode::unknown);
    }
    if (!config) {
        print(stderr, fmt::format("halo-check: error: {}\n", config.error().message));
        return static_cast<int>(ExitCode::unknown);
    }
    const auto& engine = config->engine;
    std::string what = engine.command.empty()
                           ? std::string("no engine: halo-check reads it; halo-checkd needs [engine]")
                           : fmt::format("engine '{}'", engine.name.empty() ? engine.command[0] : engine.name);
    print(stdout, fmt::format("{}: valid ({})\n", *path, what));
    return 0;
}

int command_facts(const FactsOptions& o)
{
    const rules::Facts facts = probe_machine(o.probe);
    print(stdout, rules::serialize_facts(facts, o.json ? rules::FactsFormat::json : rules::FactsFormat::toml));
    return 0;
}

int command_probes(bool json)
{
    if (json) {
        nlohmann::ordered_json out =
            app::json_envelope(app::summarise_knowledge(rules::load_embedded_rules().rules).newest);
        nlohmann::ordered_json list = nlohmann::ordered_json::array();
        for (const probes::ProbeInfo& p : probes::registry()) {
            list.push_back({{"id", p.id},
                            {"summary", p.summary},
                            {"isolated", p.isolated},
                            {"sources", std::vector<std::string>(p.sources.begin(), p.sources.end())},
                            {"provides", std::vector<std::string>(p.provides.begin(), p.provides.end())}});
        }
        out["probes"] = list;
        print(stdout, out.dump(2) + "\n");
        return 0;
    }
    std::string out;
    for (const probes::ProbeInfo& p : probes::registry()) {
        out +=
            fmt::format("{:<11} {}{}\n", p.id, p.summary, p.isolated ? " [isolated: child process, time limit]" : "");
        for (std::string_view s : p.sources) out += fmt::format("            reads    {}\n", s);
        for (std::string_view s : p.provides) out += fmt::format("            provides {}\n", s);
    }
    print(stdout, out);
    return 0;
}

int command_run(const RunOptions& o)
{
    const app::Knowledge knowledge = load_knowledge_or_die(o.check);
    const rules::LoadedRules& loaded = knowledge.loaded;
    const rules::Facts facts = probe_machine(o.check, o.command);
    const rules::Judgement judgement = rules::judge(loaded.rules, facts, judge_options(o.check));
    const rules::Report& report = judgement.report;
    const bool allowed = report.exit_code == ExitCode::ok;
    std::string command_line;
    for (const std::string& arg : o.command) command_line += (command_line.empty() ? "" : " ") + arg;

    if (o.check.json) {
        print(stdout, judgement_json(judgement, facts, knowledge));
    } else if (!o.check.quiet && (!allowed || o.dry_run || report.verdict != rules::Verdict::ok)) {
        // stdout belongs to the command about to run: the report goes to stderr.
        const app::TerminalSize size = app::terminal_size(STDERR_FILENO);
        app::OutputStyle style{app::want_colour(STDERR_FILENO, o.check.colour), o.check.verbose, true, size.columns, 0};
        style.knowledge = knowledge_header(knowledge);
        print(stderr, app::format_judgement_text(judgement, facts, style));
    }
    if (!allowed) {
        print(stderr, fmt::format("halo-check: refusing to run '{}': verdict {} (--fail-on {})\n", command_line,
                                  rules::to_string(report.verdict), o.check.fail_on));
        return static_cast<int>(report.exit_code);
    }
    if (o.dry_run) {
        print(stderr, fmt::format("halo-check: would run '{}' (verdict {}, --fail-on {})\n", command_line,
                                  rules::to_string(report.verdict), o.check.fail_on));
        return 0;
    }
    std::vector<char*> argv;
    for (const std::string& arg : o.command) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    const int err = errno;
    print(stderr, fmt::format("halo-check: error: Failed to run '{}': {}; check the command and PATH\n", o.command[0],
                              std::strerror(err)));
    return err == ENOENT ? 127 : 126; // as a shell reports a command it cannot start
}

namespace {

// The text of `path` when it is a file with a top-level [feed] table.
std::optional<std::string> feed_text(const std::string& path)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    std::string text = buffer.str();
    if (!text.starts_with("[feed]") && text.find("\n[feed]") == std::string::npos) return std::nullopt;
    return text;
}

} // namespace

int command_rules_validate(const RulesOptions& o)
{
    std::vector<rules::Diagnostic> diagnostics;
    std::size_t files = 0, rule_count = 0, good = 0, patterns = 0;
    if (o.paths.empty()) {
        const rules::LoadedRules loaded =
            app::load_knowledge(rule_sources(o.sources), installed_knowledge(), app::now_seconds()).loaded;
        diagnostics = loaded.diagnostics;
        files = loaded.rules.files.size();
        rule_count = loaded.rules.rules.size();
        good = loaded.rules.known_good.size();
        patterns = loaded.rules.log_patterns.size();
    } else {
        for (const std::string& path : o.paths) {
            rules::RuleSources one;
            one.embedded = false;
            one.extra = {path};
            // A knowledge feed (a [feed] table over the rules): its header is checked too.
            if (std::optional<std::string> text = feed_text(path)) {
                one.extra.clear();
                if (auto header = rules::parse_feed_header(*text, path); !header)
                    diagnostics.push_back({rules::Diagnostic::Level::error, header.error().message});
                else one.feed = rules::FeedSource{std::move(*text), path};
            }
            const rules::LoadedRules loaded = rules::load_rules(one);
            diagnostics.insert(diagnostics.end(), loaded.diagnostics.begin(), loaded.diagnostics.end());
            files += loaded.rules.files.size();
            rule_count += loaded.rules.rules.size();
            good += loaded.rules.known_good.size();
            patterns += loaded.rules.log_patterns.size();
            std::error_code ec;
            if (loaded.rules.files.empty() && std::filesystem::is_directory(path, ec)) {
                warn(fmt::format("no *.toml files in '{}'", path));
            }
        }
    }
    std::size_t errors = 0, warnings = 0;
    for (const rules::Diagnostic& d : diagnostics) (d.level == rules::Diagnostic::Level::error ? errors : warnings)++;
    if (o.json) {
        nlohmann::ordered_json out =
            app::json_envelope(app::summarise_knowledge(rules::load_embedded_rules().rules).newest);
        out["ok"] = errors == 0;
        out["files"] = files;
        out["rules"] = rule_count;
        out["known_good"] = good;
        out["log_patterns"] = patterns;
        out["diagnostics"] = nlohmann::ordered_json::array();
        for (const rules::Diagnostic& d : diagnostics) {
            out["diagnostics"].push_back(
                app::diagnostic_json(d.level == rules::Diagnostic::Level::error ? "error" : "warning", d.message));
        }
        print(stdout, out.dump(2) + "\n");
    } else {
        for (const rules::Diagnostic& d : diagnostics) {
            print(stderr, fmt::format("halo-check: {}: {}\n",
                                      d.level == rules::Diagnostic::Level::error ? "error" : "warning", d.message));
        }
        print(stdout, fmt::format("{} file{}, {} rules, {} known-good, {} log patterns: {} error{}, {} warning{}\n",
                                  files, files == 1 ? "" : "s", rule_count, good, patterns, errors,
                                  errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s"));
    }
    return errors == 0 ? 0 : static_cast<int>(ExitCode::unknown);
}

int command_rules_list(const RulesOptions& o)
{
    const rules::LoadedRules loaded = load_rules_or_die(o.sources);
    const rules::RuleSet& set = loaded.rules;
    if (o.json) {
        nlohmann::ordered_json out = app::json_envelope(app::summarise_knowledge(set).newest);
        out["rules"] = nlohmann::ordered_json::array();
        for (const rules::Rule& r : set.rules) {
            out["rules"].push_back({{"id", r.id},
                                    {"severity", std::string(rules::to_string(r.severity))},
                                    {"title", r.title},
                                    {"since", r.since},
                                    {"file", r.where.file},
                                    {"line", r.where.line},
                                    {"column", r.where.column}});
        }
        out["known_good"] = nlohmann::ordered_json::array();
        for (const rules::KnownGood& g : set.known_good) {
            out["known_good"].push_back({{"id", g.id},
                                         {"title", g.title},
                                         {"since", g.since},
                                         {"file", g.where.file},
                                         {"line", g.where.line},
                                         {"column", g.where.column}});
        }
        out["log_patterns"] = nlohmann::ordered_json::array();
        for (const rules::LogPattern& p : set.log_patterns) {
            out["log_patterns"].push_back({{"id", p.id},
                                           {"severity", std::string(rules::to_string(p.severity))},
                                           {"title", p.title},
                                           {"since", p.since},
                                           {"file", p.where.file},
                                           {"line", p.where.line},
                                           {"column", p.where.column}});
        }
        print(stdout, out.dump(2) + "\n");
        return 0;
    }
    std::string text;
    for (const rules::Rule& r : set.rules) {
        text += fmt::format("{:<8} {:<10} {:<48} {}\n", rules::to_string(r.severity), r.since, r.id, r.title);
    }
    for (const rules::KnownGood& g : set.known_good) {
        text += fmt::format("{:<8} {:<10} {:<48} {}\n", "good", g.since, g.id, g.title);
    }
    for (const rules::LogPattern& p : set.log_patterns) {
        text += fmt::format("{:<8} {:<10} {:<48} {}\n", "log", p.since, p.id, p.title);
    }
    print(stdout, text);
    return 0;
}

namespace {

std::string conditions_text(std::string_view label, const std::vector<rules::Condition>& when)
{
    std::string out;
    for (const rules::Condition& c : when) {
        out += fmt::format("  {:<9} \"{}\" = {}\n", std::string(label) + ":", c.key, rules::describe(c.matcher));
    }
    return out;
}

nlohmann::ordered_json conditions_json(const std::vector<rules::Condition>& when)
{
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const rules::Condition& c : when) list.push_back({{"key", c.key}, {"match", rules::describe(c.matcher)}});
    return list;
}

nlohmann::ordered_json entry_json(std::string_view kind, const std::string& id, const std::string& title,
                                  const std::string& since, const rules::SourceLocation& where)
{
    nlohmann::ordered_json out =
        app::json_envelope(app::summarise_knowledge(rules::load_embedded_rules().rules).newest);
    out["kind"] = std::string(kind);
    out["id"] = id;
    out["title"] = title;
    out["since"] = since;
    out["file"] = where.file;
    out["line"] = where.line;
    out["column"] = where.column;
    return out;
}

} // namespace

int command_explain(const std::string& id, const CheckOptions& sources, bool json)
{
    const rules::LoadedRules loaded = load_rules_or_die(sources);
    const rules::RuleSet& set = loaded.rules;
    auto links = [](const std::vector<std::string>& list) {
        std::string out;
        for (const std::string& l : list) out += fmt::format("  see:      {}\n", l);
        return out;
    };
    constexpr std::string_view pad = "            ";
    if (const rules::Rule* r = set.find_rule(id)) {
        if (json) {
            nlohmann::ordered_json out = entry_json("rule", r->id, r->title, r->since, r->where);
            out["severity"] = std::string(rules::to_string(r->severity));
            out["when"] = conditions_json(r->when);
            out["unless"] = conditions_json(r->unless);
            out["explain"] = r->explain;
            out["fix"] = r->fix;
            out["links"] = r->links;
            print(stdout, out.dump(2) + "\n");
            return 0;
        }
        print(stdout,
              fmt::format("{} ({})\n  {}\n  since:    {}\n  defined:  {}\n{}{}  why:      {}\n  fix:      {}\n{}",
                          r->id, rules::to_string(r->severity), r->title, r->since, r->where.str(),
                          conditions_text("when", r->when), conditions_text("unless", r->unless),
                          app::indent_continuations(r->explain, pad), app::indent_continuations(r->fix, pad),
                          links(r->links)));
        return 0;
    }
    if (const rules::KnownGood* g = set.find_known_good(id)) {
        if (json) {
            nlohmann::ordered_json out = entry_json("known_good", g->id, g->title, g->since, g->where);
            out["when"] = conditions_json(g->when);
            out["explain"] = g->explain;
            out["links"] = g->links;
            print(stdout, out.dump(2) + "\n");
            return 0;
        }
        print(stdout, fmt::format("{} (known good)\n  {}\n  since:    {}\n  defined:  {}\n{}  about:    {}\n{}", g->id,
                                  g->title, g->since, g->where.str(), conditions_text("when", g->when),
                                  app::indent_continuations(g->explain, pad), links(g->links)));
        return 0;
    }
    if (const rules::LogPattern* p = set.find_log_pattern(id)) {
        if (json) {
            nlohmann::ordered_json out = entry_json("log_pattern", p->id, p->title, p->since, p->where);
            out["severity"] = std::string(rules::to_string(p->severity));
            out["regex"] = p->regex_text;
            out["when"] = conditions_json(p->when);
            out["explain"] = p->explain;
            out["fix"] = p->fix;
            out["links"] = p->links;
            print(stdout, out.dump(2) + "\n");
            return 0;
        }
        print(stdout,
              fmt::format("{} (log pattern, {})\n  {}\n  regex:    {}\n  since:    {}\n  defined:  {}\n{}  why:      "
                          "{}\n  fix:      {}\n{}",
                          p->id, rules::to_string(p->severity), p->title, p->regex_text, p->since, p->where.str(),
                          conditions_text("when", p->when), app::indent_continuations(p->explain, pad),
                          app::indent_continuations(p->fix, pad), links(p->links)));
        return 0;
    }
    std::vector<std::string> ids;
    for (const auto& r : set.rules) ids.push_back(r.id);
    for (const auto& g : set.known_good) ids.push_back(g.id);
    for (const auto& p : set.log_patterns) ids.push_back(p.id);
    std::string message = fmt::format("no rule, known-good entry or log pattern has the id '{}'", id);
    if (auto guess = nearest(id, ids)) message += fmt::format("; did you mean '{}'?", *guess);
    else message += "; 'halo-check rules list' shows them all";
    throw Fatal(message);
}

} // namespace halo::check
