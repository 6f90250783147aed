#include "probes/json_fields.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <utility>

namespace halo::probes {

namespace {

using nlohmann::json;

bool named(std::span<const std::string_view> names, std::string_view key)
{
    return std::find(names.begin(), names.end(), key) != names.end();
}

// The SAX handler: depth counts the open containers; the record's own fields sit at
// `m_record_depth` (1 for a top-level object, 2 for the objects of a top-level array).
class FieldsSax {
public:
    FieldsSax(bool array_of_records, std::string_view what, const JsonFieldsWanted& wanted,
              const JsonFieldsLimits& limits)
        : m_array(array_of_records), m_record_depth(array_of_records ? 2 : 1), m_what(what), m_wanted(wanted),
          m_limits(limits)
    {}

    bool null() { return scalar(nullptr); }
    bool boolean(bool) { return scalar(nullptr); }
    bool number_integer(json::number_integer_t) { return scalar(nullptr); }
    bool number_unsigned(json::number_unsigned_t) { return scalar(nullptr); }
    bool number_float(json::number_float_t, const json::string_t&) { return scalar(nullptr); }
    bool string(json::string_t& value) { return scalar(&value); }
    bool binary(json::binary_t&) { return scalar(nullptr); }
    bool start_object(std::size_t) { return open(true); }
    bool end_object() { return close(); }
    bool start_array(std::size_t) { return open(false); }
    bool end_array() { return close(); }
    bool key(json::string_t& key)
    {
        if (m_depth == m_record_depth) m_key = std::move(key);
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e)
    {
        if (m_error.empty()) m_error = fmt::format("{} is not valid JSON: {}", m_what, e.what());
        return false;
    }

    const std::string& error() const { return m_error; }
    std::vector<JsonFields>& records() { return m_records; }

private:
    bool fail(std::string message)
    {
        m_error = std::move(message);
        return false;
    }

    bool shape_error() { return fail(fmt::format("{} is not a JSON {}", m_what, m_array ? "array" : "object")); }

    bool scalar(json::string_t* value)
    {
        if (m_depth == 0) return shape_error();
        if (m_array && m_depth == 1) return fail(fmt::format("{} holds an entry that is not an object", m_what));
        if (m_depth == m_record_depth) {
            if (named(m_wanted.strings, m_key)) {
                if (value) m_current.strings[m_key] = std::move(*value);
                else m_current.strings.erase(m_key);
            }
            if (named(m_wanted.lists, m_key)) m_current.lists[m_key].clear();
        } else if (m_in_list && m_depth == m_record_depth + 1 && value) {
            m_current.lists[m_key].push_back(std::move(*value));
        }
        return true;
    }

    bool open(bool object)
    {
        if (m_depth >= m_limits.max_depth)
            return fail(fmt::format("{} is nested deeper than {} levels", m_what, m_limits.max_depth));
        if (m_depth == 0 && object == m_array) return shape_error();
        if (m_array && m_depth == 1 && !object)
            return fail(fmt::format("{} holds an entry that is not an object", m_what));
        if (m_depth == m_record_depth - 1) {
            if (m_records.size() >= m_limits.max_records)
                return fail(fmt::format("{} holds more than {} entries", m_what, m_limits.max_records));
            m_current = {};
        } else if (m_depth == m_record_depth) {
            if (named(m_wanted.strings, m_key)) m_current.strings.erase(m_key);
            if (named(m_wanted.lists, m_key)) {
                m_current.lists[m_key].clear();
                m_in_list = !object;
            }
        }
        ++m_depth;
        return true;
    }

    bool close()
    {
        --m_depth;
        if (m_depth == m_record_depth) m_in_list = false;
        if (m_depth == m_record_depth - 1) m_records.push_back(std::move(m_current));
        return true;
    }

    const bool m_array;
    const std::size_t m_record_depth;
    const std::string_view m_what;
    const JsonFieldsWanted& m_wanted;
    const JsonFieldsLimits& m_limits;
    std::size_t m_depth = 0;
    std::string m_key;
    bool m_in_list = false;
    JsonFields m_current;
    std::vector<JsonFields> m_records;
    std::string m_error;
};

Result<std::vector<JsonFields>> parse(bool array, std::string_view text, std::string_view what,
                                      const JsonFieldsWanted& wanted, const JsonFieldsLimits& limits)
{
    FieldsSax sax(array, what, wanted, limits);
    const bool ok = json::sax_parse(text.begin(), text.end(), &sax);
    if (!ok || !sax.error().empty()) {
        if (sax.error().empty()) return Error{fmt::format("{} is not valid JSON", what)};
        return Error{sax.error()};
    }
    return std::move(sax.records());
}

} // namespace

std::string JsonFields::string(std::string_view key) const
{
    auto it = strings.find(key);
    return it == strings.end() ? std::string{} : it->second;
}

std::vector<std::string> JsonFields::list(std::string_view key) const
{
    auto it = lists.find(key);
    return it == lists.end() ? std::vector<std::string>{} : it->second;
}

Result<std::vector<JsonFields>> json_array_fields(std::string_view text, std::string_view what,
                                                  const JsonFieldsWanted& wanted, const JsonFieldsLimits& limits)
{
    return parse(true, text, what, wanted, limits);
}

Result<JsonFields> json_object_fields(std::string_view text, std::string_view what, const JsonFieldsWanted& wanted,
                                      const JsonFieldsLimits& limits)
{
    auto records = parse(false, text, what, wanted, limits);
    if (!records) return records.error();
    if (records->size() != 1) return Error{fmt::format("{} is not a JSON object", what)};
    return std::move(records->front());
}

} // namespace halo::probes
