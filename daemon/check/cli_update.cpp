// `halo-check update`: fetch (or import) a signed knowledge feed, verify it, dry-run it against
// this machine's facts and install it atomically (docs/feed.md).

#include "daemon/check/cli_commands.hpp"

#include "common/fatal.hpp"
#include "daemon/config.hpp"
#include "daemon/environment.hpp"
#include "daemon/feed_store.hpp"
#include "daemon/http_fetch.hpp"
#include "feed/builtin_keys.hpp"
#include "feed/minisign.hpp"
#include "rules/feed_file.hpp"
#include "rules/judge.hpp"
#include "rules/rule_loader.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace halo::check {

namespace {

namespace fs = std::filesystem;

constexpr std::size_t k_max_feed = 16u << 20;
constexpr std::size_t k_max_signature = 4096;

// A rejected feed: exit 2, one message.
[[noreturn]] void reject(const std::string& why) { throw Fatal("update rejected: " + why, ExitCode::broken); }

std::optional<std::string> read_file(const fs::path& path, std::size_t cap, std::string& error)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = std::strerror(errno);
        return std::nullopt;
    }
    std::string text(cap + 1, '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (text.size() > cap) {
        error = fmt::format("larger than {} bytes", cap);
        return std::nullopt;
    }
    return text;
}

std::vector<feed::PublicKey> trusted_keys(const UpdateOptions& o)
{
    std::vector<feed::PublicKey> keys;
    for (std::string_view text : feed::builtin_key_texts()) {
        auto key = feed::parse_public_key(text, "built-in key");
        if (!key) throw Fatal("internal error: a built-in feed key does not parse: " + key.error().message);
        keys.push_back(std::move(*key));
    }
    std::vector<fs::path> files;
    std::error_code ec;
    for (fs::directory_iterator it(o.keys_dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->path().extension() == ".pub") files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    for (const std::string& named : o.trusted_keys) files.emplace_back(named);
    for (const fs::path& path : files) {
        std::string error;
        auto text = read_file(path, 4096, error);
        if (!text)
            throw Fatal(fmt::format("Failed to read trusted key '{}': {}; fix or remove it", path.string(), error));
        auto key = feed::parse_public_key(*text, path.string());
        if (!key) throw Fatal(key.error().message + "; fix or remove it");
        keys.push_back(std::move(*key));
    }
    return keys;
}

struct Download {
    std::string feed;
    std::string signature;
    bool not_modified = false;
    std::string etag, last_modified; // the server's, for the next conditional request
};

Download fetch(const UpdateOptions& o, const std::string& url, const std::string& state_dir, std::int64_t installed)
{
    app::HttpFetchRequest request;
    request.url = url;
    request.timeout = std::chrono::milliseconds(static_cast<long long>(o.timeout_s * 1000));
    request.max_body = k_max_feed;
    request.ca_file = o.ca_file.value_or("");
    // What the server said about the feed in use, when it came from this URL: a server answers
    // 304 Not Modified when it is still the one it serves.
    if (auto v = app::read_feed_validators(state_dir); v && installed > 0 && v->version == installed && v->url == url) {
        if (!v->etag.empty()) request.headers.push_back("If-None-Match: " + v->etag);
        if (!v->last_modified.empty()) request.headers.push_back("If-Modified-Since: " + v->last_modified);
    }
    auto answer = app::http_fetch(request);
    if (!answer) throw Fatal(answer.error().message + "; the installed knowledge stays", ExitCode::unknown);
    Download d;
    if (answer->status == 304) {
        d.not_modified = true;
        return d;
    }
    if (answer->status != 200)
        throw Fatal(fmt::format("Failed to fetch the feed '{}': the server answered HTTP {}; the installed knowledge "
                                "stays",
                                url, answer->status));
    d.feed = std::move(answer->body);
    d.etag = answer->header("etag");
    d.last_modified = answer->header("last-modified");
    request.url = url + ".minisig";
    request.max_body = k_max_signature;
    request.headers.clear();
    auto sig = app::http_fetch(request);
    if (!sig) throw Fatal(sig.error().message + "; the installed knowledge stays", ExitCode::unknown);
    if (sig->status == 404) reject(fmt::format("'{}' has no signature: '{}' is not there", url, request.url));
    if (sig->status != 200)
        throw Fatal(fmt::format("Failed to fetch the signature '{}': the server answered HTTP {}; the installed "
                                "knowledge stays",
                                request.url, sig->status));
    d.signature = std::move(sig->body);
    return d;
}

Download read_local(const std::string& path)
{
    Download d;
    std::string error;
    auto text = read_file(path, k_max_feed, error);
    if (!text) throw Fatal(fmt::format("Failed to read the feed '{}': {}; nothing was installed", path, error));
    d.feed = std::move(*text);
    auto sig = read_file(path + ".minisig", k_max_signature, error);
    if (!sig)
        reject(fmt::format("'{}' has no signature: failed to read '{}.minisig': {}; put the .minisig file beside it",
                           path, path, error));
    d.signature = std::move(*sig);
    return d;
}

// Loads the rules with the candidate feed as `--rules`-free defaults would, and judges the facts.
std::string dry_run(const UpdateOptions& o, const std::string& text, std::int64_t version)
{
    rules::RuleSources sources;
    sources.feed = rules::FeedSource{text, fmt::format("feed {}", version)};
    const rules::LoadedRules loaded = rules::load_rules(sources);
    if (loaded.has_errors()) {
        std::string all;
        for (const rules::Diagnostic& d : loaded.diagnostics)
            if (d.level == rules::Diagnostic::Level::error) all += "\n  " + d.message;
        reject(fmt::format("feed {} does not load with the embedded knowledge:{}", version, all));
    }
    rules::Facts facts = facts_to_judge(o.check);
    const rules::Judgement judgement = rules::judge(loaded.rules, facts, judge_options(o.check));
    return std::string(rules::to_string(judgement.report.verdict));
}

int rollback(const std::string& state_dir)
{
    auto version = app::rollback_feed(state_dir);
    if (!version) throw Fatal(version.error().message, ExitCode::broken);
    std::printf("halo-check: rolled back to knowledge feed %lld\n", static_cast<long long>(*version));
    return 0;
}

// The configuration's [feed] under the command line's options.
std::optional<app::Config> apply_config(UpdateOptions& o)
{
    std::string path = o.check.config.value_or(app::default_config_path());
    std::error_code ec;
    if (!o.check.config && !fs::exists(path, ec)) return std::nullopt;
    auto config = app::load_config(path, app::ConfigUse::cli);
    if (!config) throw Fatal(config.error().message + "; nothing was fetched");
    if (!o.url) o.url = config->feed.url;
    if (!o.ca_file) o.ca_file = config->feed.ca_file;
    o.trusted_keys.insert(o.trusted_keys.end(), config->feed.trusted_keys.begin(), config->feed.trusted_keys.end());
    return std::move(*config);
}

} // namespace

