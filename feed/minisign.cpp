#include "feed/minisign.hpp"

#include <fmt/core.h>
#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace halo::feed {

namespace {

constexpr std::string_view k_trusted_prefix = "trusted comment: ";

std::vector<std::string_view> lines_of(std::string_view text)
{
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        const std::size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        lines.push_back(line);
        if (end == std::string_view::npos) break;
        text.remove_prefix(end + 1);
    }
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    return lines;
}

Result<std::vector<std::uint8_t>> decode_base64(std::string_view text, std::size_t want, const std::string& what)
{
    std::vector<std::uint8_t> bytes(want + 3);
    std::size_t length = 0;
    if (sodium_base642bin(bytes.data(), bytes.size(), text.data(), text.size(), nullptr, &length, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        length != want) {
        return Error{fmt::format("{} is not {} bytes of base64", what, want)};
    }
    bytes.resize(length);
    return bytes;
}

bool starts_with_untrusted(std::string_view line) { return line.starts_with("untrusted comment:"); }

} // namespace

std::string key_id_text(const KeyId& id)
{
    // minisign prints the id as a little-endian 64-bit number.
    std::string text;
    for (auto it = id.rbegin(); it != id.rend(); ++it) text += fmt::format("{:02X}", *it);
    return text;
}

Result<PublicKey> parse_public_key(std::string_view text, const std::string& origin)
{
    std::vector<std::string_view> lines = lines_of(text);
    if (!lines.empty() && starts_with_untrusted(lines.front())) lines.erase(lines.begin());
    if (lines.size() != 1)
        return Error{fmt::format("'{}' is not a minisign public key: expected an 'untrusted comment:' line and one "
                                 "base64 line; make it with 'minisign -G'",
                                 origin)};
    auto bytes = decode_base64(lines.front(), 42, fmt::format("'{}': the key line", origin));
    if (!bytes) return bytes.error();
    if ((*bytes)[0] != 'E' || (*bytes)[1] != 'd')
        return Error{fmt::format("'{}': not an Ed25519 minisign key (algorithm '{}{}')", origin,
                                 static_cast<char>((*bytes)[0]), static_cast<char>((*bytes)[1]))};
    PublicKey key;
    std::copy_n(bytes->begin() + 2, 8, key.id.begin());
    std::copy_n(bytes->begin() + 10, 32, key.key.begin());
    key.origin = origin;
    return key;
}

Result<Signature> parse_signature(std::string_view text, const std::string& origin)
{
    const std::vector<std::string_view> lines = lines_of(text);
    if (lines.size() != 4 || !starts_with_untrusted(lines[0]) || !lines[2].starts_with(k_trusted_prefix))
        return Error{fmt::format("'{}' is not a minisign signature: expected 4 lines (untrusted comment, signature, "
                                 "trusted comment, global signature); sign with 'minisign -S'",
                                 origin)};
    auto sig = decode_base64(lines[1], 74, fmt::format("'{}' line 2 (the signature)", origin));
    if (!sig) return sig.error();
    auto global = decode_base64(lines[3], 64, fmt::format("'{}' line 4 (the global signature)", origin));
    if (!global) return global.error();
    Signature out;
    const char a = static_cast<char>((*sig)[0]);
    const char b = static_cast<char>((*sig)[1]);
    if (a == 'E' && b == 'D') out.prehashed = true;
    else if (a == 'E' && b == 'd') out.prehashed = false;
    else return Error{fmt::format("'{}' line 2: unknown signature algorithm '{}{}' (expected ED or Ed)", origin, a, b)};
    std::copy_n(sig->begin() + 2, 8, out.key_id.begin());
    std::copy_n(sig->begin() + 10, 64, out.signature.begin());
    out.trusted_comment = std::string(lines[2].substr(k_trusted_prefix.size()));
    std::copy_n(global->begin(), 64, out.global_signature.begin());
    return out;
}

Verification verify(std::string_view message, const Signature& signature, const std::vector<PublicKey>& trusted)
{
    if (sodium_init() < 0) return {Verdict::bad_signature, nullptr};
    auto key =
        std::find_if(trusted.begin(), trusted.end(), [&](const PublicKey& k) { return k.id == signature.key_id; });
    if (key == trusted.end()) return {Verdict::unknown_key, nullptr};
    const auto* text = reinterpret_cast<const unsigned char*>(message.data());
    bool ok = false;
    if (signature.prehashed) {
        std::array<unsigned char, crypto_generichash_BYTES_MAX> hash{};
        crypto_generichash(hash.data(), hash.size(), text, message.size(), nullptr, 0);
        ok = crypto_sign_verify_detached(signature.signature.data(), hash.data(), hash.size(), key->key.data()) == 0;
    } else {
        ok = crypto_sign_verify_detached(signature.signature.data(), text, message.size(), key->key.data()) == 0;
    }
    if (ok) {
        // The global signature covers the file's signature and the trusted comment.
        std::string covered(reinterpret_cast<const char*>(signature.signature.data()), signature.signature.size());
        covered += signature.trusted_comment;
        ok = crypto_sign_verify_detached(signature.global_signature.data(),
                                         reinterpret_cast<const unsigned char*>(covered.data()), covered.size(),
                                         key->key.data()) == 0;
    }
    return {ok ? Verdict::valid : Verdict::bad_signature, &*key};
}

std::string trusted_comment_field(std::string_view comment, std::string_view name)
{
    while (!comment.empty()) {
        const std::size_t start = comment.find_first_not_of(" \t");
        if (start == std::string_view::npos) break;
        comment.remove_prefix(start);
        const std::size_t end = comment.find_first_of(" \t");
        const std::string_view token = comment.substr(0, end);
        if (token.size() > name.size() && token.starts_with(name) && token[name.size()] == '=')
            return std::string(token.substr(name.size() + 1));
        if (end == std::string_view::npos) break;
        comment.remove_prefix(end);
    }
    return {};
}

} // namespace halo::feed
