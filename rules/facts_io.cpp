#include "rules/facts_io.hpp"

#include "common/bounded_read.hpp"
#include "common/toml.hpp"
#include "rules/fact_catalogue.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>

namespace halo::rules {

namespace {

// A facts file is tens of KiB, a fleet node's no more.
constexpr std::size_t k_facts_file_max_bytes = 16U << 20U;

// A fact value from TOML: strings as they are, numbers and booleans as their text.
Result<std::string> scalar_text(const toml::node& node, const std::string& where, std::string_view key)
{
    if (auto s = node.as_string()) return std::string(s->get());
    if (auto i = node.as_integer()) return std::to_string(i->get());
    if (auto b = node.as_boolean()) return std::string(b->get() ? "true" : "false");
    if (auto f = node.as_floating_point()) {
        std::ostringstream out;
        out << f->get();
        return out.str();
    }
    if (auto d = node.as_date()) {
        return fmt::format("{:04}-{:02}-{:02}", d->get().year, d->get().month, d->get().day);
    }
    return Error{fmt::format("{}: fact '{}' must be a string, number or boolean, not a {}; "
                             "write it as a quoted string",
                             where, key, toml::impl::node_type_friendly_names[static_cast<int>(node.type())])};
}

Result<void> read_string_table(const toml::table& root, std::string_view name, const std::string& origin,
                               const std::function<void(std::string, std::string)>& put)
{
    const toml::node* node = root.get(name);
    if (!node) return {};
    const toml::table* table = node->as_table();
    if (!table) {
        return Error{fmt::format("{}: '{}' must be a table ([{}])", toml_where(origin, node->source()), name, name)};
    }
    for (const auto& [key, value] : *table) {
        auto text = scalar_text(value, toml_where(origin, value.source()), key.str());
        if (!text) return text.error();
        put(std::string(key.str()), std::move(*text));
    }
    return {};
}

// `taken` is a time, and TOML has a type for it: `taken = 2026-11-27T10:15:02Z` is as good as the
// quoted form that `halo-check facts` writes.
std::string rfc3339_text(const toml::date_time& t)
{
    std::string text = fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", t.date.year, t.date.month, t.date.day,
                                   t.time.hour, t.time.minute, t.time.second);
    if (t.time.nanosecond != 0) text += fmt::format(".{:09}", t.time.nanosecond);
    if (!t.offset) return text;
    const int minutes = t.offset->minutes;
    if (minutes == 0) return text + "Z";
    const int magnitude = minutes < 0 ? -minutes : minutes;
    return text + fmt::format("{}{:02}:{:02}", minutes < 0 ? '-' : '+', magnitude / 60, magnitude % 60);
}

Result<void> read_snapshot_toml(const toml::table& root, const std::string& origin, Snapshot& snapshot)
{
    const toml::node* node = root.get("snapshot");
    if (!node) return {};
    const toml::table* table = node->as_table();
    if (!table)
        return Error{fmt::format("{}: 'snapshot' must be a table ([snapshot])", toml_where(origin, node->source()))};
    for (const auto& [key, value] : *table) {
        const std::string_view k = key.str();
        std::string text;
        if (const auto* when = value.as_date_time(); when && k == "taken") {
            text = rfc3339_text(when->get());
        } else if (const auto* str = value.as_string()) {
            text = str->get();
        } else {
            return Error{fmt::format("{}: 'snapshot.{}' must be a string{}", toml_where(origin, value.source()), k,
                                     k == "taken" ? " or a date-time (taken = 2026-11-27T10:15:02Z)" : "")};
        }
        if (k == "taken") snapshot.taken = std::move(text);
        else if (k == "host") snapshot.host = std::move(text);
        else if (k == "halo_check_version") snapshot.halo_check_version = std::move(text);
    }
    return {};
}

Result<void> read_probes_toml(const toml::table& root, const std::string& origin, Facts& facts)
{
    const toml::node* node = root.get("probes");
    if (!node) return {};
    const toml::table* probes = node->as_table();
    if (!probes) return Error{fmt::format("{}: 'probes' must be a table", toml_where(origin, node->source()))};
    for (const auto& [name, value] : *probes) {
        const toml::table* entry = value.as_table();
        if (!entry) {
            return Error{fmt::format("{}: probe '{}' must be a table with 'status' and 'reason'",
                                     toml_where(origin, value.source()), name.str())};
        }
        ProbeStatus status;
        const auto state_text = (*entry)["status"].value<std::string>();
        const auto state = state_text ? probe_state_from_string(*state_text) : std::nullopt;
        if (!state) {
            return Error{fmt::format("{}: probe '{}' has no valid 'status' (one of ok, partial, failed, "
                                     "not_applicable, not_run)",
                                     toml_where(origin, value.source()), name.str())};
        }
        status.state = *state;
        status.reason = (*entry)["reason"].value_or(std::string{});
        status.elapsed_ms = (*entry)["elapsed_ms"].value_or(0.0);
        facts.set_probe_status(std::string(name.str()), std::move(status));
    }
    return {};
}

std::string json_where(std::string_view text, std::size_t byte)
{
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return fmt::format("{}:{}", line, column);
}

Result<std::string> json_scalar(const nlohmann::json& value, const std::string& origin, std::string_view table,
                                std::string_view key)
{
    if (value.is_string()) return value.get<std::string>();
    if (value.is_boolean()) return std::string(value.get<bool>() ? "true" : "false");
    if (value.is_number_integer() || value.is_number_unsigned() || value.is_number_float()) return value.dump();
    return Error{fmt::format("{}: '{}.{}' must be a string, number or boolean; write it as a quoted string", origin,
                             table, key)};
}

} // namespace

