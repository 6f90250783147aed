#include "rules/rule_loader.hpp"

#include "common/bounded_read.hpp"
#include "rules/embedded_rules.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <unordered_map>

namespace halo::rules {

namespace {

// The whole knowledge base is under 1 MiB; a rules file 16 times that is not one.
constexpr std::size_t k_rules_file_max_bytes = 16U << 20U;

namespace fs = std::filesystem;

// One list and an index of its ids, so that loading n entries costs O(n), not O(n^2).
template <typename T>
class IndexedList {
public:
    explicit IndexedList(std::vector<T>& list) : m_list(list)
    {
        for (std::size_t i = 0; i < list.size(); ++i) m_index.emplace(list[i].id, i);
    }
    // Room for `more` entries at once: a feed of thousands does not regrow the list and its index.
    void reserve_more(std::size_t more)
    {
        m_list.reserve(m_list.size() + more);
        m_index.reserve(m_index.size() + more);
    }
    void replace_or_append(T entry)
    {
        auto [it, inserted] = m_index.try_emplace(entry.id, m_list.size());
        if (inserted) m_list.push_back(std::move(entry));
        else m_list[it->second] = std::move(entry);
    }

private:
    std::vector<T>& m_list;
    std::unordered_map<std::string, std::size_t> m_index;
};

struct Merger {
    explicit Merger(RuleSet& set) : rules(set.rules), known_good(set.known_good), log_patterns(set.log_patterns) {}
    IndexedList<Rule> rules;
    IndexedList<KnownGood> known_good;
    IndexedList<LogPattern> log_patterns;
};

template <typename T>
void remove_id(std::vector<T>& list, const std::string& id)
{
    list.erase(std::remove_if(list.begin(), list.end(), [&](const T& e) { return e.id == id; }), list.end());
}

struct PendingDisable {
    std::string id;
    std::string origin;
};

void apply(LoadedRules& loaded, Merger& merger, RulesFile file, const std::string& origin,
           std::vector<PendingDisable>& disables)
{
    for (Diagnostic& d : file.diagnostics) loaded.diagnostics.push_back(std::move(d));
    merger.rules.reserve_more(file.entries.rules.size());
    for (Rule& r : file.entries.rules) merger.rules.replace_or_append(std::move(r));
    for (KnownGood& g : file.entries.known_good) merger.known_good.replace_or_append(std::move(g));
    for (LogPattern& p : file.entries.log_patterns) merger.log_patterns.replace_or_append(std::move(p));
    for (std::string& id : file.disabled) disables.push_back({std::move(id), origin});
    loaded.rules.files.push_back(origin);
}

// Disables apply once everything is loaded, so a drop-in disables an embedded entry whatever the
// two files are named.
void apply_disables(LoadedRules& loaded, const std::vector<PendingDisable>& disables)
{
    for (const PendingDisable& d : disables) {
        const bool found =
            loaded.rules.find_rule(d.id) || loaded.rules.find_known_good(d.id) || loaded.rules.find_log_pattern(d.id);
        if (!found) {
            loaded.diagnostics.push_back(
                {Diagnostic::Level::warning,
                 fmt::format("{}: [[disable]] id '{}' matches no loaded rule, known-good entry or log pattern",
                             d.origin, d.id)});
        }
        remove_id(loaded.rules.rules, d.id);
        remove_id(loaded.rules.known_good, d.id);
        remove_id(loaded.rules.log_patterns, d.id);
    }
}

std::optional<std::string> read_text(const fs::path& path, std::string& error)
{
    auto text = read_bounded_file(path.string(), k_rules_file_max_bytes, Links::follow, "rules file");
    if (!text) {
        error = text.error().message;
        return std::nullopt;
    }
    return std::move(*text);
}

std::vector<fs::path> toml_files_in(const fs::path& dir)
{
    std::vector<fs::path> files;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        // Not only regular files: a FIFO or a device named *.toml is an error naming it, not
        // skipped in silence; directories are no rules file.
        if (it->path().extension() == ".toml" && !it->is_directory(ec)) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

void load_path(LoadedRules& loaded, Merger& merger, const fs::path& path, std::vector<PendingDisable>& disables)
{
    std::string error;
    auto text = read_text(path, error);
    if (!text) {
        loaded.diagnostics.push_back({Diagnostic::Level::error, error});
        return;
    }
    apply(loaded, merger, parse_rules_file(*text, path.string()), path.string(), disables);
}

} // namespace

bool LoadedRules::has_errors() const
{
    return std::any_of(diagnostics.begin(), diagnostics.end(),
                       [](const Diagnostic& d) { return d.level == Diagnostic::Level::error; });
}

std::vector<std::string> default_dropin_dirs(const std::string& root, const std::optional<std::string>& xdg_config_home,
                                             const std::optional<std::string>& home)
{
    const fs::path base = root.empty() ? fs::path("/") : fs::path(root);
    auto under = [&](std::string_view p) { return (base / fs::path(p).relative_path()).string(); };
    std::vector<std::string> dirs{under("/usr/share/halo-check/rules.d"), under("/etc/halo-check/rules.d")};
    if (xdg_config_home && !xdg_config_home->empty()) dirs.push_back(under(*xdg_config_home + "/halo-check/rules.d"));
    else if (home && !home->empty()) dirs.push_back(under(*home + "/.config/halo-check/rules.d"));
    return dirs;
}

LoadedRules load_rules(const RuleSources& sources)
{
    LoadedRules loaded;
    Merger merger(loaded.rules);
    std::vector<PendingDisable> disables;
    // Same-named files: the later (higher-priority) source wins, systemd drop-in style.
    std::map<std::string, std::pair<std::string, std::string_view>> by_name; // name -> (origin, embedded text)
    std::map<std::string, fs::path> dropin_by_name;
    if (sources.embedded) {
        for (const EmbeddedFile& f : embedded_rule_files())
            by_name[f.name] = {std::string("embedded:") + f.name, f.content};
    }
    for (const std::string& dir : sources.dropin_dirs) {
        for (const fs::path& file : toml_files_in(dir)) {
            const std::string name = file.filename().string();
            by_name.erase(name);
            dropin_by_name[name] = file;
        }
    }
    // The embedded files first, then the feed over them, then the drop-in directories.
    for (const auto& [name, file] : by_name) {
        const auto& [origin, text] = file;
        apply(loaded, merger, parse_rules_file(text, origin, false), origin, disables);
    }
    if (sources.feed) {
        apply(loaded, merger, parse_rules_file(sources.feed->text, sources.feed->origin, false, "feed"),
              sources.feed->origin, disables);
    }
    for (const auto& [name, path] : dropin_by_name) load_path(loaded, merger, path, disables);
    for (const std::string& extra : sources.extra) {
        std::error_code ec;
        if (fs::is_directory(extra, ec)) {
            for (const fs::path& file : toml_files_in(extra)) load_path(loaded, merger, file, disables);
        } else {
            load_path(loaded, merger, extra, disables);
        }
    }
    apply_disables(loaded, disables);
    return loaded;
}

LoadedRules load_embedded_rules() { return load_rules(RuleSources{}); }

} // namespace halo::rules
