#include "rules/feed_file.hpp"

#include "common/toml.hpp"
#include "rules/version.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace halo::rules {

namespace {

constexpr std::string_view k_feed_fields[] = {"name", "version", "published", "expires", "min_halo_check"};

Error field_error(const std::string& origin, const toml::source_region& at, const std::string& what)
{
    return Error{fmt::format("{}: [feed] {}", toml_where(origin, at), what)};
}

Result<std::chrono::sys_seconds> date_time_field(const toml::table& feed, std::string_view key,
                                                 const std::string& origin)
{
    const toml::node* node = feed.get(key);
    if (!node)
        return field_error(origin, feed.source(), fmt::format("lacks '{}' (a date-time: 2026-12-01T00:00:00Z)", key));
    const auto* value = node->as_date_time();
    if (!value || !value->get().offset)
        return field_error(origin, node->source(),
                           fmt::format("'{}' must be a date-time with a time zone (2026-12-01T00:00:00Z)", key));
    const toml::date_time& dt = value->get();
    using namespace std::chrono;
    const sys_days day = year{dt.date.year} / month{dt.date.month} / std::chrono::day{dt.date.day};
    const sys_seconds local = day + hours{dt.time.hour} + minutes{dt.time.minute} + seconds{dt.time.second};
    return local - minutes{dt.offset->minutes};
}

} // namespace

Result<FeedHeader> parse_feed_header(std::string_view text, const std::string& origin)
{
    auto root = parse_toml(text, origin);
    if (!root) return root.error();
    const toml::node* node = root->get("feed");
    if (!node || !node->is_table())
        return Error{fmt::format("{}: not a feed: it has no [feed] table (name, version, published, expires, "
                                 "min_halo_check); see docs/feed.md",
                                 origin)};
    const toml::table& feed = *node->as_table();
    for (const auto& [key, value] : feed) {
        if (std::find(std::begin(k_feed_fields), std::end(k_feed_fields), key.str()) == std::end(k_feed_fields))
            return field_error(origin, key.source(), fmt::format("unknown field '{}'", key.str()));
    }
    FeedHeader header;
    const auto* name = feed.get_as<std::string>("name");
    if (!name || name->get().empty()) return field_error(origin, feed.source(), "lacks 'name' (a string)");
    header.name = name->get();
    const auto* version = feed.get_as<std::int64_t>("version");
    if (!version || version->get() < 1)
        return field_error(origin, feed.source(), "lacks 'version' (an integer from 1, one higher each release)");
    header.version = version->get();
    auto published = date_time_field(feed, "published", origin);
    if (!published) return published.error();
    auto expires = date_time_field(feed, "expires", origin);
    if (!expires) return expires.error();
    if (*expires <= *published) return field_error(origin, feed.source(), "'expires' is not after 'published'");
    header.published = *published;
    header.expires = *expires;
    const auto* min = feed.get_as<std::string>("min_halo_check");
    if (!min || min->get().empty())
        return field_error(origin, feed.source(), "lacks 'min_halo_check' (the oldest halo-check release it is for)");
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