Result<Facts> parse_facts_toml(std::string_view text, const std::string& origin)
{
    auto parsed = parse_toml(text, origin);
    if (!parsed) return parsed.error();
    const toml::table& root = *parsed;
    Facts facts;
    if (const toml::node* node = root.get("facts"); !node) {
        return Error{fmt::format("{}: no [facts] table; a facts file holds its facts as "
                                 "[facts] \"kernel.release\" = \"…\"",
                                 origin)};
    }
    for (const auto& [key, value] : root) {
        const std::string_view k = key.str();
        if (k != "facts" && k != "sources" && k != "unknown" && k != "probes" && k != "snapshot") {
            return Error{fmt::format("{}: unknown table '{}' (expected facts, sources, unknown, probes, snapshot)",
                                     toml_where(origin, value.source()), k)};
        }
    }
    const std::string file_source = "file:" + origin;
    HALO_TRY(read_string_table(root, "facts", origin, [&](std::string k, std::string v) {
        facts.set(std::move(k), std::move(v), file_source);
    }));
    HALO_TRY(read_string_table(root, "sources", origin, [&](const std::string& k, std::string v) {
        if (const Fact* f = facts.find(k)) facts.set(k, f->value, std::move(v));
    }));
    HALO_TRY(read_string_table(root, "unknown", origin,
                               [&](std::string k, std::string v) { facts.mark_unknown(std::move(k), std::move(v)); }));
    HALO_TRY(read_probes_toml(root, origin, facts));
    HALO_TRY(read_snapshot_toml(root, origin, facts.snapshot));
    return facts;
}

Result<Facts> parse_facts_json_unchecked(std::string_view text, const std::string& origin);

Result<Facts> parse_facts_json(std::string_view text, const std::string& origin)
{
    // nlohmann throws more than parse_error (out_of_range for a number too large, type_error for
    // a snapshot field of the wrong type): all of them are bad input, never a crash.
    try {
        return parse_facts_json_unchecked(text, origin);
    } catch (const nlohmann::json::exception& e) {
        return Error{fmt::format("{}: {}", origin, e.what())};
    }
}

