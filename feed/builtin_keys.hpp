#pragma once
// The project's feed-signing public keys (keys/*.pub), compiled in. Two, so the signing key can
// be rotated: a feed signed by the new key verifies on clients that shipped with both.

#include <span>
#include <string_view>

namespace halo::feed {

std::span<const std::string_view> builtin_key_texts();

} // namespace halo::feed
