#include "rules/rule_loader.hpp"

#include "rules/embedded_rules.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace halo::rules {

namespace {

namespace fs = std::filesystem;

template <typename T>
void replace_or_append(std::vector<T>& list, T entry)
{
    auto it = std::find_if(list.begin(), list.end(), [&](const T& e) { return e.id == entry.id; });
    if (it != list.end()) *it = std::move(entry);
    else list.push_back(std::move(entry));
}

template <typename T>
void remove_id(std::vector<T>& list, const std::string& id)
{
    list.erase(std::remove_if(list.begin(), list.end(), [&](const T& e) { return e.id == id; }), list.end());
}

struct PendingDisable {
    std::string id;
    std::string origin;
};

void apply(LoadedRules& loaded, RulesFile file, const std::string& origin, std::vector<PendingDisable>& disables)
{
    for (Diagnostic& d : file.diagnostics) loaded.diagnostics.push_back(std::move(d));
    for (Rule& r : file.entries.rules) replace_or_append(loaded.rules.rules, std::move(r));
    for (KnownGood& g : file.entries.known_good) replace_or_append(loaded.rules.known_good, std::move(g));
    for (LogPattern& p : file.entries.log_patterns) replace_or_append(loaded.rules.log_patterns, std::move(p));
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
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = fmt::format("Failed to read rules file '{}': {}", path.string(), std::strerror(errno));
        return std::nullopt;
    }
    std::ostringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

std::vector<fs::path> toml_files_in(const fs::path& dir)
{
    std::vector<fs::path> files;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().extension() == ".toml" && it->is_regular_file(ec)) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

void load_path(LoadedRules& loaded, const fs::path& path, std::vector<PendingDisable>& disables)
{
    std::string error;
    auto text = read_text(path, error);
    if (!text) {
        loaded.diagnostics.push_back({Diagnostic::Level::error, error});
        return;
    }
    apply(loaded, parse_rules_file(*text, path.string()), path.string(), disables);
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
    std::set<std::string> names;
    for (const auto& [name, _] : by_name) names.insert(name);
    for (const auto& [name, _] : dropin_by_name) names.insert(name);
    for (const std::string& name : names) {
        if (auto it = dropin_by_name.find(name); it != dropin_by_name.end()) {
            load_path(loaded, it->second, disables);
        } else {
            const auto& [origin, text] = by_name.at(name);
            apply(loaded, parse_rules_file(text, origin, false), origin, disables);
        }
    }
    for (const std::string& extra : sources.extra) {
        std::error_code ec;
        if (fs::is_directory(extra, ec)) {
            for (const fs::path& file : toml_files_in(extra)) load_path(loaded, file, disables);
        } else {
            load_path(loaded, extra, disables);
        }
    }
    apply_disables(loaded, disables);
    return loaded;
}

LoadedRules load_embedded_rules() { return load_rules(RuleSources{}); }

} // namespace halo::rules
