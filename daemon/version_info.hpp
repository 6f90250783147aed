#pragma once
// What `--version` prints for both programs: the release, the git revision it was built from (none
// in a tarball build), and the embedded knowledge base's date and size, so a bug report names the
// knowledge a verdict came from.

#include "rules/rule.hpp"

#include <cstddef>
#include <string>
#include <string_view>

namespace halo::app {

struct KnowledgeSummary {
    std::string newest; // the latest `since` of any entry, YYYY-MM-DD; empty for an empty set
    std::size_t rules = 0;
    std::size_t known_good = 0;
    std::size_t log_patterns = 0;
};

KnowledgeSummary summarise_knowledge(const rules::RuleSet& set);

// "halo-check 0.1.0 (git 1a2b3c4d5e6f)\nknowledge base: 2026-12-01, 16 rules, …\n"; the revision
// part is left out when `revision` is empty.
std::string version_text(std::string_view program, std::string_view version, std::string_view revision,
                         const KnowledgeSummary& knowledge);

// The git revision this binary was built from (with "-dirty" for uncommitted changes), or empty
// when it was built outside a git checkout. Written at build time by cmake/git_revision_script.cmake.
std::string_view build_git_revision();

// version_text() for this build and its embedded knowledge base.
std::string program_version_text(std::string_view program);

} // namespace halo::app
