#include "rules/condition_set.hpp"

#include <map>
#include <optional>
#include <set>

namespace halo::rules {

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// The instance a key of `family` ("gpu.*") names under the condition key `pattern`
// ("gpu.*.pci.device"): the shortest run of segments after the family's prefix that leaves the
// rest of the pattern matching (instance names may hold dots).
std::optional<std::string> instance_of(std::string_view pattern, std::string_view family, std::string_view key)
{
    const std::string_view prefix = family.substr(0, family.size() - 1); // "gpu."
    const std::string_view rest = pattern.substr(family.size() + 1);     // "pci.device"
    if (!key.starts_with(prefix)) return std::nullopt;
    for (std::size_t dot = key.find('.', prefix.size()); dot != std::string_view::npos; dot = key.find('.', dot + 1)) {
        if (key_matches(rest, key.substr(dot + 1))) return std::string(key.substr(prefix.size(), dot - prefix.size()));
    }
    return std::nullopt;
}

// The condition with its family's `*` replaced by one instance.
Condition bound_to(const Condition& c, std::string_view family, std::string_view instance)
{
    Condition bound = c;
    bound.key = std::string(family.substr(0, family.size() - 1)) + std::string(instance) + c.key.substr(family.size());
    bound.wildcard = bound.key.find('*') != std::string::npos;
    return bound;
}

struct Joined {
    Tri result = Tri::no;
    Pairs matched;
    Pairs unknown;
};

// One family's conditions over every instance any of them names: yes when one instance satisfies
// all of them; unknown when none does but one might (no condition false for it).
Joined evaluate_family(const std::vector<const Condition*>& conditions, const std::string& family, const Facts& facts)
{
    std::set<std::string> instances;
    for (const Condition* c : conditions) {
        for (const std::string& key : facts.keys_matching(c->key)) {
            if (auto instance = instance_of(c->key, family, key)) instances.insert(std::move(*instance));
        }
    }
    Joined out;
    if (instances.empty()) {
        // No instance at all: each condition decides on its own, as absent or unknown.
        out.result = Tri::yes;
        for (const Condition* c : conditions) {
            ConditionOutcome o = evaluate(*c, facts);
            if (o.result == Tri::no) return Joined{};
            if (o.result == Tri::unknown) {
                out.result = Tri::unknown;
                out.unknown.emplace_back(c->key, std::move(o.unknown_reason));
            } else {
                out.matched.insert(out.matched.end(), o.matched.begin(), o.matched.end());
            }
        }
        return out;
    }
    for (const std::string& instance : instances) {
        Tri result = Tri::yes;
        Pairs matched, unknown;
        for (const Condition* c : conditions) {
            const Condition bound = bound_to(*c, family, instance);
            ConditionOutcome o = evaluate(bound, facts);
            if (o.result == Tri::no) {
                result = Tri::no;
                break;
            }
            if (o.result == Tri::unknown) {
                result = Tri::unknown;
                unknown.emplace_back(bound.key, std::move(o.unknown_reason));
            } else {
                matched.insert(matched.end(), o.matched.begin(), o.matched.end());
            }
        }
        if (result == Tri::yes) {
            if (out.result != Tri::yes) out = Joined{Tri::yes, {}, {}};
            out.matched.insert(out.matched.end(), matched.begin(), matched.end());
        } else if (result == Tri::unknown && out.result == Tri::no) {
            out = Joined{Tri::unknown, {}, std::move(unknown)};
        }
    }
    if (out.result == Tri::no) {
        // No instance known here satisfies them all; one whose facts are unknown still might.
        for (const Condition* c : conditions) {
            if (auto reason = facts.unknown_reason(c->key)) return Joined{Tri::unknown, {}, {{c->key, *reason}}};
        }
    }
    return out;
}

} // namespace

std::string join_family(std::string_view key)
{
    const auto star = key.find('*');
    if (star == std::string_view::npos || star + 1 >= key.size() || key[star + 1] != '.') return {};
    if (star != 0 && key[star - 1] != '.') return {};
    return std::string(key.substr(0, star + 1));
}

ConditionSetOutcome evaluate_all(std::span<const Condition> conditions, const Facts& facts)
{
    std::map<std::string, std::vector<const Condition*>> families;
    for (const Condition& c : conditions) {
        if (std::string family = join_family(c.key); !family.empty()) families[family].push_back(&c);
    }
    // In the order written, a family where its first member stands, so the evidence reads as
    // the rule does.
    ConditionSetOutcome out;
    std::set<std::string> done;
    for (const Condition& c : conditions) {
        const std::string family = join_family(c.key);
        Joined j;
        if (family.empty() || families[family].size() == 1) {
            ConditionOutcome o = evaluate(c, facts);
            j.result = o.result;
            j.matched = std::move(o.matched);
            if (o.result == Tri::unknown) j.unknown.emplace_back(c.key, std::move(o.unknown_reason));
        } else if (done.insert(family).second) {
            j = evaluate_family(families[family], family, facts);
        } else {
            continue;
        }
        if (j.result == Tri::no) return ConditionSetOutcome{Tri::no, {}, {}};
        if (j.result == Tri::unknown) out.result = Tri::unknown;
        out.matched.insert(out.matched.end(), j.matched.begin(), j.matched.end());
        out.unknown.insert(out.unknown.end(), j.unknown.begin(), j.unknown.end());
    }
    return out;
}

} // namespace halo::rules