void add_update_command(void* app_ptr, UpdateOptions& o, const void** chosen)
{
    auto& app = *static_cast<CLI::App*>(app_ptr);
    CLI::App* u = app.add_subcommand(
        "update", "Fetch, verify and install the signed knowledge feed (docs/feed.md); exit 0 installed or current, "
                  "2 rejected, 3 not fetched");
    u->add_option("--url", o.url, "Where the feed is (default: the configuration's [feed] url)")->type_name("URL");
    u->add_option("--from", o.from, "Import this feed file (its FILE.minisig beside it) instead of fetching")
        ->type_name("FILE");
    u->add_flag("--allow-downgrade", o.allow_downgrade, "Install a feed that is not newer than the highest installed");
    u->add_flag("--rollback", o.rollback, "Go back to the previous installed feed");
    u->add_option("--trusted-key", o.trusted_keys, "Also trust this minisign public key")->type_name("FILE");
    u->add_option("--ca-file", o.ca_file, "CA certificates for the HTTPS fetch (default: the system's)")
        ->type_name("FILE");
    u->add_option("--state-dir", o.state_dir, "Where installed feeds are kept (default: the state directory)")
        ->type_name("DIR");
    u->add_option("--facts", o.check.facts, "Dry-run the feed against this facts file instead of this machine")
        ->type_name("FILE");
    u->add_option("--config", o.check.config, "The configuration file ([feed] url, ca_file, trusted_keys)")
        ->type_name("FILE");
    u->add_option("--timeout", o.timeout_s, "Seconds the fetch may take")->check(CLI::Range(1.0, 3600.0));
    *chosen = u;
}

