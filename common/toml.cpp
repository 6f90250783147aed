#include "common/toml.hpp"

#include "common/toml_guard.hpp"

#include <fmt/core.h>

namespace halo {

namespace {

Result<toml::table> parse_guarded(std::string_view guarded, std::string_view origin)
{
    toml::table root;
    try {
        // No source path: every node would hold a counted reference to it, and messages name
        // `origin` themselves.
        root = toml::parse(guarded);
    } catch (const toml::parse_error& e) {
        return Error{fmt::format("{}: {}; fix the TOML syntax", toml_where(origin, e.source()), e.description())};
    }
    restore_toml_strings(root);
    return root;
}

} // namespace

Result<toml::table> parse_toml(std::string_view text, std::string_view origin)
{
    auto guarded = prepare_toml_input(text, origin);
    if (!guarded) return guarded.error();
    return parse_guarded(*guarded, origin);
}

Result<GuardedToml> GuardedToml::guard(std::string_view text, std::string_view origin)
{
    auto guarded = prepare_toml_input(text, origin);
    if (!guarded) return guarded.error();
    return GuardedToml(std::move(*guarded), origin);
}

Result<toml::table> GuardedToml::parse(std::string_view piece) const { return parse_guarded(piece, m_origin); }

std::string toml_where(std::string_view origin, const toml::source_region& region)
{
    return fmt::format("{}:{}:{}", origin, region.begin.line, region.begin.column);
}

} // namespace halo
