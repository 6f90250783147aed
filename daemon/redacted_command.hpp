#pragma once
// The engine's argv as the state file shows it: the values of the flags that carry secrets
// (llama-server's --api-key and --hf-token / -hft, also written --flag=value) replaced, so the
// command can be shown without its key.

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace halo::app {

inline constexpr std::string_view k_redacted = "(hidden)";

std::vector<std::string> redacted_command(std::span<const std::string> argv);

} // namespace halo::app
