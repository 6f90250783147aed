#include "daemon/checkd/api_news.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

using namespace halo::checkd;
using halo::app::ApiCheck;
using halo::app::ApiCheckStatus;

TEST_CASE("an API check turned fail: one err entry naming the check, its detail and fix", "[checkd][api_news]")
{
    const ApiCheck c{"messages-stream", ApiCheckStatus::fail, "the stream ended after 2 events without message_stop",
                     "use a llama.cpp build whose /v1/messages streams Anthropic events", 12};
    const JournalRecord rec = api_failure_record(c, "llama-server");
    CHECK(rec.kind == JournalEventKind::engine_api_failed);
    CHECK(rec.priority == 3);
    CHECK(rec.verdict == "broken");
    CHECK(rec.message ==
          "Engine API check messages-stream failed on llama-server: the stream ended after 2 events "
          "without message_stop. Fix: use a llama.cpp build whose /v1/messages streams Anthropic events");
    const auto fields = journal_fields(rec);
    for (const char* f : {"HALO_API_CHECK=messages-stream", "HALO_EVENT=engine-api-failed", "HALO_ENGINE=llama-server",
                          "HALO_FIX=use a llama.cpp build whose /v1/messages streams Anthropic events",
                          "HALO_DETAIL=the stream ended after 2 events without message_stop", "PRIORITY=3"}) {
        INFO(f);
        CHECK(std::find(fields.begin(), fields.end(), f) != fields.end());
    }
    CHECK(std::string(message_id(JournalEventKind::engine_api_failed)) != message_id(JournalEventKind::engine_state));
}

TEST_CASE("an API fail without a fix has no Fix part", "[checkd][api_news]")
{
    const ApiCheck c{"auth", ApiCheckStatus::fail, "a request with the key: HTTP 500", "", 0};
    const JournalRecord rec = api_failure_record(c, "e");
    CHECK(rec.message == "Engine API check auth failed on e: a request with the key: HTTP 500");
    for (const auto& [k, v] : rec.extra) CHECK(k != "HALO_FIX");
}
