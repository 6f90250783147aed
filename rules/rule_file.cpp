#include "rules/rule_file.hpp"

#include "common/spelling.hpp"
#include "common/toml.hpp"
#include "rules/fact_catalogue.hpp"
#include "rules/log_title.hpp"
#include "rules/rule_file_pieces.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <memory>
#include <regex>
#include <span>
#include <unordered_map>
#include <unordered_set>

namespace halo::rules {

namespace {

constexpr std::string_view k_rule_fields[] = {"id",    "severity", "title", "explain", "fix",
                                              "links", "since",    "when",  "unless"};
constexpr std::string_view k_known_good_fields[] = {"id", "title", "explain", "links", "since", "when"};
constexpr std::string_view k_log_pattern_fields[] = {"id",  "regex", "severity", "title", "explain",
                                                     "fix", "links", "since",    "when",  "source"};

// Collects diagnostics for one file; each message starts with file:line:col.
class FileParser {
public:
    FileParser(const std::string& origin, RulesFile& out, bool lint, std::string_view own_table)
        : m_origin(origin), m_out(out), m_lint(lint), m_own_table(own_table)
    {}

    void error(const toml::source_region& at, const std::string& what)
    {
        ++m_errors;
        m_out.diagnostics.push_back({Diagnostic::Level::error, fmt::format("{}: {}", location(at).str(), what)});
    }
    void warning(const toml::source_region& at, const std::string& what)
    {
        m_out.diagnostics.push_back({Diagnostic::Level::warning, fmt::format("{}: {}", location(at).str(), what)});
    }

    void reserve(std::size_t entries)
    {
        m_out.entries.rules.reserve(entries);
        m_ids.reserve(entries);
    }

    // `first_line`: the line of the whole file that the parsed piece starts at.
    void parse(const toml::table& root, std::size_t first_line = 1)
    {
        m_line_offset = static_cast<int>(first_line) - 1;
        for (const auto& [key, node] : root) {
            const std::string_view name = key.str();
            if (!m_own_table.empty() && name == m_own_table) continue;
            if (std::find(std::begin(k_entry_kinds), std::end(k_entry_kinds), name) == std::end(k_entry_kinds)) {
                std::string message = fmt::format("unknown entry '{}' (expected [[rule]], [[known_good]], "
                                                  "[[log_pattern]] or [[disable]])",
                                                  name);
                error(node.source(), message);
                continue;
            }
            const toml::array* entries = node.as_array();
            if (!entries || !entries->is_array_of_tables()) {
                error(node.source(), fmt::format("'{}' must be an array of tables: write [[{}]]", name, name));
                continue;
            }
            if (name == "rule" && entries->size() > 1) {
                m_out.entries.rules.reserve(m_out.entries.rules.size() + entries->size());
                m_ids.reserve(m_ids.size() + entries->size());
            }
            for (const toml::node& entry : *entries) {
                const toml::table& table = *entry.as_table();
                if (name == "rule") parse_rule(table);
                else if (name == "known_good") parse_known_good(table);
                else if (name == "log_pattern") parse_log_pattern(table);
                else parse_disable(table);
            }
        }
    }

private:
    SourceLocation location(const toml::source_region& region) const
    {
        return {m_origin, static_cast<int>(region.begin.line) + m_line_offset, static_cast<int>(region.begin.column)};
    }

    std::optional<std::string> string_field(const toml::table& t, std::string_view key, const std::string& what,
                                            bool required)
    {
        const toml::node* node = t.get(key);
        if (!node) {
            if (required) error(t.source(), fmt::format("{}: missing '{}'", what, key));
            return std::nullopt;
        }
        if (auto s = node->as_string()) return std::string(s->get());
        error(node->source(), fmt::format("{}: '{}' must be a string", what, key));
        return std::nullopt;
    }

    std::string since_field(const toml::table& t, const std::string& what)
    {
        const toml::node* node = t.get("since");
        if (!node) {
            warning(t.source(),
                    fmt::format("{}: no 'since' date; say when this knowledge dates from (since = 2026-01-12)", what));
            return {};
        }
        if (auto d = node->as_date())
            return fmt::format("{:04}-{:02}-{:02}", d->get().year, d->get().month, d->get().day);
        if (auto s = node->as_string()) {
            const std::string& text = s->get();
            if (text.size() == 10 && text[4] == '-' && text[7] == '-') return text;
        }
        error(node->source(), fmt::format("{}: 'since' must be a date (since = 2026-01-12)", what));
        return {};
    }

