#include "daemon/feed_store.hpp"

#include "common/bounded_read.hpp"
#include "daemon/atomic_file.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <system_error>

namespace halo::app {

namespace {

// A feed is one rules file (docs/feed.md); the same cap as the rule loader's.
constexpr std::size_t k_feed_file_max_bytes = 16U << 20U;

namespace fs = std::filesystem;

constexpr std::size_t k_kept = 3;

fs::path feed_path(const fs::path& dir, std::int64_t version) { return dir / fmt::format("feed-{}.toml", version); }

// The state directory's feed files, written by halo-check update: a link, a FIFO or a device
// there is not one of them. errno says why not.
std::optional<std::string> read_small(const fs::path& path)
{
    auto text = read_bounded_file(path.string(), k_feed_file_max_bytes, Links::refuse);
    if (!text) {
        errno = text.error().errno_value;
        return std::nullopt;
    }
    return std::move(*text);
}

std::int64_t read_number(const fs::path& path)
{
    auto text = read_small(path);
    if (!text) return 0;
    std::int64_t value = 0;
    const char* end = text->data() + text->size();
    auto [ptr, ec] = std::from_chars(text->data(), end, value);
    if (ec != std::errc{} || value < 0) return 0;
    return value;
}

Result<void> write_number(const fs::path& path, std::int64_t value)
{
    return write_file_atomically(path, fmt::format("{}\n", value), 0644);
}

} // namespace

fs::path feed_directory(const fs::path& state_dir) { return state_dir / "feed"; }

Result<std::optional<InstalledFeed>> read_installed_feed(const fs::path& state_dir)
{
    const fs::path dir = feed_directory(state_dir);
    const std::int64_t version = read_number(dir / "current");
    if (version == 0) return std::optional<InstalledFeed>{};
    InstalledFeed feed{version, feed_path(dir, version), {}};
    auto text = read_small(feed.path);
    if (!text)
        return Error{fmt::format("Failed to read the installed knowledge feed '{}': {}; the embedded knowledge "
                                 "is used instead; run 'halo-check update' to reinstall it",
                                 feed.path.string(), std::strerror(errno)),
                     errno};
    feed.text = std::move(*text);
    return std::optional<InstalledFeed>{std::move(feed)};
}

std::int64_t highest_installed_version(const fs::path& state_dir)
{
    const fs::path dir = feed_directory(state_dir);
    // `current` is written before `highest`: a kill between the two leaves current the higher.
    return std::max(read_number(dir / "highest"), read_number(dir / "current"));
}

std::vector<std::int64_t> installed_versions(const fs::path& state_dir)
{
    std::vector<std::int64_t> versions;
    std::error_code ec;
    for (fs::directory_iterator it(feed_directory(state_dir), ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (!name.starts_with("feed-") || !name.ends_with(".toml")) continue;
        const std::string_view digits(name.data() + 5, name.size() - 10);
        std::int64_t v = 0;
        auto [ptr, err] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
        if (err == std::errc{} && ptr == digits.data() + digits.size() && v > 0) versions.push_back(v);
    }
    std::sort(versions.rbegin(), versions.rend());
    return versions;
}

Result<void> install_feed(const fs::path& state_dir, std::int64_t version, std::string_view text,
                          std::string_view signature)
{
    const fs::path dir = feed_directory(state_dir);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        return Error{fmt::format("Failed to create the feed directory '{}': {}; nothing was installed", dir.string(),
                                 ec.message())};
    const fs::path path = feed_path(dir, version);
    if (auto r = write_file_atomically(path.string() + ".minisig", signature); !r) return r;
    if (auto r = write_file_atomically(path, text); !r) return r;
    if (auto r = write_number(dir / "current", version); !r) return r;
    if (version > read_number(dir / "highest")) {
        if (auto r = write_number(dir / "highest", version); !r) return r;
    }
    // Old versions go only after the new one is current; a failure to remove one is harmless.
    const std::vector<std::int64_t> versions = installed_versions(state_dir);
    for (std::size_t i = k_kept; i < versions.size(); ++i) {
        if (versions[i] == version) continue;
        fs::remove(feed_path(dir, versions[i]), ec);
        fs::remove(feed_path(dir, versions[i]).string() + ".minisig", ec);
    }
    return {};
}

Result<std::int64_t> rollback_feed(const fs::path& state_dir)
{
    const fs::path dir = feed_directory(state_dir);
    const std::int64_t current = read_number(dir / "current");
    if (current == 0)
        return Error{fmt::format("No knowledge feed is installed in '{}'; nothing to roll back to", dir.string())};
    for (std::int64_t v : installed_versions(state_dir)) {
        if (v >= current) continue;
        if (auto r = write_number(dir / "current", v); !r) return r.error();
        return v;
    }
    return Error{fmt::format("Feed {} is the oldest one kept in '{}'; nothing to roll back to (the embedded knowledge "
                             "stays below it)",
                             current, dir.string())};
}

namespace {

bool printable(std::string_view value)
{
    return std::none_of(value.begin(), value.end(),
                        [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == '\x7f'; });
}

} // namespace

std::optional<FeedValidators> read_feed_validators(const fs::path& state_dir)
{
    auto text = read_small(feed_directory(state_dir) / "http-validators");
    if (!text || text->size() > 16384) return std::nullopt;
    FeedValidators v;
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
        const auto space = line.find(' ');
        if (space == std::string::npos) continue;
        const std::string key = line.substr(0, space);
        std::string value = line.substr(space + 1);
        if (!printable(value)) return std::nullopt;
        if (key == "version") {
            auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), v.version);
            if (ec != std::errc{}) return std::nullopt;
        } else if (key == "url") v.url = std::move(value);
        else if (key == "etag") v.etag = std::move(value);
        else if (key == "last-modified") v.last_modified = std::move(value);
    }
    if (v.version <= 0 || v.url.empty() || (v.etag.empty() && v.last_modified.empty())) return std::nullopt;
    return v;
}

