// `halo-check export --format prometheus|npd|nfd`: the verdict for a fleet's own tools. The
// machine (or --facts) is checked in both views; halo-checkd's engine figures are added when its
// state file is there. prometheus and nfd print or write (--output, atomically) and exit 0;
// npd follows node-problem-detector's exit contract (daemon/export_npd.hpp).

#include "common/fatal.hpp"
#include "daemon/atomic_file.hpp"
#include "daemon/check/cli_commands.hpp"
#include "daemon/config.hpp"
#include "daemon/export_nfd.hpp"
#include "daemon/export_npd.hpp"
#include "daemon/export_prometheus.hpp"
#include "daemon/state_store.hpp"
#include "rules/views.hpp"

#include <fmt/core.h>

#include <cstdio>
#include <ctime>
#include <filesystem>

namespace halo::check {

namespace {

void print(std::FILE* out, const std::string& text)
{
    std::fwrite(text.data(), 1, text.size(), out);
    std::fflush(out);
}

// The engine as halo-checkd last wrote it; none when no daemon left a state file.
std::optional<app::EngineStatus> daemon_engine(const ExportOptions& o)
{
    const app::StateStore store(app::resolve_state_dir(o.state_dir));
    std::error_code ec;
    if (!std::filesystem::exists(store.path(), ec)) {
        if (o.state_dir) {
            print(stderr, fmt::format("halo-check: warning: no state file '{}'; exporting without the engine's "
                                      "figures (is halo-checkd running with this --state-dir?)\n",
                                      store.path()));
        }
        return std::nullopt;
    }
    auto state = store.read();
    if (!state) {
        print(stderr,
              fmt::format("halo-check: warning: {}; exporting without the engine's figures\n", state.error().message));
        return std::nullopt;
    }
    return app::engine_status_from_json(state->value("engine", nlohmann::json()));
}

std::chrono::seconds interval_or_die(const std::string& text)
{
    auto d = app::parse_duration(text);
    if (!d || d->count() <= 0) {
        throw Fatal(fmt::format("--interval '{}' is not a duration; give how often the export runs, as 90s, 5m or "
                                "1h",
                                text));
    }
    return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

} // namespace

int command_export(const ExportOptions& o)
{
    if (o.format == "npd" && o.output) {
        throw Fatal("--output writes a file; node-problem-detector reads --format npd from stdout and the exit "
                    "code, so leave --output out");
    }
    const std::chrono::seconds interval = interval_or_die(o.interval);
    const rules::LoadedRules loaded = load_rules_or_die(o.check);
    const std::time_t now = std::time(nullptr);
    const rules::Facts facts = facts_to_judge(o.check);
    const rules::EvaluateOptions options = evaluate_options(o.check);
    const rules::Report report_now = rules::evaluate(loaded.rules, facts, options);
    const rules::Report report_next = rules::evaluate(loaded.rules, rules::next_boot_view(facts), options);

    if (o.format == "npd") {
        const app::NpdResult r =
            app::format_npd(o.check.next_boot ? report_next : report_now, options.fail_on, o.check.next_boot);
        print(stdout, r.message + "\n");
        return r.exit_code;
    }

    app::ExportInput in;
    in.facts = &facts;
    in.now = &report_now;
    in.next_boot = &report_next;
    in.checked_at = o.check.facts ? app::parse_rfc3339(facts.snapshot.taken).value_or(now) : now;
    in.engine = daemon_engine(o);
    const std::string text =
        o.format == "nfd" ? app::format_nfd(in, now + 2 * interval.count()) : app::format_prometheus(in);
    if (!o.output) {
        print(stdout, text);
        return 0;
    }
    if (auto ok = app::write_file_atomically(*o.output, text, 0644, app::Durability::unsynced); !ok) {
        throw Fatal(ok.error().message + "; nothing was exported. Check that the directory exists and is writable");
    }
    return 0;
}

} // namespace halo::check
