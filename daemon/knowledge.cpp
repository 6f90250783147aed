#include "daemon/knowledge.hpp"

#include "daemon/feed_store.hpp"

#include <fmt/core.h>

#include <cstdlib>
#include <system_error>

namespace halo::app {

namespace fs = std::filesystem;

fs::path system_state_dir()
{
    if (const char* dir = std::getenv("HALO_SYSTEM_STATE_DIR"); dir && *dir) return dir;
    return "/var/lib/halo-check";
}

namespace {

bool same_directory(const fs::path& a, const fs::path& b)
{
    std::error_code ec;
    if (fs::equivalent(a, b, ec)) return true;
    return a.lexically_normal() == b.lexically_normal();
}

std::optional<FeedInUse> feed_in(const fs::path& state_dir, bool system, std::vector<std::string>& warnings)
{
    if (state_dir.empty()) return std::nullopt;
    auto installed = read_installed_feed(state_dir);
    if (!installed) {
        warnings.push_back(installed.error().message);
        return std::nullopt;
    }
    if (!*installed) return std::nullopt;
    InstalledFeed& feed = **installed;
    FeedInUse use;
    use.version = feed.version;
    use.state_dir = state_dir;
    use.system = system;
    use.origin = system ? fmt::format("feed {} (system, {})", feed.version, state_dir.string())
                        : fmt::format("feed {}", feed.version);
    auto header = rules::parse_feed_header(feed.text, use.origin);
    if (!header) {
        warnings.push_back(header.error().message +
                           "; the embedded knowledge is used instead; run 'halo-check update'");
        return std::nullopt;
    }
    use.header = std::move(*header);
    use.text = std::move(feed.text);
    return use;
}

} // namespace

InstalledKnowledge find_installed_knowledge(const fs::path& own, const fs::path& system)
{
    InstalledKnowledge out;
    std::optional<FeedInUse> mine = feed_in(own, false, out.warnings);
    std::optional<FeedInUse> theirs;
    if (!system.empty() && (own.empty() || !same_directory(own, system))) theirs = feed_in(system, true, out.warnings);
    if (mine && theirs) out.feed = theirs->version > mine->version ? std::move(theirs) : std::move(mine);
    else if (mine) out.feed = std::move(mine);
    else out.feed = std::move(theirs);
    return out;
}

std::optional<rules::Rule> feed_expired_rule(const rules::FeedHeader& header, std::string_view origin,
                                             std::chrono::sys_seconds now)
{
    if (header.expires > now) return std::nullopt;
    const auto days = std::chrono::floor<std::chrono::days>(now - header.expires).count();
    rules::Rule rule;
    rule.id = "feed.expired";
    rule.severity = rules::Severity::warning;
    rule.title =
        fmt::format("The knowledge feed (feed {}) expired {} day{} ago", header.version, days, days == 1 ? "" : "s");
    rule.explain = fmt::format("The installed knowledge feed expired at {}. It is still used, as the last good "
                               "knowledge, but advice changes every few weeks: this verdict may miss what is "
                               "known now.",
                               rules::format_utc(header.expires));
    rule.fix = "Run `sudo halo-check update` (or check halo-check-update.timer: `systemctl status "
               "halo-check-update.timer`).";
    rule.since = rules::format_utc(header.expires).substr(0, 10);
    rule.where = {std::string(origin), 0, 0};
    return rule;
}

Knowledge load_knowledge(rules::RuleSources sources, InstalledKnowledge installed, std::chrono::sys_seconds now)
{
    sources.feed.reset();
    // The text moves: a feed is megabytes, and nothing reads it after the load.
    if (installed.feed) sources.feed = rules::FeedSource{std::move(installed.feed->text), installed.feed->origin};
    Knowledge out{rules::load_rules(sources), std::move(installed)};
    if (out.installed.feed && !out.loaded.has_errors()) {
        // No conditions: it holds on every machine, for every backend, until a current feed is installed.
        if (auto expired = feed_expired_rule(out.installed.feed->header, out.installed.feed->origin, now))
            out.loaded.rules.rules.push_back(std::move(*expired));
    }
    return out;
}

std::string knowledge_line(const InstalledKnowledge& installed, std::string_view embedded_date,
                           std::chrono::sys_seconds now)
{
    if (!installed.feed) return fmt::format("embedded {}", embedded_date.empty() ? "undated" : embedded_date);
    const FeedInUse& f = *installed.feed;
    return fmt::format("feed {}{} (published {}, expires {}{})", f.version,
                       f.system ? fmt::format(" from {}", f.state_dir.string()) : std::string(),
                       rules::format_utc(f.header.published).substr(0, 10),
                       rules::format_utc(f.header.expires).substr(0, 10), f.header.expires <= now ? ": expired" : "");
}

nlohmann::ordered_json knowledge_json(const InstalledKnowledge& installed, std::string_view embedded_date,
                                      std::chrono::sys_seconds now)
{
    using json = nlohmann::ordered_json;
    json out;
    out["source"] = installed.feed ? "feed" : "embedded";
    out["embedded_date"] = std::string(embedded_date);
    if (!installed.feed) {
        out["feed_version"] = nullptr;
        out["published"] = nullptr;
        out["expires"] = nullptr;
        out["expired"] = false;
        out["state_dir"] = nullptr;
        return out;
    }
    const FeedInUse& f = *installed.feed;
    out["feed_version"] = f.version;
    out["published"] = rules::format_utc(f.header.published);
    out["expires"] = rules::format_utc(f.header.expires);
    out["expired"] = f.header.expires <= now;
    out["state_dir"] = f.state_dir.string();
    return out;
}

std::string feed_version_line(const InstalledKnowledge& installed)
{
    if (!installed.feed) return "knowledge feed: none installed (embedded knowledge only)";
    const FeedInUse& f = *installed.feed;
    return fmt::format("knowledge feed: {} ({}, published {}, expires {}){}", f.version, f.header.name,
                       rules::format_utc(f.header.published), rules::format_utc(f.header.expires),
                       f.system ? fmt::format(", installed in {}", f.state_dir.string()) : std::string());
}

std::chrono::sys_seconds now_seconds()
{
    return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

} // namespace halo::app
