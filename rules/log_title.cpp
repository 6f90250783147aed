#include "rules/log_title.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <optional>

namespace halo::rules {

namespace {

struct Placeholder {
    enum class Kind { group, fact };
    Kind kind = Kind::group;
    unsigned group = 0;
    std::string_view key;
};

bool is_key_char(char c) noexcept
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

// `inside` is the text between a pair of braces; nullopt when it is no placeholder (and so stays
// as written).
std::optional<Placeholder> placeholder(std::string_view inside)
{
    if (inside.empty()) return std::nullopt;
    if (std::all_of(inside.begin(), inside.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        if (inside.size() > 2) return std::nullopt;
        unsigned n = 0;
        for (char c : inside) n = n * 10 + static_cast<unsigned>(c - '0');
        return Placeholder{Placeholder::Kind::group, n, {}};
    }
    // A fact key: dotted segments, at least two.
    if (inside.find('.') == std::string_view::npos || inside.front() == '.' || inside.back() == '.' ||
        inside.find("..") != std::string_view::npos) {
        return std::nullopt;
    }
    if (!std::all_of(inside.begin(), inside.end(), [](char c) { return is_key_char(c) || c == '.'; }))
        return std::nullopt;
    return Placeholder{Placeholder::Kind::fact, 0, inside};
}

// Walks the template: `literal` for plain text, `hole` for each placeholder.
template <typename Literal, typename Hole>
void walk(std::string_view title, Literal literal, Hole hole)
{
    std::size_t i = 0;
    while (i < title.size()) {
        const char c = title[i];
        if ((c == '{' || c == '}') && i + 1 < title.size() && title[i + 1] == c) {
            literal(title.substr(i, 1));
            i += 2;
            continue;
        }
        if (c == '{') {
            const std::size_t close = title.find('}', i + 1);
            if (close != std::string_view::npos) {
                if (auto p = placeholder(title.substr(i + 1, close - i - 1))) {
                    hole(*p);
                    i = close + 1;
                    continue;
                }
            }
        }
        const std::size_t next = title.find_first_of("{}", i + 1);
        const std::size_t end = next == std::string_view::npos ? title.size() : next;
        literal(title.substr(i, end - i));
        i = end;
    }
}

void append_value(std::string& out, std::string_view value)
{
    bool cut = false;
    if (value.size() > k_max_placeholder_bytes) {
        std::size_t n = k_max_placeholder_bytes;
        // Not inside a UTF-8 sequence: back up over continuation bytes.
        while (n > 0 && (static_cast<unsigned char>(value[n]) & 0xC0) == 0x80) --n;
        value = value.substr(0, n);
        cut = true;
    }
    for (char c : value) {
        const auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u == 0x7f) ? '?' : c;
    }
    if (cut) out += "…";
}

} // namespace

std::string fill_title(std::string_view title, std::span<const std::string> groups, const Facts& facts)
{
    std::string out;
    walk(
        title, [&](std::string_view text) { out += text; },
        [&](const Placeholder& p) {
            if (p.kind == Placeholder::Kind::group) {
                append_value(out, p.group < groups.size() ? std::string_view(groups[p.group]) : std::string_view());
                return;
            }
            const std::optional<std::string> value = facts.get(p.key);
            append_value(out, value ? std::string_view(*value) : std::string_view("(unknown)"));
        });
    return out;
}

std::vector<std::string> title_problems(std::string_view title, unsigned group_count)
{
    std::vector<std::string> problems;
    walk(
        title, [](std::string_view) {},
        [&](const Placeholder& p) {
            if (p.kind == Placeholder::Kind::group && p.group > group_count) {
                problems.push_back(fmt::format("'title' uses {{{}}} but the regex has {} group{}", p.group, group_count,
                                               group_count == 1 ? "" : "s"));
            }
        });
    return problems;
}

std::vector<std::string> title_fact_keys(std::string_view title)
{
    std::vector<std::string> keys;
    walk(
        title, [](std::string_view) {},
        [&](const Placeholder& p) {
            if (p.kind == Placeholder::Kind::fact) keys.emplace_back(p.key);
        });
    return keys;
}

} // namespace halo::rules