Result<Facts> parse_facts_json_unchecked(std::string_view text, const std::string& origin)
{
    nlohmann::json root;
    try {
        root = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
        // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 2: …"
        std::string what = e.what();
        const auto colon = what.find(": ", what.find("column"));
        std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
        const std::size_t byte = e.byte > 0 ? e.byte - 1 : 0;
        return Error{fmt::format("{}:{}: {}", origin, json_where(text, byte), detail)};
    }
    if (!root.is_object() || !root.contains("facts") || !root["facts"].is_object()) {
        return Error{fmt::format("{}: expected a JSON object with a \"facts\" object", origin)};
    }
    Facts facts;
    const std::string file_source = "file:" + origin;
    for (const auto& [key, value] : root["facts"].items()) {
        auto text_value = json_scalar(value, origin, "facts", key);
        if (!text_value) return text_value.error();
        facts.set(key, std::move(*text_value), file_source);
    }
    auto table = [&](const char* name) -> const nlohmann::json* {
        auto it = root.find(name);
        return it != root.end() && it->is_object() ? &*it : nullptr;
    };
    if (auto* sources = table("sources")) {
        for (const auto& [key, value] : sources->items())
            if (const Fact* f = facts.find(key); f && value.is_string())
                facts.set(key, f->value, value.get<std::string>());
    }
    if (auto* unknown = table("unknown")) {
        for (const auto& [key, value] : unknown->items())
            facts.mark_unknown(key, value.is_string() ? value.get<std::string>() : value.dump());
    }
    // Members are read through find() and typed getters: GCC's -Wnull-dereference misreads
    // nlohmann's const operator[] at -O3.
    auto string_member = [](const nlohmann::json& object, const char* name) -> std::optional<std::string> {
        auto it = object.find(name);
        if (it == object.end() || !it->is_string()) return std::nullopt;
        return it->get<std::string>();
    };
    if (auto* probes = table("probes")) {
        for (const auto& [name, value] : probes->items()) {
            const auto state_text = value.is_object() ? string_member(value, "status") : std::nullopt;
            const auto state = state_text ? probe_state_from_string(*state_text) : std::nullopt;
            if (!state) return Error{fmt::format("{}: probe '{}' has no valid \"status\"", origin, name)};
            ProbeStatus status;
            status.state = *state;
            status.reason = string_member(value, "reason").value_or("");
            if (auto it = value.find("elapsed_ms"); it != value.end() && it->is_number())
                status.elapsed_ms = it->get<double>();
            facts.set_probe_status(name, std::move(status));
        }
    }
    if (auto* snapshot = table("snapshot")) {
        for (const char* field : {"taken", "host", "halo_check_version"}) {
            auto it = snapshot->find(field);
            if (it != snapshot->end() && !it->is_string()) {
                return Error{fmt::format("{}: 'snapshot.{}' must be a string", origin, field)};
            }
        }
        facts.snapshot.taken = string_member(*snapshot, "taken").value_or("");
        facts.snapshot.host = string_member(*snapshot, "host").value_or("");
        facts.snapshot.halo_check_version = string_member(*snapshot, "halo_check_version").value_or("");
    }
    return facts;
}

Result<Facts> parse_facts(std::string_view text, const std::string& origin)
{
    const auto first = text.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && text[first] == '{') return parse_facts_json(text, origin);
    return parse_facts_toml(text, origin);
}

Result<Facts> load_facts_file(const std::string& path)
{
    auto text = read_bounded_file(path, k_facts_file_max_bytes, Links::follow, "facts file");
    if (!text) return text.error();
    auto facts = parse_facts(*text, path);
    if (facts) mark_unreported_probes_unknown(*facts, path);
    return facts;
}

