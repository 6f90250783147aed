#include "rules/facts.hpp"

#include <array>

namespace halo::rules {

namespace {

constexpr std::array<std::pair<ProbeState, std::string_view>, 5> k_state_names{{
    {ProbeState::ok, "ok"},
    {ProbeState::partial, "partial"},
    {ProbeState::failed, "failed"},
    {ProbeState::not_applicable, "not_applicable"},
    {ProbeState::not_run, "not_run"},
}};

std::string_view next_segment(std::string_view& rest) noexcept
{
    const auto dot = rest.find('.');
    std::string_view segment = rest.substr(0, dot);
    rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
    return segment;
}

} // namespace

std::string_view to_string(ProbeState state) noexcept
{
    for (const auto& [s, name] : k_state_names)
        if (s == state) return name;
    return "unknown";
}

std::optional<ProbeState> probe_state_from_string(std::string_view text) noexcept
{
    for (const auto& [s, name] : k_state_names)
        if (name == text) return s;
    return std::nullopt;
}

bool key_matches(std::string_view pattern, std::string_view key) noexcept
{
    // Instance names may hold dots (toolbox `llama-rocm-7.2`), so a `*` segment consumes one or
    // more whole key segments; the literal segments after it must still line up.
    if (pattern.empty() || key.empty()) return pattern.empty() && key.empty();
    std::string_view pattern_rest = pattern;
    const std::string_view p = next_segment(pattern_rest);
    const bool pattern_done = pattern.find('.') == std::string_view::npos;
    if (p != "*") {
        std::string_view key_rest = key;
        const bool key_done = key.find('.') == std::string_view::npos;
        if (next_segment(key_rest) != p) return false;
        if (pattern_done || key_done) return pattern_done && key_done;
        return key_matches(pattern_rest, key_rest);
    }
    if (pattern_done) return true; // a trailing `*` covers everything below
    for (std::size_t dot = key.find('.'); dot != std::string_view::npos; dot = key.find('.', dot + 1)) {
        if (key_matches(pattern_rest, key.substr(dot + 1))) return true;
    }
    return false;
}

void Facts::set(std::string key, std::string value, std::string source)
{
    Fact& fact = m_facts[std::move(key)];
    fact.value = std::move(value);
    fact.source = std::move(source);
}

void Facts::erase(std::string_view key)
{
    if (auto it = m_facts.find(key); it != m_facts.end()) m_facts.erase(it);
}

const Fact* Facts::find(std::string_view key) const
{
    auto it = m_facts.find(key);
    return it == m_facts.end() ? nullptr : &it->second;
}

std::optional<std::string> Facts::get(std::string_view key) const
{
    if (const Fact* f = find(key)) return f->value;
    return std::nullopt;
}

std::vector<std::string> Facts::keys_matching(std::string_view pattern) const
{
    std::vector<std::string> keys;
    if (pattern.find('*') == std::string_view::npos) {
        if (contains(pattern)) keys.emplace_back(pattern);
        return keys;
    }
    // Facts are sorted: start at the literal prefix before the first `*`.
    const std::string_view prefix = pattern.substr(0, pattern.find('*'));
    for (auto it = m_facts.lower_bound(prefix); it != m_facts.end(); ++it) {
        if (it->first.compare(0, prefix.size(), prefix) != 0) break;
        if (key_matches(pattern, it->first)) keys.push_back(it->first);
    }
    return keys;
}

void Facts::mark_unknown(std::string pattern, std::string reason) { m_unknown[std::move(pattern)] = std::move(reason); }

std::optional<std::string> Facts::unknown_reason(std::string_view key) const
{
    for (const auto& [pattern, reason] : m_unknown)
        if (key_matches(pattern, key) || key_matches(key, pattern)) return reason;
    return std::nullopt;
}

void Facts::set_probe_status(std::string probe, ProbeStatus status) { m_probes[std::move(probe)] = std::move(status); }

void Facts::merge(const Facts& other)
{
    for (const auto& [pattern, reason] : other.m_unknown) m_unknown[pattern] = reason;
    for (const auto& [probe, status] : other.m_probes) m_probes[probe] = status;
    for (const auto& [key, fact] : other.m_facts) {
        m_facts[key] = fact;
        m_unknown.erase(key); // a fact that is known now is no longer unknown
    }
    if (!other.snapshot.taken.empty()) snapshot = other.snapshot;
}

} // namespace halo::rules
