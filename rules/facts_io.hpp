#pragma once
// The facts file: the one interchange format (what `halo-check facts` prints, what `check
// --facts` reads, what an isolated probe child writes back, what the daemon stores as last known
// good). TOML, or JSON of the same shape:
//
//   [snapshot]  taken, host, halo_check_version
//   [facts]     "kernel.release" = "6.18.5-200.fc43.x86_64"   (numbers/booleans read as text)
//   [sources]   "kernel.release" = "kernel:/proc/sys/kernel/osrelease"
//   [unknown]   "vulkan.*" = "vulkan probe failed: no answer in 5 s"
//   [probes.NAME] status = "ok|partial|failed|not_applicable|not_run", reason, elapsed_ms

#include "common/result.hpp"
#include "rules/facts.hpp"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>

namespace halo::rules {

enum class FactsFormat { toml, json };

// `origin` names the input in messages ("facts.toml" → "facts.toml:3:7: …").
Result<Facts> parse_facts(std::string_view text, const std::string& origin);
Result<Facts> parse_facts_toml(std::string_view text, const std::string& origin);
Result<Facts> parse_facts_json(std::string_view text, const std::string& origin);
// Reads a facts file a person or another tool handed us. Evidence is only what a probe that ran
// reported: the keys of a probe the file carries no status for (or one that failed or did not
// run) are marked unknown, so a partial capture never reads as "absent".
Result<Facts> load_facts_file(const std::string& path);

// The marking load_facts_file applies, for facts read some other way.
void mark_unreported_probes_unknown(Facts& facts, const std::string& origin);

std::string serialize_facts(const Facts& facts, FactsFormat format);
// The JSON form as a document, for a caller that embeds it (the daemon's state file) without
// printing and parsing it again. Strings are as the probes gave them: dump with
// error_handler_t::replace.
nlohmann::ordered_json facts_to_json(const Facts& facts);

} // namespace halo::rules
