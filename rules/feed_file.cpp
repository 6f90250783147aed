#include "rules/feed_file.hpp"

#include "common/toml.hpp"
#include "rules/rule_file_pieces.hpp"
#include "rules/version.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace halo::rules {

namespace {

constexpr std::string_view k_feed_fields[] = {"name", "version", "published", "expires", "min_halo_check"};

// Where a node of the [feed] table begins: `origin:line:col`, the line counted in the whole
// document though the table was parsed from a piece of it.
struct FeedWhere {
    std::string_view origin;
    std::size_t first_line = 1; // of the piece the table was parsed from
};

Error field_error(const FeedWhere& where, const toml::source_region& at, const std::string& what)
{
    return Error{
        fmt::format("{}:{}:{}: [feed] {}", where.origin, at.begin.line + where.first_line - 1, at.begin.column, what)};
}

Result<std::chrono::sys_seconds> date_time_field(const toml::table& feed, std::string_view key, const FeedWhere& where)
{
    const toml::node* node = feed.get(key);
    if (!node)
        return field_error(where, feed.source(), fmt::format("lacks '{}' (a date-time: 2026-12-01T00:00:00Z)", key));
    const auto* value = node->as_date_time();
    if (!value || !value->get().offset)
        return field_error(where, node->source(),
                           fmt::format("'{}' must be a date-time with a time zone (2026-12-01T00:00:00Z)", key));
    const toml::date_time& dt = value->get();
    using namespace std::chrono;
    const sys_days day = year{dt.date.year} / month{dt.date.month} / std::chrono::day{dt.date.day};
    const sys_seconds local = day + hours{dt.time.hour} + minutes{dt.time.minute} + seconds{dt.time.second};
    return local - minutes{dt.offset->minutes};
}

// The document's top level as far as its [feed] table: a feed's header comes before its
// thousands of entries, and they need not be parsed to read it. The whole document when a piece
// does not parse, so that the error names the right line.
struct TopLevel {
    toml::table root;
    std::size_t first_line = 1;
};

Result<TopLevel> read_until_feed_table(std::string_view text, const std::string& origin)
{
    auto guarded = GuardedToml::guard(text, origin);
    if (!guarded) return guarded.error();
    for (const TextPiece& piece : split_at_entry_headers(guarded->text(), k_entry_kinds)) {
        auto root = guarded->parse(piece.text);
        if (!root) break;
        if (root->contains("feed")) return TopLevel{std::move(*root), piece.first_line};
    }
    auto root = guarded->parse(guarded->text());
    if (!root) return root.error();
    return TopLevel{std::move(*root), 1};
}

} // namespace

Result<FeedHeader> parse_feed_header(std::string_view text, const std::string& origin)
{
    auto top = read_until_feed_table(text, origin);
    if (!top) return top.error();
    const FeedWhere where{origin, top->first_line};
    const toml::node* node = top->root.get("feed");
    if (!node || !node->is_table())
        return Error{fmt::format("{}: not a feed: it has no [feed] table (name, version, published, expires, "
                                 "min_halo_check); see docs/feed.md",
                                 origin)};
    const toml::table& feed = *node->as_table();
    for (const auto& [key, value] : feed) {
        if (std::find(std::begin(k_feed_fields), std::end(k_feed_fields), key.str()) == std::end(k_feed_fields))
            return field_error(where, key.source(), fmt::format("unknown field '{}'", key.str()));
    }
    FeedHeader header;
    const auto* name = feed.get_as<std::string>("name");
    if (!name || name->get().empty()) return field_error(where, feed.source(), "lacks 'name' (a string)");
    header.name = name->get();
    const auto* version = feed.get_as<std::int64_t>("version");
    if (!version || version->get() < 1)
        return field_error(where, feed.source(), "lacks 'version' (an integer from 1, one higher each release)");
    header.version = version->get();
    auto published = date_time_field(feed, "published", where);
    if (!published) return published.error();
    auto expires = date_time_field(feed, "expires", where);
    if (!expires) return expires.error();
    if (*expires <= *published) return field_error(where, feed.source(), "'expires' is not after 'published'");
    header.published = *published;
    header.expires = *expires;
    const auto* min = feed.get_as<std::string>("min_halo_check");
    if (!min || min->get().empty())
        return field_error(where, feed.source(), "lacks 'min_halo_check' (the oldest halo-check release it is for)");
    header.min_halo_check = min->get();
    return header;
}

Result<FeedFile> parse_feed(std::string_view text, const std::string& origin, bool lint)
{
    auto header = parse_feed_header(text, origin);
    if (!header) return header.error();
    return FeedFile{std::move(*header), parse_rules_file(text, origin, lint, "feed")};
}

bool feed_fits_client(const FeedHeader& header, std::string_view client_version)
{
    return rpm_vercmp(header.min_halo_check, client_version) <= 0;
}

std::string format_utc(std::chrono::sys_seconds when)
{
    using namespace std::chrono;
    const sys_days day = floor<days>(when);
    const year_month_day ymd{day};
    const hh_mm_ss<seconds> time{when - day};
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", static_cast<int>(ymd.year()),
                       static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()), time.hours().count(),
                       time.minutes().count(), time.seconds().count());
}

} // namespace halo::rules