    std::vector<std::string> links_field(const toml::table& t, const std::string& what, bool want)
    {
        std::vector<std::string> links;
        const toml::node* node = t.get("links");
        if (!node) {
            if (want) warning(t.source(), fmt::format("{}: no 'links'; cite the source of this knowledge", what));
            return links;
        }
        const toml::array* array = node->as_array();
        if (!array) {
            error(node->source(), fmt::format("{}: 'links' must be an array of strings", what));
            return links;
        }
        for (const toml::node& link : *array) {
            if (auto s = link.as_string()) links.emplace_back(s->get());
            else error(link.source(), fmt::format("{}: 'links' must hold strings", what));
        }
        return links;
    }

    void check_fields(const toml::table& t, std::span<const std::string_view> allowed, const std::string& what)
    {
        std::vector<std::string> names(allowed.begin(), allowed.end());
        for (const auto& [key, node] : t) {
            if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end()) continue;
            std::string message = fmt::format("{}: unknown field '{}'", what, key.str());
            if (auto guess = nearest(key.str(), names)) message += fmt::format(", did you mean '{}'?", *guess);
            error(node.source(), message);
        }
    }

    std::optional<Matcher> parse_condition_value(const toml::node& value, const std::string& what, std::string_view key)
    {
        const std::string context = fmt::format("{}: condition '{}'", what, key);
        if (auto s = value.as_string()) {
            auto m = parse_matcher(s->get());
            if (!m) {
                error(value.source(), fmt::format("{}: {}", context, m.error().message));
                return std::nullopt;
            }
            if (m->kind == Matcher::Kind::glob || m->kind == Matcher::Kind::not_glob) {
                if (const std::string meant = misspelt_comparison(m->pattern); !meant.empty()) {
                    warning(value.source(), fmt::format("{}: \"{}\" is a glob that can never match a version; did "
                                                        "you mean \"{}\"?",
                                                        context, s->get(), meant));
                }
            }
            return std::move(*m);
        }
        if (value.is_integer() || value.is_boolean() || value.is_floating_point()) {
            Matcher m;
            m.kind = Matcher::Kind::glob;
            m.pattern = value.is_boolean()   ? (value.as_boolean()->get() ? "true" : "false")
                        : value.is_integer() ? std::to_string(value.as_integer()->get())
                                             : fmt::format("{}", value.as_floating_point()->get());
            return m;
        }
        if (auto array = value.as_array()) {
            Matcher any;
            any.kind = Matcher::Kind::any_of;
            for (const toml::node& element : *array) {
                if (element.is_array() || element.is_table()) {
                    error(element.source(), fmt::format("{}: an array holds strings only", context));
                    return std::nullopt;
                }
                auto m = parse_condition_value(element, what, key);
                if (!m) return std::nullopt;
                any.alternatives.push_back(std::move(*m));
            }
            if (any.alternatives.empty()) {
                error(value.source(), fmt::format("{}: an empty array matches nothing", context));
                return std::nullopt;
            }
            return any;
        }
        if (auto table = value.as_table()) {
            const toml::node* none = table->get("none");
            if (table->size() != 1 || !none || !none->is_array()) {
                error(value.source(), fmt::format("{}: a table condition must be {{ none = [\"glob\", …] }}", context));
                return std::nullopt;
            }
            Matcher m;
            m.kind = Matcher::Kind::none_of;
            for (const toml::node& element : *none->as_array()) {
                auto s = element.as_string();
                if (!s) {
                    error(element.source(), fmt::format("{}: 'none' holds glob strings only", context));
                    return std::nullopt;
                }
                Matcher glob;
                glob.kind = Matcher::Kind::glob;
                glob.pattern = s->get();
                m.alternatives.push_back(std::move(glob));
            }
            return m;
        }
        error(value.source(), fmt::format("{}: must be a string, an array of strings or {{ none = [...] }}", context));
        return std::nullopt;
    }

    std::vector<Condition> when_field(const toml::table& t, const std::string& what, bool required,
                                      std::string_view field = "when")
    {
        std::vector<Condition> conditions;
        const toml::node* node = t.get(field);
        if (!node) {
            if (required) {
                error(t.source(), fmt::format("{}: missing 'when'; an entry without conditions would match every "
                                              "machine",
                                              what));
            }
            return conditions;
        }
        const toml::table* table = node->as_table();
        if (!table) {
            error(node->source(), fmt::format("{}: '{}' must be a table of fact = condition", what, field));
            return conditions;
        }
        if (table->empty() && required) {
            error(node->source(),
                  fmt::format("{}: 'when' is empty; an entry without conditions would match every machine", what));
        } else if (table->empty() && field != "when") {
            error(node->source(), fmt::format("{}: '{}' is empty; remove it or give it a condition", what, field));
        }
        for (const auto& [key, value] : *table) {
            const std::string_view k = key.str();
            if (k.empty() || k.front() == '.' || k.back() == '.' || k.find("..") != std::string_view::npos) {
                error(value.source(),
                      fmt::format("{}: '{}' is not a fact key (dotted segments, e.g. kernel.release)", what, k));
                continue;
            }
            auto matcher = parse_condition_value(value, what, k);
            if (!matcher) continue;
            if (m_lint && !in_catalogue(k)) {
                std::vector<std::string> known;
                for (const CatalogueEntry& e : fact_catalogue()) known.emplace_back(e.pattern);
                std::string message = fmt::format("{}: fact key '{}' is not in the catalogue (docs/facts.md)", what, k);
                if (auto guess = nearest(k, known)) message += fmt::format("; did you mean '{}'?", *guess);
                warning(key.source(), message);
            }
            Condition c;
            c.key = std::string(k);
            c.wildcard = k.find('*') != std::string_view::npos;
            c.matcher = std::move(*matcher);
            conditions.push_back(std::move(c));
        }
        return conditions;
    }

