#pragma once
// The default knowledge base (rules/kb/*.toml), compiled into the binary by cmake/EmbedRules.cmake.

#include <span>
#include <string_view>

namespace halo::rules {

struct EmbeddedFile {
    const char* name; // "kernel.toml"
    std::string_view content;
};

std::span<const EmbeddedFile> embedded_rule_files();

} // namespace halo::rules
