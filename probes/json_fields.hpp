#pragma once
// The named fields of JSON objects, pulled with nlohmann's SAX interface instead of a DOM: a
// document costs the fields kept, not ~70 times its size (a DOM node per value), and nesting is
// refused past a depth limit before it costs anything. Used for podman's storage files
// (probes/containers_storage.hpp), which come from another program and may be anything.
//
// Only the fields of the record level are kept: the top-level object, or each object of a
// top-level array. A string field keeps the last string given for its key (a non-string value
// clears it, as a DOM lookup would find no string); a list field keeps the strings of the last
// array given for its key. Everything else is skipped as it streams past.

#include "common/result.hpp"

#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace halo::probes {

struct JsonFields {
    std::map<std::string, std::string, std::less<>> strings;
    std::map<std::string, std::vector<std::string>, std::less<>> lists;

    // "" / {} when absent.
    std::string string(std::string_view key) const;
    std::vector<std::string> list(std::string_view key) const;
};

struct JsonFieldsWanted {
    std::span<const std::string_view> strings;
    std::span<const std::string_view> lists;
};

struct JsonFieldsLimits {
    std::size_t max_depth = 32;       // podman's files nest 4 deep
    std::size_t max_records = 10'000; // objects of a top-level array
};

// `what` names the document in errors ("images.json is not valid JSON: …").
Result<std::vector<JsonFields>> json_array_fields(std::string_view text, std::string_view what,
                                                  const JsonFieldsWanted& wanted, const JsonFieldsLimits& limits = {});
Result<JsonFields> json_object_fields(std::string_view text, std::string_view what, const JsonFieldsWanted& wanted,
                                      const JsonFieldsLimits& limits = {});

} // namespace halo::probes
