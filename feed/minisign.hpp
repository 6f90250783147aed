#pragma once
// minisign's public-key and signature files, and their verification (Ed25519 through libsodium):
// bytes in, verdict out. Both signature kinds are accepted: prehashed ("ED", BLAKE2b-512 of the
// file is signed; minisign's default) and legacy ("Ed", the file itself). The trusted comment is
// covered by the global signature, so a feed's version can be read from it.

#include "common/result.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace halo::feed {

using KeyId = std::array<std::uint8_t, 8>;

struct PublicKey {
    KeyId id{};
    std::array<std::uint8_t, 32> key{};
    std::string origin; // where it was read from, for messages
};

struct Signature {
    bool prehashed = true;
    KeyId key_id{};
    std::array<std::uint8_t, 64> signature{};
    std::string trusted_comment;
    std::array<std::uint8_t, 64> global_signature{};
};

// "A1B2C3D4E5F60718", as minisign prints key ids.
std::string key_id_text(const KeyId& id);

// A minisign .pub file's text (the base64 line, with or without its untrusted-comment line).
Result<PublicKey> parse_public_key(std::string_view text, const std::string& origin);

// A .minisig file's text.
Result<Signature> parse_signature(std::string_view text, const std::string& origin);

enum class Verdict { valid, unknown_key, bad_signature };

struct Verification {
    Verdict verdict = Verdict::bad_signature;
    const PublicKey* key = nullptr; // the key that signed it, when valid or bad_signature
};

// Checks `message` against `signature` with the trusted key whose id it names.
Verification verify(std::string_view message, const Signature& signature, const std::vector<PublicKey>& trusted);

// The value of `name=VALUE` in a trusted comment ("timestamp:… version=12"), or empty.
std::string trusted_comment_field(std::string_view comment, std::string_view name);

} // namespace halo::feed
