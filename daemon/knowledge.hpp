#pragma once
// The knowledge every verdict is judged with, loaded in one place for `check`, `run`, `export`,
// `rules list` and halo-checkd (docs/feed.md):
//
//   - the embedded knowledge base (the floor);
//   - the newest whole feed installed in the caller's state directory or the system's
//     (/var/lib/halo-check, where halo-check-update.timer installs it), so the timer's
//     knowledge reaches every user; on a tie the caller's own;
//   - the `feed.expired` warning, a rule with no conditions, while that feed has expired.

#include "rules/feed_file.hpp"
#include "rules/rule_loader.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace halo::app {

struct FeedInUse {
    std::int64_t version = 0;
    rules::FeedHeader header;
    std::filesystem::path state_dir; // where it is installed
    bool system = false;             // the system's state directory, not the caller's
    std::string text;
    std::string origin; // "feed 7", or "feed 7 (system, /var/lib/halo-check)": rules list's origin
};

struct InstalledKnowledge {
    std::optional<FeedInUse> feed;     // none: the embedded knowledge alone
    std::vector<std::string> warnings; // installed feeds that could not be used, and why
};

// /var/lib/halo-check, or $HALO_SYSTEM_STATE_DIR when set (tests, and layouts that move it).
std::filesystem::path system_state_dir();

// The newest usable feed installed in `own` (the caller's state directory; may be empty) or in
// `system`. A feed that cannot be read or whose [feed] table does not parse is skipped, with a
// warning.
InstalledKnowledge find_installed_knowledge(const std::filesystem::path& own, const std::filesystem::path& system);

struct Knowledge {
    rules::LoadedRules loaded;
    InstalledKnowledge installed;
};

// Loads `sources` over the installed feed (sources.feed is replaced by it; the returned
// installed.feed->text is empty, moved into the load) and, when that feed
// expired before `now`, adds the `feed.expired` warning to the rules: it then applies wherever
// the rules are judged.
Knowledge load_knowledge(rules::RuleSources sources, InstalledKnowledge installed, std::chrono::sys_seconds now);

// The `feed.expired` warning when `feed` expired before `now`: an expired feed is still used
// (it is the last good knowledge), and says so. Never broken.
std::optional<rules::Rule> feed_expired_rule(const rules::FeedHeader& header, std::string_view origin,
                                             std::chrono::sys_seconds now);

// What a report's header says the knowledge is: "feed 7 (published 2026-11-30, expires
// 2027-01-01)" or "embedded 2026-12-01"; "(expired)" after an expired feed's date.
std::string knowledge_line(const InstalledKnowledge& installed, std::string_view embedded_date,
                           std::chrono::sys_seconds now);

// The same for JSON: {"source": "feed"|"embedded", "feed_version", "published", "expires",
// "expired", "state_dir"} (null fields for the embedded knowledge).
nlohmann::ordered_json knowledge_json(const InstalledKnowledge& installed, std::string_view embedded_date,
                                      std::chrono::sys_seconds now);

// --version's line: "knowledge feed: 12 (NAME, published …, expires …)" or "knowledge feed: none
// installed (embedded knowledge only)".
std::string feed_version_line(const InstalledKnowledge& installed);

std::chrono::sys_seconds now_seconds();

} // namespace halo::app
