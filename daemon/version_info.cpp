#include "daemon/version_info.hpp"

#include "rules/rule_loader.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace halo::app {

namespace {

// `since` is YYYY-MM-DD, so the newest date is the greatest string.
template <typename Entry>
void take_newest(const std::vector<Entry>& entries, std::string& newest)
{
    for (const Entry& e : entries) newest = std::max(newest, e.since);
}

} // namespace

KnowledgeSummary summarise_knowledge(const rules::RuleSet& set)
{
    KnowledgeSummary k;
    take_newest(set.rules, k.newest);
    take_newest(set.known_good, k.newest);
    take_newest(set.log_patterns, k.newest);
    k.rules = set.rules.size();
    k.known_good = set.known_good.size();
    k.log_patterns = set.log_patterns.size();
    return k;
}

std::string version_text(std::string_view program, std::string_view version, std::string_view revision,
                         const KnowledgeSummary& knowledge)
{
    std::string text = fmt::format("{} {}", program, version);
    if (!revision.empty()) text += fmt::format(" (git {})", revision);
    text += fmt::format("\nknowledge base: {}, {} rules, {} known-good, {} log patterns (embedded)",
                        knowledge.newest.empty() ? "undated" : knowledge.newest, knowledge.rules, knowledge.known_good,
                        knowledge.log_patterns);
    return text;
}

std::string program_version_text(std::string_view program)
{
    return version_text(program, HALO_VERSION, build_git_revision(),
                        summarise_knowledge(rules::load_embedded_rules().rules));
}

} // namespace halo::app