void mark_unreported_probes_unknown(Facts& facts, const std::string& origin)
{
    for (const CatalogueEntry& entry : fact_catalogue()) {
        const auto status = facts.probes().find(std::string(entry.probe));
        if (status != facts.probes().end() && status->second.state != ProbeState::failed &&
            status->second.state != ProbeState::not_run) {
            continue;
        }
        const std::string pattern(entry.pattern);
        if (facts.unknown().contains(pattern)) continue;
        facts.mark_unknown(
            pattern, status == facts.probes().end()
                         ? fmt::format("'{}' carries no status for the {} probe, so what it did not record is "
                                       "unknown (collect the file with `halo-check facts`)",
                                       origin, entry.probe)
                         : fmt::format("the {} probe {} when '{}' was collected", entry.probe,
                                       status->second.state == ProbeState::failed ? "failed" : "did not run", origin));
    }
}

nlohmann::ordered_json facts_to_json(const Facts& facts)
{
    nlohmann::ordered_json root;
    root["snapshot"] = {{"taken", facts.snapshot.taken},
                        {"host", facts.snapshot.host},
                        {"halo_check_version", facts.snapshot.halo_check_version}};
    // The keys come sorted and unique: appended, not looked up (an ordered_json object finds
    // a key by a linear search, which made thousands of images' facts quadratic).
    nlohmann::ordered_json values = nlohmann::ordered_json::object();
    nlohmann::ordered_json sources = nlohmann::ordered_json::object();
    nlohmann::ordered_json unknown = nlohmann::ordered_json::object();
    auto& value_list = values.get_ref<nlohmann::ordered_json::object_t&>();
    auto& source_list = sources.get_ref<nlohmann::ordered_json::object_t&>();
    for (const auto& [key, fact] : facts.all()) {
        value_list.emplace_back(key, fact.value);
        if (!fact.source.empty()) source_list.emplace_back(key, fact.source);
    }
    auto& unknown_list = unknown.get_ref<nlohmann::ordered_json::object_t&>();
    for (const auto& [pattern, reason] : facts.unknown()) unknown_list.emplace_back(pattern, reason);
    root["facts"] = std::move(values);
    root["sources"] = std::move(sources);
    root["unknown"] = std::move(unknown);
    root["probes"] = nlohmann::ordered_json::object();
    for (const auto& [name, status] : facts.probes()) {
        root["probes"][name] = {{"status", std::string(to_string(status.state))},
                                {"reason", status.reason},
                                {"elapsed_ms", status.elapsed_ms}};
    }
    return root;
}

std::string serialize_facts(const Facts& facts, FactsFormat format)
{
    if (format == FactsFormat::json) {
        // Invalid UTF-8 from a probe must not make the dump throw: replace it.
        return facts_to_json(facts).dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
    }
    toml::table snapshot;
    snapshot.insert("taken", facts.snapshot.taken);
    snapshot.insert("host", facts.snapshot.host);
    snapshot.insert("halo_check_version", facts.snapshot.halo_check_version);
    toml::table values, sources, unknown, probes;
    for (const auto& [key, fact] : facts.all()) {
        values.insert(key, fact.value);
        if (!fact.source.empty()) sources.insert(key, fact.source);
    }
    for (const auto& [pattern, reason] : facts.unknown()) unknown.insert(pattern, reason);
    for (const auto& [name, status] : facts.probes()) {
        toml::table entry;
        entry.insert("status", std::string(to_string(status.state)));
        entry.insert("reason", status.reason);
        entry.insert("elapsed_ms", status.elapsed_ms);
        probes.insert(name, std::move(entry));
    }
    // Sections written by hand so their order reads top-down: snapshot, facts, the rest.
    std::ostringstream out;
    auto section = [&](const char* name, const toml::table& table) { out << '[' << name << "]\n" << table << "\n\n"; };
    section("snapshot", snapshot);
    section("facts", values);
    section("sources", sources);
    section("unknown", unknown);
    out << "[probes]\n";
    for (const auto& [name, entry] : probes) {
        out << "\n[probes." << name.str() << "]\n" << *entry.as_table() << "\n";
    }
    return out.str();
}

} // namespace halo::rules
