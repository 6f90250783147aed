// `halo-check diff [FILE_A [FILE_B]]`: what changed between two facts snapshots.
//   no file:  the last known good facts (state dir) → this machine now
//   one file: FILE_A → this machine now
//   two:      FILE_A → FILE_B
// Exit 0 when nothing changed, 1 when something did, 3 when a side cannot be read.

#include "common/fatal.hpp"
#include "daemon/check/cli_commands.hpp"
#include "daemon/environment.hpp"
#include "daemon/last_known_good.hpp"
#include "probes/host.hpp"
#include "probes/runner.hpp"
#include "rules/facts_diff.hpp"
#include "rules/facts_io.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

namespace halo::check {

namespace {

struct Side {
    rules::Facts facts;
    std::string label;  // "last known good (recorded …)", "'a.toml'", "this machine now"
    std::string origin; // a path, or "probe"
};

Side from_file(const std::string& path)
{
    auto facts = rules::load_facts_file(path);
    if (!facts) throw Fatal(facts.error().message + "; nothing to compare");
    return {std::move(*facts), fmt::format("'{}'", path), path};
}

Side from_machine(const CheckOptions& o)
{
    Side side{probe_machine(o), "this machine now", "probe"};
    return side;
}

Side from_last_known_good(const DiffCommandOptions& o)
{
    // The user service's state dir first, then the system service's.
    std::filesystem::path dir =
        o.state_dir ? std::filesystem::path(*o.state_dir)
                    : app::default_state_dir(false, app::env_value("XDG_STATE_HOME"), app::env_value("HOME"));
    std::error_code ec;
    if (!o.state_dir && (dir.empty() || !std::filesystem::exists(app::last_known_good_path(dir), ec))) {
        const std::filesystem::path system = app::default_state_dir(true, std::nullopt, std::nullopt);
        if (std::filesystem::exists(app::last_known_good_path(system), ec) || dir.empty()) dir = system;
    }
    auto good = app::load_last_known_good(dir);
    if (!good) throw Fatal(good.error().message);
    return {std::move(good->facts), fmt::format("last known good (recorded {})", good->recorded), good->path.string()};
}

nlohmann::ordered_json status_json(const std::optional<rules::ProbeStatus>& s)
{
    if (!s) return nullptr;
    nlohmann::ordered_json j{{"status", rules::to_string(s->state)}};
    if (!s->reason.empty()) j["reason"] = s->reason;
    return j;
}

std::string format_json(const Side& a, const Side& b, const rules::FactsDiff& diff)
{
    auto side = [](const Side& s) {
        return nlohmann::ordered_json{{"origin", s.origin}, {"label", s.label}, {"taken", s.facts.snapshot.taken}};
    };
    nlohmann::ordered_json changes = nlohmann::ordered_json::array();
    for (const rules::FactChange& c : diff.changes) {
        const char* kind = c.kind == rules::FactChange::Kind::added     ? "added"
                           : c.kind == rules::FactChange::Kind::removed ? "removed"
                                                                        : "changed";
        nlohmann::ordered_json j{{"key", c.key}, {"kind", kind}};
        j["old"] = c.old_value ? nlohmann::ordered_json(*c.old_value) : nlohmann::ordered_json(nullptr);
        j["new"] = c.new_value ? nlohmann::ordered_json(*c.new_value) : nlohmann::ordered_json(nullptr);
        if (c.unknown_reason) j["unknown_reason"] = *c.unknown_reason;
        changes.push_back(std::move(j));
    }
    nlohmann::ordered_json probes = nlohmann::ordered_json::array();
    for (const rules::ProbeChange& p : diff.probes)
        probes.push_back({{"probe", p.probe}, {"old", status_json(p.old_status)}, {"new", status_json(p.new_status)}});
    nlohmann::ordered_json out{
        {"a", side(a)}, {"b", side(b)}, {"changes", changes}, {"probes", probes}, {"ignored", diff.ignored}};
    return out.dump(2) + "\n";
}

std::string format_text(const Side& a, const Side& b, const rules::FactsDiff& diff, bool all)
{
    std::string out = fmt::format("{} → {}\n", a.label, b.label);
    for (const std::string& line : rules::format_diff_lines(diff)) out += "  " + line + "\n";
    const std::size_t n = diff.changes.size() + diff.probes.size();
    out += n == 0 ? std::string("No changes") : fmt::format("{} change{}", n, n == 1 ? "" : "s");
    if (diff.ignored > 0 && !all)
        out += fmt::format(" ({} in keys that change by themselves not shown; --all shows them)", diff.ignored);
    out += "\n";
    return out;
}

} // namespace

int command_diff(const DiffCommandOptions& o)
{
    if (o.files.size() > 2) throw Fatal("diff takes at most two facts files");
    const Side a = o.files.empty() ? from_last_known_good(o) : from_file(o.files[0]);
    const Side b = o.files.size() == 2 ? from_file(o.files[1]) : from_machine(o.probe);
    rules::DiffOptions options;
    options.include_volatile = o.all;
    const rules::FactsDiff diff = rules::diff_facts(a.facts, b.facts, options);
    const std::string text = o.json ? format_json(a, b, diff) : format_text(a, b, diff, o.all);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return diff.empty() ? 0 : 1;
}

} // namespace halo::check
