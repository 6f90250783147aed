#pragma once
// The installed knowledge feeds in the state directory, and the decision whether a new one may
// replace them (docs/feed.md):
//
//   <state>/feed/feed-N.toml, feed-N.toml.minisig   the last 3 installed versions
//   <state>/feed/current                            "N": the one in use
//   <state>/feed/highest                            "N": the highest ever installed (rollback guard)
//
// Each file is written atomically (stage, fsync, rename); `current` is written only after the
// feed it names is whole on disk, so a reader (or a kill -9 at any moment) sees the old feed or
// the new one, never part of either.

#include "common/result.hpp"
#include "rules/feed_file.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace halo::app {

struct InstalledFeed {
    std::int64_t version = 0;
    std::filesystem::path path;
    std::string text;
};

std::filesystem::path feed_directory(const std::filesystem::path& state_dir);

// The feed in use: nullopt when none is installed; an error when `current` names a feed that
// cannot be read.
Result<std::optional<InstalledFeed>> read_installed_feed(const std::filesystem::path& state_dir);

// The highest version ever installed (0 for none).
std::int64_t highest_installed_version(const std::filesystem::path& state_dir);

// The installed versions, newest first.
std::vector<std::int64_t> installed_versions(const std::filesystem::path& state_dir);

// Installs a verified feed as `version` and makes it current; keeps the 3 newest.
Result<void> install_feed(const std::filesystem::path& state_dir, std::int64_t version, std::string_view text,
                          std::string_view signature);

// Makes the newest installed version below the current one current; its version, or an error
// when there is none.
Result<std::int64_t> rollback_feed(const std::filesystem::path& state_dir);

// What the server said about the feed file it sent, for the next fetch's conditional request
// (If-None-Match, If-Modified-Since): <state>/feed/http-validators. Only for `version` from `url`.
struct FeedValidators {
    std::int64_t version = 0;
    std::string url;
    std::string etag;          // as the server sent it, quotes included
    std::string last_modified; // an HTTP date
};

// The stored validators; nullopt when none are stored or the file is not ours.
std::optional<FeedValidators> read_feed_validators(const std::filesystem::path& state_dir);

// Stores them (atomically); a value with a control character is not stored.
Result<void> write_feed_validators(const std::filesystem::path& state_dir, const FeedValidators& validators);

// Why a verified feed is refused, in the order they are checked.
enum class FeedRefusal { none, version_mismatch, not_for_client, not_newer, expired };

struct FeedCandidate {
    rules::FeedHeader header;
    std::string signed_version; // `version=` from the signature's trusted comment
};

// The pure decision: whether `candidate` may be installed over `highest`, at `now`, by this client.
FeedRefusal judge_feed(const FeedCandidate& candidate, std::int64_t highest, bool allow_downgrade,
                       std::chrono::sys_seconds now, std::string_view client_version);

// The message for a refusal, with what to do.
std::string refusal_message(FeedRefusal refusal, const FeedCandidate& candidate, std::int64_t highest,
                            std::string_view client_version, const std::string& origin);

} // namespace halo::app