int command_update(const UpdateOptions& given)
{
    UpdateOptions o = given;
    const std::optional<app::Config> config = apply_config(o);
    const std::string state_dir = app::resolve_state_dir(o.state_dir, config ? &*config : nullptr);
    if (state_dir.empty()) throw Fatal("No state directory: set --state-dir or $XDG_STATE_HOME");
    if (o.rollback) return rollback(state_dir);
    const std::int64_t highest = app::highest_installed_version(state_dir);
    auto installed = app::read_installed_feed(state_dir);
    const std::int64_t current = installed && *installed ? (*installed)->version : 0;

    Download d;
    std::string origin;
    if (o.from) {
        origin = *o.from;
        d = read_local(*o.from);
    } else {
        if (!o.url) throw Fatal("No feed to fetch: give --url URL or --from FILE (or set [feed] url)");
        origin = *o.url;
        d = fetch(o, *o.url, state_dir, current);
        if (d.not_modified) {
            std::printf("halo-check: knowledge feed %lld is current\n", static_cast<long long>(current));
            return 0;
        }
    }

    auto signature = feed::parse_signature(d.signature, origin + ".minisig");
    if (!signature) reject(signature.error().message);
    const std::vector<feed::PublicKey> keys = trusted_keys(o);
    const feed::Verification verified = feed::verify(d.feed, *signature, keys);
    if (verified.verdict == feed::Verdict::unknown_key)
        reject(fmt::format("'{}' is signed by key {}, which is not trusted; add its .pub to /etc/halo-check/keys.d "
                           "if you trust it",
                           origin, feed::key_id_text(signature->key_id)));
    if (verified.verdict == feed::Verdict::bad_signature)
        reject(fmt::format("'{}' does not match its signature (key {}): it was changed or damaged after signing",
                           origin, feed::key_id_text(signature->key_id)));

    auto parsed = rules::parse_feed(d.feed, origin);
    if (!parsed) reject(parsed.error().message);
    app::FeedCandidate candidate{parsed->header, feed::trusted_comment_field(signature->trusted_comment, "version")};
    // Remembered only for a verified feed: a forged answer cannot make the next fetch skip.
    const auto remember = [&] {
        if (o.from) return;
        // A failure to store them costs the next fetch its 304, nothing else.
        (void)app::write_feed_validators(state_dir, {candidate.header.version, *o.url, d.etag, d.last_modified});
    };
    if (candidate.header.version == current && !o.allow_downgrade) {
        remember();
        std::printf("halo-check: knowledge feed %lld is current\n", static_cast<long long>(current));
        return 0;
    }
    const auto now = std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
    const app::FeedRefusal refusal = app::judge_feed(candidate, highest, o.allow_downgrade, now, HALO_VERSION);
    if (refusal != app::FeedRefusal::none)
        reject(app::refusal_message(refusal, candidate, highest, HALO_VERSION, origin));
    if (parsed->rules.has_errors()) {
        std::string all;
        for (const rules::Diagnostic& diag : parsed->rules.diagnostics)
            if (diag.level == rules::Diagnostic::Level::error) all += "\n  " + diag.message;
        reject(fmt::format("feed {} has invalid rules; nothing was installed:{}", candidate.header.version, all));
    }
    const std::string verdict = dry_run(o, d.feed, candidate.header.version);
    if (auto r = app::install_feed(state_dir, candidate.header.version, d.feed, d.signature); !r)
        throw Fatal(r.error().message + "; the installed knowledge stays");
    remember();
    std::printf("halo-check: installed knowledge feed %lld (%s, published %s, expires %s); this machine: %s\n",
                static_cast<long long>(candidate.header.version), candidate.header.name.c_str(),
                rules::format_utc(candidate.header.published).c_str(),
                rules::format_utc(candidate.header.expires).c_str(), verdict.c_str());
    return 0;
}

} // namespace halo::check