    std::optional<std::string> id_field(const toml::table& t, std::string_view kind)
    {
        auto id = string_field(t, "id", fmt::format("[[{}]]", kind), true);
        if (!id) return std::nullopt;
        if (id->empty()) {
            error(t.source(), fmt::format("[[{}]]: 'id' is empty", kind));
            return std::nullopt;
        }
        if (!m_ids.insert(*id).second) {
            error(t.get("id")->source(), fmt::format("{} '{}': duplicate id in this file", kind, *id));
        }
        return id;
    }

    std::optional<Severity> severity_field(const toml::table& t, const std::string& what)
    {
        auto text = string_field(t, "severity", what, true);
        if (!text) return std::nullopt;
        auto severity = severity_from_string(*text);
        if (!severity) {
            error(t.get("severity")->source(),
                  fmt::format("{}: unknown severity '{}' (expected broken, warning or info)", what, *text));
        }
        return severity;
    }

    void parse_rule(const toml::table& t)
    {
        const std::size_t errors_before = error_count();
        auto id = id_field(t, "rule");
        const std::string what = fmt::format("rule '{}'", id.value_or("?"));
        check_fields(t, k_rule_fields, what);
        Rule rule;
        auto severity = severity_field(t, what);
        auto title = string_field(t, "title", what, true);
        rule.explain = string_field(t, "explain", what, false).value_or("");
        auto fix = string_field(t, "fix", what, false);
        if (!fix && severity && *severity != Severity::info) {
            error(t.source(), fmt::format("{}: missing 'fix'; a broken or warning rule must say what to do", what));
        }
        rule.links = links_field(t, what, true);
        rule.since = since_field(t, what);
        rule.when = when_field(t, what, true);
        rule.unless = when_field(t, what, false, "unless");
        if (!id || !severity || !title || error_count() != errors_before) return;
        rule.id = std::move(*id);
        rule.severity = *severity;
        rule.title = std::move(*title);
        rule.fix = fix.value_or("");
        rule.where = location(t.source());
        m_out.entries.rules.push_back(std::move(rule));
    }

    void parse_known_good(const toml::table& t)
    {
        const std::size_t errors_before = error_count();
        auto id = id_field(t, "known_good");
        const std::string what = fmt::format("known_good '{}'", id.value_or("?"));
        check_fields(t, k_known_good_fields, what);
        KnownGood good;
        auto title = string_field(t, "title", what, true);
        good.explain = string_field(t, "explain", what, false).value_or("");
        good.links = links_field(t, what, true);
        good.since = since_field(t, what);
        good.when = when_field(t, what, true);
        if (!id || !title || error_count() != errors_before) return;
        good.id = std::move(*id);
        good.title = std::move(*title);
        good.where = location(t.source());
        m_out.entries.known_good.push_back(std::move(good));
    }

