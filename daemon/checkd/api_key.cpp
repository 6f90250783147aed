#include "daemon/checkd/api_key.hpp"

#include "common/bounded_read.hpp"
#include "common/fd.hpp"
#include "probes/engine_command.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

namespace halo::checkd {

namespace {

constexpr std::size_t k_max_key_file = 64 * 1024;
constexpr std::string_view k_redacted = "[redacted]";

std::optional<std::string> env_in(const std::vector<std::string>& environment, std::string_view name)
{
    for (const std::string& entry : environment) {
        if (entry.size() > name.size() && entry.compare(0, name.size(), name) == 0 && entry[name.size()] == '=') {
            return entry.substr(name.size() + 1);
        }
    }
    return std::nullopt;
}

// An HTTP header cannot carry a key's surrounding blanks: llama-server's line "KEY \n" cannot be
// sent by anyone, and the daemon's own file may well end its one line with "\r\n".
std::string trimmed(std::string_view key)
{
    const auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!key.empty() && blank(key.front())) key.remove_prefix(1);
    while (!key.empty() && blank(key.back())) key.remove_suffix(1);
    return std::string(key);
}

} // namespace

std::vector<std::string> keys_in_file(std::string_view text)
{
    std::vector<std::string> keys;
    while (!text.empty()) {
        const std::size_t nl = std::min(text.find('\n'), text.size());
        const std::string_view line = text.substr(0, nl);
        if (!line.empty() && line.front() != '#') keys.emplace_back(line);
        text.remove_prefix(std::min(nl + 1, text.size()));
    }
    return keys;
}

Result<std::string> read_key_file(const std::string& path)
{
    // Read on the event loop at every launch: a FIFO must not hang it, a device not flood it.
    return read_bounded_file(path, k_max_key_file, Links::follow, "API key file");
}

ApiKeys find_api_keys(const std::vector<std::string>& command, const std::optional<std::string>& api_key_file,
                      const std::vector<std::string>& environment, const ReadKeyFile& read)
{
    ApiKeys out;
    // Each source in the order the smoke test prefers it; the first key found is sent.
    auto offer = [&out](const std::vector<std::string>& keys, const std::string& source) {
        for (const std::string& key : keys) {
            if (!key.empty()) out.secrets.push_back(key);
            const std::string sendable = trimmed(key);
            if (sendable.empty()) continue;
            if (sendable != key) out.secrets.push_back(sendable);
            if (!out.send) {
                out.send = sendable;
                out.source = source;
            }
        }
    };
    auto from_file = [&](const std::string& path, const std::string& source, const std::string& if_unread) {
        auto text = read(path);
        if (!text) {
            out.problems.push_back(fmt::format("{} ({}); {}", text.error().message, source, if_unread));
            return;
        }
        const std::vector<std::string> keys = keys_in_file(*text);
        offer(keys, source);
        if (keys.empty())
            out.problems.push_back(fmt::format("API key file '{}' ({}) holds no key; {}", path, source, if_unread));
    };

    if (api_key_file) {
        from_file(*api_key_file, "[engine] api_key_file",
                  "the smoke test goes without it; make the file readable by halo-checkd's user and put the key "
                  "on its first line");
    }
    auto command_keys = probes::parse_engine_command(command);
    const bool flags = command_keys && (!command_keys->api_keys.empty() || !command_keys->api_key_files.empty());
    if (command_keys) {
        offer(command_keys->api_keys, "--api-key in [engine] command");
        for (const std::string& path : command_keys->api_key_files) {
            // The engine reads it, perhaps inside its container: unreadable here, it may still work.
            from_file(path, "--api-key-file in [engine] command",
                      "the smoke test cannot send that key; set [engine] api_key_file to a copy halo-checkd can read");
        }
    }
    if (auto keys = env_in(environment, "LLAMA_API_KEY")) {
        offer(probes::split_api_keys(*keys), "LLAMA_API_KEY in the engine's environment");
    }
    if (auto path = env_in(environment, "LLAMA_ARG_API_KEY_FILE"); path && !path->empty() && !flags) {
        from_file(*path, "LLAMA_ARG_API_KEY_FILE in the engine's environment",
                  "the smoke test cannot send that key; set [engine] api_key_file to a copy halo-checkd can read");
    }
    // Longest first: where one key holds another, the longer is replaced whole.
    std::sort(out.secrets.begin(), out.secrets.end(), [](const std::string& a, const std::string& b) {
        return a.size() != b.size() ? a.size() > b.size() : a < b;
    });
    out.secrets.erase(std::unique(out.secrets.begin(), out.secrets.end()), out.secrets.end());
    return out;
}

std::string redact(std::string_view line, std::span<const std::string> secrets)
{
    // One pass, so that a replacement is never searched again (a short key inside "[redacted]").
    auto match_at = [&](std::size_t at) -> std::pair<std::size_t, std::string_view> {
        for (const std::string& secret : secrets) {
            if (!secret.empty() && line.substr(at).starts_with(secret)) return {secret.size(), k_redacted};
        }
        if (!line.substr(at).starts_with("****")) return {0, {}};
        for (const std::string& secret : secrets) {
            if (secret.size() > 4 &&
                line.substr(at + 4).starts_with(std::string_view(secret).substr(secret.size() - 4))) {
                return {8, "****"};
            }
        }
        return {0, {}};
    };
    std::string out;
    out.reserve(line.size());
    for (std::size_t at = 0; at < line.size();) {
        const auto [length, with] = match_at(at);
        if (length == 0) {
            out += line[at++];
            continue;
        }
        out += with;
        at += length;
    }
    return out;
}

} // namespace halo::checkd
