// libFuzzer entry point: the knowledge feed's parsers: a feed file ([feed] header and rules),
// a minisign public key and signature, the trusted comment's fields, and verification of the
// input as a message under a signature parsed from it.
// -max_len: a feed is one rules file.
// fuzz-max-len: 262144
#include "feed/minisign.hpp"
#include "rules/feed_file.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)halo::rules::parse_feed(text, "fuzz");
    auto key = halo::feed::parse_public_key(text, "fuzz");
    auto sig = halo::feed::parse_signature(text, "fuzz");
    if (sig) {
        (void)halo::feed::trusted_comment_field(sig->trusted_comment, "version");
        std::vector<halo::feed::PublicKey> keys;
        halo::feed::PublicKey k;
        k.id = sig->key_id;
        keys.push_back(key ? *key : k);
        keys.push_back(k);
        (void)halo::feed::verify(text, *sig, keys);
    }
    return 0;
}
