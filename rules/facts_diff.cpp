#include "rules/facts_diff.hpp"

#include <algorithm>
#include <array>
#include <set>

namespace halo::rules {

const std::vector<std::string>& volatile_key_patterns()
{
    static const std::vector<std::string> patterns{
        "container.*.state", "package.*.installtime",     "boot.initramfs.mtime", "gpu.*.firmware.source",
        "kernel.cmdline",    "kernel.cmdline.BOOT_IMAGE", "gpu.*.sensor.*",
    };
    return patterns;
}

namespace {

bool ignored(std::string_view key, const DiffOptions& options)
{
    auto matches = [key](const std::string& p) { return key_matches(p, key); };
    if (!options.include_volatile &&
        std::any_of(volatile_key_patterns().begin(), volatile_key_patterns().end(), matches))
        return true;
    return std::any_of(options.extra_ignored.begin(), options.extra_ignored.end(), matches);
}

std::string describe(const ProbeStatus& s)
{
    std::string text(to_string(s.state));
    if (!s.reason.empty()) text += ": " + s.reason;
    return text;
}

} // namespace

FactsMatrix facts_matrix(const std::vector<const Facts*>& nodes, const DiffOptions& options)
{
    FactsMatrix matrix;
    std::set<std::string, std::less<>> keys;
    for (const Facts* f : nodes)
        for (const auto& [key, fact] : f->all()) keys.insert(key);
    for (const std::string& key : keys) {
        FactsMatrixRow row{key, {}};
        for (const Facts* f : nodes) {
            const Fact* fact = f->find(key);
            row.values.push_back(fact ? std::optional<std::string>(fact->value) : std::nullopt);
        }
        const bool same = std::all_of(row.values.begin(), row.values.end(),
                                      [&row](const std::optional<std::string>& v) { return v == row.values.front(); });
        if (same) continue;
        if (ignored(key, options)) {
            ++matrix.ignored;
            continue;
        }
        matrix.rows.push_back(std::move(row));
    }
    return matrix;
}

FactsDiff diff_facts(const Facts& older, const Facts& newer, const DiffOptions& options)
{
    FactsDiff diff;
    const auto& a = older.all();
    const auto& b = newer.all();
    auto ia = a.begin();
    auto ib = b.begin();
    // Both maps are ordered by key: one merge pass.
    while (ia != a.end() || ib != b.end()) {
        FactChange change;
        if (ib == b.end() || (ia != a.end() && ia->first < ib->first)) {
            change = {FactChange::Kind::removed, ia->first, ia->second.value, std::nullopt,
                      newer.unknown_reason(ia->first)};
            ++ia;
        } else if (ia == a.end() || ib->first < ia->first) {
            change = {FactChange::Kind::added, ib->first, std::nullopt, ib->second.value, std::nullopt};
            ++ib;
        } else {
            const bool same = ia->second.value == ib->second.value;
            change = {FactChange::Kind::changed, ia->first, ia->second.value, ib->second.value, std::nullopt};
            ++ia;
            ++ib;
            if (same) continue;
        }
        if (ignored(change.key, options)) {
            ++diff.ignored;
            continue;
        }
        diff.changes.push_back(std::move(change));
    }

    std::set<std::string> ids;
    for (const auto& [id, status] : older.probes()) ids.insert(id);
    for (const auto& [id, status] : newer.probes()) ids.insert(id);
    for (const std::string& id : ids) {
        const auto old_it = older.probes().find(id);
        const auto new_it = newer.probes().find(id);
        ProbeChange change{id, std::nullopt, std::nullopt};
        if (old_it != older.probes().end()) change.old_status = old_it->second;
        if (new_it != newer.probes().end()) change.new_status = new_it->second;
        if (change.old_status && change.new_status && change.old_status->state == change.new_status->state &&
            change.old_status->reason == change.new_status->reason)
            continue;
        diff.probes.push_back(std::move(change));
    }
    return diff;
}

std::string format_change(const FactChange& change)
{
    std::string line = change.key + " ";
    line += change.old_value ? *change.old_value : std::string("(absent)");
    line += " → ";
    if (change.new_value) line += *change.new_value;
    else if (change.unknown_reason) line += "(unknown: " + *change.unknown_reason + ")";
    else line += "(absent)";
    return line;
}

std::string format_probe_change(const ProbeChange& change)
{
    return "probe " + change.probe + " " + (change.old_status ? describe(*change.old_status) : "(did not run)") +
           " → " + (change.new_status ? describe(*change.new_status) : "(did not run)");
}

std::vector<std::string> format_diff_lines(const FactsDiff& diff)
{
    std::vector<std::string> lines;
    lines.reserve(diff.changes.size() + diff.probes.size());
    for (const FactChange& c : diff.changes) lines.push_back(format_change(c));
    for (const ProbeChange& p : diff.probes) lines.push_back(format_probe_change(p));
    return lines;
}

std::vector<const FactChange*> changes_by_relevance(const FactsDiff& diff)
{
    // What the knowledge base's broken rules turn on, most decisive first.
    static const std::array<std::string_view, 14> k_order{
        "kernel.release",
        "kernel.next_boot.release",
        "package.linux-firmware.*",
        "package.amd-gpu-firmware.*",
        "gpu.*.firmware.*",
        "engine.image.*",
        "engine.image",
        "engine.backend",
        "engine.container",
        "package.kernel.*",
        "gpu.amdgpu.*",
        "vulkan.*.driver_*",
        "package.*",
        "engine.*",
    };
    auto rank = [](const std::string& key) {
        for (std::size_t i = 0; i < k_order.size(); ++i)
            if (key_matches(k_order[i], key)) return i;
        return k_order.size();
    };
    std::vector<const FactChange*> out;
    for (const FactChange& c : diff.changes) out.push_back(&c);
    std::stable_sort(out.begin(), out.end(),
                     [&](const FactChange* x, const FactChange* y) { return rank(x->key) < rank(y->key); });
    return out;
}

} // namespace halo::rules
