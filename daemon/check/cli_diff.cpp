// `halo-check diff [FILE_A [FILE_B]]`: what changed between two facts snapshots.
//   no file:  the last known good facts (state dir) → this machine now
//   one file: FILE_A → this machine now
//   two:      FILE_A → FILE_B
//   three or more (one per node): the matrix of facts that differ between them, one column per
//   node, what must match for llama.cpp RPC across boxes
// Exit 0 when nothing changed (or differs), 1 when something did, 3 when a side cannot be read.

#include "common/fatal.hpp"
#include "daemon/check/cli_commands.hpp"
#include "daemon/config.hpp"
#include "daemon/environment.hpp"
#include "daemon/last_known_good.hpp"
#include "daemon/report_output.hpp"
#include "daemon/version_info.hpp"
#include "probes/host.hpp"
#include "probes/runner.hpp"
#include "rules/facts_diff.hpp"
#include "rules/facts_io.hpp"
#include "rules/rule_loader.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
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
    // The state directory as status and halo-checkd find it: one rule for where state lives.
    const std::filesystem::path dir = app::resolve_state_dir(o.state_dir);
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

nlohmann::ordered_json envelope()
{
    return app::json_envelope(app::summarise_knowledge(rules::load_embedded_rules().rules).newest);
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
    nlohmann::ordered_json out = envelope();
    out["a"] = side(a);
    out["b"] = side(b);
    out["changes"] = changes;
    out["probes"] = probes;
    out["ignored"] = diff.ignored;
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

// A column's name: the node's host name from its snapshot, or the file's name when the host is
// missing or two files share it.
std::vector<std::string> node_names(const std::vector<Side>& nodes)
{
    std::vector<std::string> names;
    names.reserve(nodes.size());
    for (const Side& n : nodes) names.push_back(n.facts.snapshot.host);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        const bool shared = std::count(names.begin(), names.end(), names[i]) > 1;
        if (names[i].empty() || shared) names[i] = std::filesystem::path(nodes[i].origin).filename().string();
    }
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        if (std::count(names.begin(), names.end(), names[i]) > 1) names[i] = nodes[i].origin;
    }
    return names;
}

std::string cell(const Side& node, const rules::FactsMatrixRow& row, std::size_t i)
{
    if (row.values[i]) return *row.values[i];
    return node.facts.unknown_reason(row.key) ? "(unknown)" : "(absent)";
}

std::string format_matrix_text(const std::vector<Side>& nodes, const rules::FactsMatrix& m, bool all)
{
    const std::vector<std::string> names = node_names(nodes);
    std::size_t key_width = 4;
    std::vector<std::size_t> widths;
    widths.reserve(names.size());
    for (const std::string& n : names) widths.push_back(n.size());
    for (const rules::FactsMatrixRow& row : m.rows) {
        key_width = std::max(key_width, row.key.size());
        for (std::size_t i = 0; i < nodes.size(); ++i) widths[i] = std::max(widths[i], cell(nodes[i], row, i).size());
    }
    auto line = [&](const std::string& first, const std::vector<std::string>& cells) {
        std::string out = fmt::format("{:<{}}", first, key_width);
        for (std::size_t i = 0; i < cells.size(); ++i) out += fmt::format("  {:<{}}", cells[i], widths[i]);
        while (!out.empty() && out.back() == ' ') out.pop_back();
        return out + "\n";
    };
    std::string out;
    if (!m.rows.empty()) out += line("fact", names);
    for (const rules::FactsMatrixRow& row : m.rows) {
        std::vector<std::string> cells;
        for (std::size_t i = 0; i < nodes.size(); ++i) cells.push_back(cell(nodes[i], row, i));
        out += line(row.key, cells);
    }
    const std::size_t n = m.rows.size();
    out += n == 0 ? fmt::format("The {} nodes' facts are the same", nodes.size())
                  : fmt::format("{} fact{} differ{} between the {} nodes", n, n == 1 ? "" : "s", n == 1 ? "s" : "",
                                nodes.size());
    if (m.ignored > 0 && !all)
        out += fmt::format(" ({} in keys that change by themselves not shown; --all shows them)", m.ignored);
    return out + "\n";
}

std::string format_matrix_json(const std::vector<Side>& nodes, const rules::FactsMatrix& m)
{
    const std::vector<std::string> names = node_names(nodes);
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        list.push_back({{"name", names[i]},
                        {"origin", nodes[i].origin},
                        {"host", nodes[i].facts.snapshot.host},
                        {"taken", nodes[i].facts.snapshot.taken}});
    }
    nlohmann::ordered_json rows = nlohmann::ordered_json::array();
    for (const rules::FactsMatrixRow& row : m.rows) {
        nlohmann::ordered_json values = nlohmann::ordered_json::array();
        for (const std::optional<std::string>& v : row.values)
            values.push_back(v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr));
        rows.push_back({{"key", row.key}, {"values", values}});
    }
    nlohmann::ordered_json out = envelope();
    out["nodes"] = list;
    out["differ"] = rows;
    out["ignored"] = m.ignored;
    return out.dump(2) + "\n";
}

int command_fleet_diff(const DiffCommandOptions& o)
{
    std::vector<Side> nodes;
    for (const std::string& file : o.files) nodes.push_back(from_file(file));
    std::vector<const rules::Facts*> facts;
    facts.reserve(nodes.size());
    for (const Side& n : nodes) facts.push_back(&n.facts);
    rules::DiffOptions options;
    options.include_volatile = o.all;
    const rules::FactsMatrix matrix = rules::facts_matrix(facts, options);
    const std::string text = o.json ? format_matrix_json(nodes, matrix) : format_matrix_text(nodes, matrix, o.all);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return matrix.rows.empty() ? 0 : 1;
}

} // namespace

int command_diff(const DiffCommandOptions& o)
{
    if (o.files.size() > 2) return command_fleet_diff(o);
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