    void parse_log_pattern(const toml::table& t)
    {
        const std::size_t errors_before = error_count();
        auto id = id_field(t, "log_pattern");
        const std::string what = fmt::format("log_pattern '{}'", id.value_or("?"));
        check_fields(t, k_log_pattern_fields, what);
        LogPattern p;
        auto regex = string_field(t, "regex", what, true);
        auto severity = severity_field(t, what);
        auto title = string_field(t, "title", what, true);
        p.explain = string_field(t, "explain", what, false).value_or("");
        p.fix = string_field(t, "fix", what, false).value_or("");
        p.links = links_field(t, what, true);
        p.since = since_field(t, what);
        p.when = when_field(t, what, false);
        if (auto source = string_field(t, "source", what, false)) {
            if (*source == "kernel") p.source = LogSource::kernel;
            else if (*source == "engine") p.source = LogSource::engine;
            else if (*source == "any") p.source = LogSource::any;
            else error(t.get("source")->source(), fmt::format("{}: 'source' must be kernel, engine or any", what));
        }
        if (regex) {
            try {
                p.regex = std::make_shared<const std::regex>(*regex, std::regex::ECMAScript | std::regex::optimize);
            } catch (const std::regex_error& e) {
                error(t.get("regex")->source(), fmt::format("{}: 'regex' does not compile: {}", what, e.what()));
            }
        }
        if (title && p.regex) {
            for (const std::string& problem : title_problems(*title, p.regex->mark_count())) {
                error(t.get("title")->source(), fmt::format("{}: {}", what, problem));
            }
            for (const std::string& key : title_fact_keys(*title)) {
                if (m_lint && !in_catalogue(key)) {
                    warning(t.get("title")->source(),
                            fmt::format("{}: 'title' names fact '{}', which is not in the catalogue (docs/facts.md)",
                                        what, key));
                }
            }
        }
        if (!id || !regex || !severity || !title || error_count() != errors_before) return;
        p.id = std::move(*id);
        p.regex_text = std::move(*regex);
        p.severity = *severity;
        p.title = std::move(*title);
        p.where = location(t.source());
        m_out.entries.log_patterns.push_back(std::move(p));
    }

    void parse_disable(const toml::table& t)
    {
        for (const auto& [key, node] : t) {
            if (key.str() != "id")
                error(node.source(), fmt::format("[[disable]]: unknown field '{}' (only 'id')", key.str()));
        }
        if (auto id = string_field(t, "id", "[[disable]]", true)) m_out.disabled.push_back(std::move(*id));
    }

    // Counted as they are added: each entry asks, and a count over all diagnostics made a
    // file with many warnings quadratic.
    std::size_t error_count() const { return m_errors; }

    const std::string& m_origin;
    RulesFile& m_out;
    bool m_lint;
    std::string_view m_own_table;
    std::unordered_set<std::string> m_ids; // hashed: a feed has thousands of ids
    std::size_t m_errors = 0;
    int m_line_offset = 0;
};

// Whether a parsed piece's top-level names are new, or arrays of tables (from [[name]] headers)
// that extend the same arrays of the pieces before: anything else (a table defined in two
// pieces, an inline array that a header extends) is for the whole document's parse to judge.
bool extends_cleanly(const toml::table& root, std::unordered_map<std::string, bool>& defined)
{
    for (const auto& [key, node] : root) {
        const toml::array* array = node.as_array();
        const bool from_headers =
            array && array->is_array_of_tables() &&
            std::none_of(array->begin(), array->end(), [](const toml::node& n) { return n.as_table()->is_inline(); });
        auto [it, added] = defined.try_emplace(std::string(key.str()), from_headers);
        if (!added && !(it->second && from_headers)) return false;
    }
    return true;
}

// The file read one entry at a time (rules/rule_file_pieces.hpp), or nothing when a piece does
// not parse or does not extend the others cleanly: then the whole document's parse decides, and
// its messages name the right place.
std::optional<RulesFile> parse_in_pieces(const GuardedToml& guarded, const std::string& origin, bool lint,
                                         std::string_view own_table)
{
    const std::vector<TextPiece> pieces = split_at_entry_headers(guarded.text(), k_entry_kinds);
    if (pieces.size() < 2) return std::nullopt;
    RulesFile out;
    FileParser parser(origin, out, lint, own_table);
    parser.reserve(pieces.size());
    std::unordered_map<std::string, bool> defined;
    for (const TextPiece& piece : pieces) {
        auto root = guarded.parse(piece.text);
        if (!root || !extends_cleanly(*root, defined)) return std::nullopt;
        parser.parse(*root, piece.first_line);
    }
    return out;
}

} // namespace

bool RulesFile::has_errors() const
{
    return std::any_of(diagnostics.begin(), diagnostics.end(),
                       [](const Diagnostic& d) { return d.level == Diagnostic::Level::error; });
}

RulesFile parse_rules_file(std::string_view text, const std::string& origin, bool lint, std::string_view own_table)
{
    RulesFile out;
    auto guarded = GuardedToml::guard(text, origin);
    if (!guarded) {
        out.diagnostics.push_back({Diagnostic::Level::error, guarded.error().message});
        return out;
    }
    if (auto pieces = parse_in_pieces(*guarded, origin, lint, own_table)) {
        out = std::move(*pieces);
    } else {
        auto root = guarded->parse(guarded->text());
        if (!root) {
            out.diagnostics.push_back({Diagnostic::Level::error, root.error().message});
            return out;
        }
        FileParser(origin, out, lint, own_table).parse(*root);
    }
    // A file with errors is rejected whole: half a file could disable a rule by omission.
    if (out.has_errors()) {
        out.entries = {};
        out.disabled.clear();
    }
    return out;
}

} // namespace halo::rules
