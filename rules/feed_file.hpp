#pragma once
// A knowledge feed: one rules file (docs/rules.md) with a [feed] table saying which feed, which
// version (only goes up), when it was published, when it expires and the oldest halo-check that
// understands it (docs/feed.md). Reading it is pure; verifying its signature is feed/'s job.

#include "common/result.hpp"
#include "rules/rule_file.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace halo::rules {

struct FeedHeader {
    std::string name;
    std::int64_t version = 0;
    std::chrono::sys_seconds published{};
    std::chrono::sys_seconds expires{};
    std::string min_halo_check; // "0.1.0"
};

struct FeedFile {
    FeedHeader header;
    RulesFile rules; // the entries, with every diagnostic
};

// The [feed] table; an error "origin:line:col: what" for a missing or malformed field.
Result<FeedHeader> parse_feed_header(std::string_view text, const std::string& origin);

// The header and the entries (linted when `lint`). An error only when the header is unusable;
// invalid entries are in `rules.diagnostics`.
Result<FeedFile> parse_feed(std::string_view text, const std::string& origin, bool lint = true);

// Whether this client (its version) understands a feed that asks for `min_halo_check`.
bool feed_fits_client(const FeedHeader& header, std::string_view client_version);

// "2026-12-01T00:00:00Z"
std::string format_utc(std::chrono::sys_seconds when);

} // namespace halo::rules
