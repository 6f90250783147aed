#include "daemon/checkd/api_news.hpp"

#include <fmt/core.h>

namespace halo::checkd {

std::string api_failure_message(const app::ApiCheck& check, const std::string& engine)
{
    std::string m = fmt::format("Engine API check {} failed on {}: {}", check.id, engine, check.detail);
    if (!check.fix.empty()) m += fmt::format(". Fix: {}", check.fix);
    return m;
}

JournalRecord api_failure_record(const app::ApiCheck& check, const std::string& engine)
{
    JournalRecord rec;
    rec.kind = JournalEventKind::engine_api_failed;
    rec.message = api_failure_message(check, engine);
    rec.priority = 3;
    rec.verdict = "broken";
    rec.extra = {{"HALO_API_CHECK", check.id}, {"HALO_DETAIL", check.detail}};
    if (!check.fix.empty()) rec.extra.emplace_back("HALO_FIX", check.fix);
    rec.extra.emplace_back("HALO_ENGINE", engine);
    return rec;
}

} // namespace halo::checkd