Result<void> write_feed_validators(const fs::path& state_dir, const FeedValidators& v)
{
    const fs::path path = feed_directory(state_dir) / "http-validators";
    if (!printable(v.url) || !printable(v.etag) || !printable(v.last_modified) ||
        (v.etag.empty() && v.last_modified.empty())) {
        std::error_code ec;
        fs::remove(path, ec);
        return {};
    }
    return write_file_atomically(
        path, fmt::format("version {}\nurl {}\netag {}\nlast-modified {}\n", v.version, v.url, v.etag, v.last_modified),
        0644);
}

FeedRefusal judge_feed(const FeedCandidate& candidate, std::int64_t highest, bool allow_downgrade,
                       std::chrono::sys_seconds now, std::string_view client_version)
{
    if (candidate.signed_version != std::to_string(candidate.header.version)) return FeedRefusal::version_mismatch;
    if (!rules::feed_fits_client(candidate.header, client_version)) return FeedRefusal::not_for_client;
    if (!allow_downgrade && candidate.header.version <= highest) return FeedRefusal::not_newer;
    if (candidate.header.expires <= now) return FeedRefusal::expired;
    return FeedRefusal::none;
}

std::string refusal_message(FeedRefusal refusal, const FeedCandidate& candidate, std::int64_t highest,
                            std::string_view client_version, const std::string& origin)
{
    const rules::FeedHeader& h = candidate.header;
    switch (refusal) {
    case FeedRefusal::none: return {};
    case FeedRefusal::version_mismatch:
        return fmt::format("'{}' says version {} but its signature's trusted comment says version={}: the file is not "
                           "the one that was signed; nothing was installed",
                           origin, h.version, candidate.signed_version.empty() ? "(none)" : candidate.signed_version);
    case FeedRefusal::not_for_client:
        return fmt::format("'{}' (feed {}) needs halo-check {} or newer, this is {}; nothing was installed; upgrade "
                           "halo-check",
                           origin, h.version, h.min_halo_check, client_version);
    case FeedRefusal::not_newer:
        return fmt::format("'{}' is feed {}, not newer than feed {} (the highest ever installed); nothing was "
                           "installed; --allow-downgrade installs it anyway",
                           origin, h.version, highest);
    case FeedRefusal::expired:
        return fmt::format("'{}' (feed {}) expired at {}; nothing was installed; fetch a current feed", origin,
                           h.version, rules::format_utc(h.expires));
    }
    return {};
}

} // namespace halo::app
