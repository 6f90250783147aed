#include "common/toml.hpp"

#include "common/toml_guard.hpp"

#include <fmt/core.h>

namespace halo {

Result<toml::table> parse_toml(std::string_view text, std::string_view origin)
{
    auto guarded = prepare_toml_input(text, origin);
    if (!guarded) return guarded.error();
    toml::table root;
    try {
        root = toml::parse(*guarded, origin);
    } catch (const toml::parse_error& e) {
        return Error{fmt::format("{}: {}; fix the TOML syntax", toml_where(origin, e.source()), e.description())};
    }
    restore_toml_strings(root);
    return root;
}

std::string toml_where(std::string_view origin, const toml::source_region& region)
{
    return fmt::format("{}:{}:{}", origin, region.begin.line, region.begin.column);
}

} // namespace halo
