#pragma once
// The engine's API keys (llama-server --api-key): the one the smoke test sends, and every one
// the engine's output must not carry into the journal, the state file or the daemon's log. They
// come from the command (--api-key K[,K…], --api-key-file F), from the engine's environment
// (LLAMA_API_KEY and LLAMA_ARG_API_KEY_FILE, which llama-server reads when the flags are absent)
// and from [engine] api_key_file, the daemon's own, which wins for the smoke test. Files are read
// through the function the caller passes, so the choice is tested with plain values.

#include "common/result.hpp"

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace halo::checkd {

struct ApiKeys {
    std::optional<std::string> send;   // for "Authorization: Bearer …"; none when no key was found
    std::string source;                // where `send` came from, for messages: never the key itself
    std::vector<std::string> secrets;  // every key found, to redact from the engine's lines
    std::vector<std::string> problems; // key files that could not be read, as complete messages
};

using ReadKeyFile = std::function<Result<std::string>(const std::string& path)>;

// `command`: the engine's argv; `api_key_file`: [engine] api_key_file with ~/ already expanded;
// `environment`: the engine's (NAME=value, as engine_environment() makes it).
ApiKeys find_api_keys(const std::vector<std::string>& command, const std::optional<std::string>& api_key_file,
                      const std::vector<std::string>& environment, const ReadKeyFile& read);

// llama-server's --api-key-file format: one key per line, lines starting with '#' are comments,
// empty lines hold none. Lines are kept as they are, as llama-server keeps them.
std::vector<std::string> keys_in_file(std::string_view text);

// Reads a key file (at most 64 KiB): "Failed to read API key file '/x': Permission denied".
Result<std::string> read_key_file(const std::string& path);

// `line` with every secret replaced by "[redacted]", and llama-server's own mask of a key
// ("****" and its last four characters, as -v prints "api_keys: ****Y123") cut to "****".
std::string redact(std::string_view line, std::span<const std::string> secrets);

} // namespace halo::checkd
