#pragma once
// An engine API check that turned fail, as the journal records it: which check, what was sent
// and what came back, and the judge's fix (docs/journal.md). Which checks turned fail is decided
// by app::api_new_failures (daemon/engine_api_results.hpp). Pure, tested as data.

#include "daemon/checkd/journal_event.hpp"
#include "daemon/engine_api_check.hpp"

#include <string>

namespace halo::checkd {

// "Engine API check messages-stream failed on llama-server: <detail>. Fix: <fix>"
std::string api_failure_message(const app::ApiCheck& check, const std::string& engine);
// MESSAGE_ID engine_api_failed, PRIORITY 3 (Claude Code will not work), HALO_VERDICT broken,
// HALO_API_CHECK, HALO_DETAIL, HALO_FIX (when the judge gave one), HALO_ENGINE.
JournalRecord api_failure_record(const app::ApiCheck& check, const std::string& engine);

} // namespace halo::checkd
