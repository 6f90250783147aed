#include "common/toml_guard.hpp"

#include <fmt/core.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <vector>

namespace halo {

namespace {

struct Block {
    char32_t first, last;
};

// The code points toml++ 3.3.0 mis-handles, in order; each maps to k_private_base + its index.
constexpr std::array<Block, 3> k_unsafe{{{0xA1, 0x499}, {0x2C4E, 0x3047}, {0xFB26, 0xFEFE}}};
constexpr char32_t k_private_base = 0xE000;
constexpr char32_t k_private_last =
    k_private_base + (0x499 - 0xA1 + 1) + (0x3047 - 0x2C4E + 1) + (0xFEFE - 0xFB26 + 1) - 1;

// Index in the unsafe set, or -1.
long unsafe_index(char32_t c)
{
    if (c == 0x3000) return -1; // the one safe point inside a block (ideographic space)
    long offset = 0;
    for (const Block& b : k_unsafe) {
        if (c >= b.first && c <= b.last) return offset + static_cast<long>(c - b.first);
        offset += static_cast<long>(b.last - b.first) + 1;
    }
    return -1;
}

char32_t from_index(long index)
{
    for (const Block& b : k_unsafe) {
        const long size = static_cast<long>(b.last - b.first) + 1;
        if (index < size) return b.first + static_cast<char32_t>(index);
        index -= size;
    }
    return 0xFFFD;
}

// Decodes one well-formed UTF-8 sequence at text[i]; returns its length, or 0 when malformed.
std::size_t decode(std::string_view text, std::size_t i, char32_t& out)
{
    const auto b0 = static_cast<unsigned char>(text[i]);
    std::size_t length = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > text.size()) return 0;
    char32_t c = length == 1 ? b0 : (b0 & (0x7F >> length));
    for (std::size_t k = 1; k < length; ++k) {
        const auto b = static_cast<unsigned char>(text[i + k]);
        if ((b & 0xC0) != 0x80) return 0;
        c = (c << 6) | (b & 0x3F);
    }
    out = c;
    return length;
}

void encode(char32_t c, std::string& out)
{
    if (c < 0x80) {
        out += static_cast<char>(c);
    } else if (c < 0x800) {
        out += static_cast<char>(0xC0 | (c >> 6));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
        out += static_cast<char>(0xE0 | (c >> 12));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (c >> 18));
        out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (c & 0x3F));
    }
}

// The stand-ins are private-use characters, never ASCII: an ASCII text (nearly every string of
// a rules file) is left as it is, without a copy per string.
bool all_ascii(std::string_view text)
{
    return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

void restore_node(toml::node& node)
{
    if (auto* s = node.as_string()) {
        if (!all_ascii(s->get())) s->get() = restore_toml_text(s->get());
    } else if (auto* a = node.as_array()) {
        for (toml::node& element : *a) restore_node(element);
    } else if (auto* t = node.as_table()) {
        restore_toml_strings(*t);
    }
}

} // namespace

// "origin:line:col" of byte `offset` (columns count code points), for messages only.
static std::string where(std::string_view text, std::size_t offset, std::string_view origin)
{
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
            ++column;
        }
    }
    return fmt::format("{}:{}:{}", origin, line, column);
}

Result<std::string> prepare_toml_input(std::string_view text, std::string_view origin)
{
    std::string out;
    out.reserve(text.size() + 16);
    for (std::size_t i = 0; i < text.size();) {
        // ASCII runs (nearly all of a rules file) are copied whole; only NUL needs a look.
        std::size_t run = i;
        while (run < text.size() && static_cast<unsigned char>(text[run]) < 0x80 && text[run] != '\0') ++run;
        out.append(text.substr(i, run - i));
        i = run;
        if (i >= text.size()) break;
        if (text[i] == '\0')
            return Error{fmt::format("{}: NUL byte in a TOML file; is it a binary file?", where(text, i, origin))};
        char32_t c = 0;
        const std::size_t length = decode(text, i, c);
        if (length == 0) { // malformed UTF-8: toml++ reports it
            out += text[i++];
            continue;
        }
        if (c >= k_private_base && c <= k_private_last) {
            return Error{fmt::format("{}: private-use character U+{:04X} is not accepted; write it as an escape "
                                     "(\\u{:04X}) inside a double-quoted string",
                                     where(text, i, origin), static_cast<unsigned>(c), static_cast<unsigned>(c))};
        }
        const long index = unsafe_index(c);
        if (index >= 0) encode(k_private_base + static_cast<char32_t>(index), out);
        else out.append(text.substr(i, length));
        i += length;
    }
    return out;
}

std::string restore_toml_text(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        char32_t c = 0;
        const std::size_t length = decode(text, i, c);
        if (length == 0) {
            out += text[i++];
            continue;
        }
        if (c >= k_private_base && c <= k_private_last) encode(from_index(static_cast<long>(c - k_private_base)), out);
        else out.append(text.substr(i, length));
        i += length;
    }
    return out;
}

void restore_toml_strings(toml::table& root)
{
    std::vector<std::string> renamed;
    for (auto&& [key, node] : root) {
        restore_node(node);
        if (!all_ascii(key.str()) && restore_toml_text(key.str()) != key.str()) renamed.emplace_back(key.str());
    }
    for (const std::string& old_key : renamed) {
        auto it = root.find(old_key);
        const toml::key fresh(restore_toml_text(old_key), it->first.source());
        // Re-insert under the restored key; a moved node keeps its source region.
        it->second.visit([&](auto&& node) { root.insert_or_assign(fresh, std::forward<decltype(node)>(node)); });
        root.erase(root.find(old_key));
    }
}

} // namespace halo
