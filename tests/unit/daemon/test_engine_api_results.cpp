#include "daemon/engine_api_results.hpp"

#include <catch2/catch.hpp>

using namespace halo::app;

namespace {

ApiCheck check(const std::string& id, ApiCheckStatus status, const std::string& detail = "d")
{
    return ApiCheck{id, status, detail, status == ApiCheckStatus::pass ? "" : "the fix", 7};
}

ApiResults run(std::vector<ApiCheck> checks, const std::string& at = "2026-12-02T05:00:00.000Z")
{
    ApiResults r;
    r.at = at;
    r.props.build = "b8763-ff5ef8278";
    r.props.build_number = 8763;
    r.checks = std::move(checks);
    return r;
}

ApiResults all_pass()
{
    return run({check("models", ApiCheckStatus::pass), check("messages", ApiCheckStatus::pass),
                check("messages-stream", ApiCheckStatus::pass), check("count-tokens", ApiCheckStatus::pass),
                check("auth", ApiCheckStatus::pass)});
}

} // namespace

TEST_CASE("build numbers come from llama.cpp build strings only", "[daemon][engine_api]")
{
    CHECK(build_number_of("b8763-ff5ef8278") == 8763L);
    CHECK(build_number_of("b8763") == 8763L);
    CHECK(build_number_of("b1-de3ff81") == 1L);
    CHECK_FALSE(build_number_of("8763"));
    CHECK_FALSE(build_number_of("unknown"));
    CHECK_FALSE(build_number_of("b"));
    CHECK_FALSE(build_number_of("b-1"));
    CHECK_FALSE(build_number_of("b87x63"));
    CHECK_FALSE(build_number_of(""));
    CHECK_FALSE(build_number_of("b99999999999999999999999"));
}

TEST_CASE("/props gives build, template, tool support and context", "[daemon][engine_api]")
{
    const ApiAnswer a{200, R"({"build_info":"b8763-ff5ef8278","chat_template":"{# ChatML #}\n{% for m in messages %}",
        "chat_template_caps":{"supports_tools":false},"default_generation_settings":{"n_ctx":65536}})"};
    const EngineProps p = props_from_answer(a);
    CHECK(p.build == "b8763-ff5ef8278");
    CHECK(p.build_number == 8763L);
    CHECK(p.template_name == "{# ChatML #}");
    CHECK_FALSE(p.renders_tools);
    CHECK(p.n_ctx == 65536);

    for (const ApiAnswer& bad : {ApiAnswer{401, R"({"build_info":"b1"})"}, ApiAnswer{200, "<html>"},
                                 ApiAnswer{200, R"({"build_info":7,"chat_template_caps":{"supports_tools":"no"},
                                 "default_generation_settings":{"n_ctx":"big"}})"}}) {
        INFO(bad.body);
        const EngineProps d = props_from_answer(bad);
        CHECK(d.build.empty());
        CHECK_FALSE(d.build_number);
        CHECK(d.renders_tools);
        CHECK(d.n_ctx == 0);
    }
}

TEST_CASE("the first served model id, or none", "[daemon][engine_api]")
{
    CHECK(first_served_model({200, R"({"data":[{"id":"glm-4.7-flash"},{"id":"b"}]})"}) == "glm-4.7-flash");
    CHECK(first_served_model({200, R"({"data":[]})"}).empty());
    CHECK(first_served_model({200, R"({"data":[{"id":3}]})"}).empty());
    CHECK(first_served_model({500, R"({"data":[{"id":"x"}]})"}).empty());
    CHECK(first_served_model({200, "not json"}).empty());
}

TEST_CASE("count_tokens is the messages request without max_tokens", "[daemon][engine_api]")
{
    const auto body = count_tokens_request("m");
    CHECK_FALSE(body.contains("max_tokens"));
    CHECK(body["model"] == "m");
    CHECK(body["messages"] == messages_request("m", false)["messages"]);
    CHECK_FALSE(body.contains("stream"));
}

TEST_CASE("SSE data lines: LF or CRLF, other lines dropped, a cut-off last line kept", "[daemon][engine_api]")
{
    CHECK(sse_data("data: {\"a\":1}") == std::optional<std::string>("{\"a\":1}"));
    CHECK(sse_data("data:{}\r") == std::optional<std::string>("{}"));
    CHECK(sse_data("data:  x") == std::optional<std::string>(" x"));
    CHECK_FALSE(sse_data("event: message_start"));
    CHECK_FALSE(sse_data(": ping"));
    const auto lines =
        sse_data_lines("event: a\r\ndata: {\"type\":\"a\"}\r\n\r\nevent: b\ndata: {\"type\":\"b\"}\n\ndata: {\"ty");
    REQUIRE(lines.size() == 3);
    CHECK(lines[0] == "{\"type\":\"a\"}");
    CHECK(lines[1] == "{\"type\":\"b\"}");
    CHECK(lines[2] == "{\"ty");
    CHECK(sse_data_lines("").empty());
    CHECK(sse_data_lines("<html>502</html>").empty());
}

TEST_CASE("a request without an answer is a fail naming it", "[daemon][engine_api]")
{
    const ApiCheck c = transport_failure("messages", "POST /v1/messages", "Timeout was reached");
    CHECK(c.id == "messages");
    CHECK(c.status == ApiCheckStatus::fail);
    CHECK(c.detail == "POST /v1/messages: Timeout was reached");
    CHECK_FALSE(c.fix.empty());
}

TEST_CASE("cache-reuse: the prefix sized to the context, counted words, the second answer judged",
          "[daemon][engine_api]")
{
    CHECK_FALSE(cache_reuse_context_too_small(0)); // unknown: tried
    CHECK_FALSE(cache_reuse_context_too_small(1536));
    const auto small = cache_reuse_context_too_small(512);
    REQUIRE(small);
    CHECK(small->status == ApiCheckStatus::skip);
    CHECK(small->detail == "the engine's context (512 tokens) is too small for a ~1K-token prefix");

    CHECK(cache_prefix_tokens(0) == 1024);
    CHECK(cache_prefix_tokens(1536) == 1024);
    CHECK(cache_prefix_tokens(4096) == 2048);
    CHECK(cache_prefix_tokens(65536) == 8192);

    const auto sample = cache_sample_request("m");
    CHECK_FALSE(sample.contains("max_tokens"));
    CHECK(sample["system"][0]["text"].get<std::string>().find(std::string("cch=") + k_cache_nonce_first) !=
          std::string::npos);

    CHECK(cache_prefix_words(2048, {200, R"({"input_tokens":512})"}) == 1024); // 2 tokens a word
    CHECK(cache_prefix_words(2048, {404, "no"}) == 2048);                      // one a word
    CHECK(cache_prefix_words(2048, {200, R"({"input_tokens":"x"})"}) == 2048);
    CHECK(cache_prefix_words(10, {200, R"({"input_tokens":256})"}) == 64); // at least 64

    const ApiAnswer ok{200, "{}"};
    const ApiAnswer reused{200,
                           R"({"usage":{"input_tokens":10,"cache_read_input_tokens":1990},"timings":{"prompt_ms":5}})"};
    CHECK(judge_cache_answers(ok, reused, 100, 4096).status == ApiCheckStatus::pass);
    const ApiAnswer missed{
        200, R"({"usage":{"input_tokens":2000,"cache_read_input_tokens":0},"timings":{"prompt_ms":4000}})"};
    const ApiCheck warn = judge_cache_answers(ok, missed, 9999, 65536);
    CHECK(warn.status == ApiCheckStatus::warn);
    CHECK_THAT(warn.detail, Catch::Contains("4.00 s of re-prefill per turn"));
    CHECK_THAT(warn.fix, Catch::Contains("CLAUDE_CODE_ATTRIBUTION_HEADER=0"));
    const ApiAnswer no_timings{200, R"({"usage":{"input_tokens":2000,"cache_read_input_tokens":"x"}})"};
    CHECK_THAT(judge_cache_answers(ok, no_timings, 1500, 4096).detail, Catch::Contains("1.50 s of re-prefill"));
    CHECK(judge_cache_answers(ok, {200, R"({"content":[]})"}, 1, 4096).status == ApiCheckStatus::skip);
    const ApiCheck refused = judge_cache_answers({500, R"({"error":{"message":"boom"}})"}, ok, 1, 4096);
    CHECK(refused.status == ApiCheckStatus::fail);
    CHECK(refused.detail == "HTTP 500: boom");
}

TEST_CASE("the daemon runs the cheap checks, none of the prompt-sized or generating ones", "[daemon][engine_api]")
{
    const auto& ids = daemon_api_check_ids();
    CHECK(ids == std::vector<std::string>{"models", "messages", "messages-stream", "count-tokens", "auth"});
    for (const auto& id : ids) {
        INFO(id);
        CHECK(std::find(engine_check_ids().begin(), engine_check_ids().end(), id) != engine_check_ids().end());
    }
}

TEST_CASE("API results go through the state file and back", "[daemon][engine_api]")
{
    ApiResults r = run({check("models", ApiCheckStatus::pass), check("messages-stream", ApiCheckStatus::warn, "x"),
                        check("auth", ApiCheckStatus::skip)});
    const auto j = to_json(r);
    CHECK(j["at"] == r.at);
    CHECK(j["build"] == "b8763-ff5ef8278");
    CHECK(j["build_number"] == 8763);
    REQUIRE(j["checks"].size() == 3);
    CHECK(j["checks"][1]["id"] == "messages-stream");
    CHECK(j["checks"][1]["status"] == "warn");
    CHECK(j["checks"][1]["detail"] == "x");
    CHECK(j["checks"][1]["fix"] == "the fix");
    CHECK(j["checks"][1]["at"] == r.at);
    const auto back = api_results_from_json(nlohmann::json::parse(j.dump()));
    REQUIRE(back);
    CHECK(back->at == r.at);
    CHECK(back->props.build_number == 8763L);
    REQUIRE(back->checks.size() == 3);
    CHECK(back->checks[1].status == ApiCheckStatus::warn);
    CHECK(back->checks[1].ms == 7);

    ApiResults unknown_build = run({});
    unknown_build.props = {};
    CHECK(to_json(unknown_build)["build"].is_null());
    CHECK(to_json(unknown_build)["build_number"].is_null());

    CHECK_FALSE(api_results_from_json(nlohmann::json()));
    CHECK_FALSE(api_results_from_json(nlohmann::json::parse(R"({"checks":"none"})")));
    const auto odd =
        api_results_from_json(nlohmann::json::parse(R"({"checks":[{"id":"models","status":"maybe"},{"status":"pass"},7,
                                            {"id":"auth","status":"fail","ms":"x"}]})"));
    REQUIRE(odd);
    REQUIRE(odd->checks.size() == 1);
    CHECK(odd->checks[0].id == "auth");
    CHECK(odd->checks[0].ms == 0);
}

TEST_CASE("API facts: one per check, and the build when /props said", "[daemon][engine_api]")
{
    using Facts = std::vector<std::pair<std::string, std::string>>;
    const ApiResults r = run({check("models", ApiCheckStatus::pass), check("auth", ApiCheckStatus::skip)});
    CHECK(api_facts(r) == Facts{{"engine.api.models", "pass"},
                                {"engine.api.auth", "skip"},
                                {"engine.build", "b8763-ff5ef8278"},
                                {"engine.build_number", "8763"}});
    ApiResults no_build = run({check("messages", ApiCheckStatus::fail)});
    no_build.props = {};
    CHECK(api_facts(no_build) == Facts{{"engine.api.messages", "fail"}});
}

TEST_CASE("the status line: all pass, or the ones that did not", "[daemon][engine_api]")
{
    CHECK(api_status_line(all_pass()) == "api: 5 checks pass");
    CHECK(api_status_line(run({check("models", ApiCheckStatus::pass)})) == "api: 1 check pass");
    CHECK(api_status_line(run({check("models", ApiCheckStatus::pass), check("auth", ApiCheckStatus::skip)})) ==
          "api: 1 check pass, 1 skipped");
    CHECK(api_status_line(run({check("models", ApiCheckStatus::pass), check("messages-stream", ApiCheckStatus::warn),
                               check("count-tokens", ApiCheckStatus::fail), check("messages", ApiCheckStatus::fail),
                               check("auth", ApiCheckStatus::skip)})) ==
          "api: fail count-tokens, messages; warn messages-stream (1 pass, 1 skipped)");
}

TEST_CASE("a check turning fail is news once", "[daemon][engine_api]")
{
    const ApiResults good = all_pass();
    ApiResults bad = all_pass();
    bad.checks[2].status = ApiCheckStatus::fail;
    bad.checks[2].fix = "the fix";

    SECTION("the first run: its fails are news, its passes are not")
    {
        CHECK(api_new_failures(nullptr, good).empty());
        const auto news = api_new_failures(nullptr, bad);
        REQUIRE(news.size() == 1);
        CHECK(news[0].id == "messages-stream");
        CHECK(news[0].fix == "the fix");
    }
    SECTION("pass → fail is news; fail → fail is not; fail → pass → fail is news again")
    {
        CHECK(api_new_failures(&good, bad).size() == 1);
        CHECK(api_new_failures(&bad, bad).empty());
        CHECK(api_new_failures(&bad, good).empty());
    }
    SECTION("warn or skip → fail is news; a check absent before is news")
    {
        for (ApiCheckStatus before : {ApiCheckStatus::warn, ApiCheckStatus::skip}) {
            ApiResults b = bad;
            b.checks[2].status = before;
            CHECK(api_new_failures(&b, bad).size() == 1);
        }
        const ApiResults few = run({check("models", ApiCheckStatus::pass)});
        CHECK(api_new_failures(&few, bad).size() == 1);
    }
    SECTION("two checks turning fail are two events, in the run's order")
    {
        ApiResults two = bad;
        two.checks[0].status = ApiCheckStatus::fail;
        const auto news = api_new_failures(&good, two);
        REQUIRE(news.size() == 2);
        CHECK(news[0].id == "models");
        CHECK(news[1].id == "messages-stream");
    }
}

TEST_CASE("a cache-reuse result lasts until the slow timer measures it again", "[daemon][engine_api]")
{
    const std::string cheap_at = "2026-12-02T05:00:00.000Z";
    const std::string cache_at = "2026-12-02T06:00:00.000Z";
    const std::string next_at = "2026-12-02T07:00:00.000Z";
    ApiResults cache_run = run({check("cache-reuse", ApiCheckStatus::fail, "1 of 1965 tokens reused")}, cache_at);
    const ApiResults cheap = all_pass();

    SECTION("without an earlier run, a run is kept as it came")
    {
        const ApiResults kept = merge_api_run(nullptr, cheap);
        CHECK(kept.checks.size() == 5);
        CHECK(merge_api_run(nullptr, cache_run).checks.size() == 1);
    }
    SECTION("a cache-reuse run joins the cheap checks, which keep their own time")
    {
        const ApiResults merged = merge_api_run(&cheap, cache_run);
        REQUIRE(merged.checks.size() == 6);
        CHECK(merged.at == cache_at);
        CHECK(merged.checks[0].id == "models");
        CHECK(merged.measured_at("models") == cheap_at);
        CHECK(merged.checks[5].id == "cache-reuse");
        CHECK(merged.measured_at("cache-reuse") == cache_at);
        // A second cache-reuse run replaces the first one's result.
        cache_run.checks[0].status = ApiCheckStatus::pass;
        const ApiResults again = merge_api_run(&merged, cache_run);
        CHECK(again.checks.size() == 6);
        CHECK(again.checks.back().status == ApiCheckStatus::pass);
    }
    SECTION("the next ready's cheap run keeps the cache-reuse fail: not news again")
    {
        const ApiResults after_cache = merge_api_run(&cheap, cache_run);
        const ApiResults next = merge_api_run(&after_cache, run(all_pass().checks, next_at));
        REQUIRE(next.checks.size() == 6);
        CHECK(next.at == next_at);
        CHECK(next.checks.back().id == "cache-reuse");
        CHECK(next.checks.back().status == ApiCheckStatus::fail);
        CHECK(next.measured_at("cache-reuse") == cache_at);
        CHECK(next.measured_at("models") == next_at);
        CHECK(api_new_failures(&after_cache, next).empty());
        CHECK(api_status_line(next) == "api: fail cache-reuse (5 pass)");

        // Through the state file: each check's time as measured.
        const auto j = to_json(next);
        CHECK(j["checks"][0]["at"] == next_at);
        CHECK(j["checks"][5]["at"] == cache_at);
        const auto back = api_results_from_json(nlohmann::json::parse(j.dump()));
        REQUIRE(back);
        CHECK(back->measured_at("models") == next_at);
        CHECK(back->kept_at.size() == 1);
        CHECK(back->measured_at("cache-reuse") == cache_at);
        // A cache-reuse fail measured again by the timer is still no news.
        const ApiResults timer = merge_api_run(&*back, run(cache_run.checks, "2026-12-02T08:00:00.000Z"));
        CHECK(api_new_failures(&*back, timer).empty());
    }
    SECTION("a run that measured cache-reuse itself keeps its own result, once")
    {
        ApiResults both = all_pass();
        both.checks.push_back(check("cache-reuse", ApiCheckStatus::pass));
        const ApiResults merged = merge_api_run(&cache_run, both);
        REQUIRE(merged.checks.size() == 6);
        CHECK(merged.checks[0].id == "cache-reuse");
        CHECK(merged.checks[0].status == ApiCheckStatus::pass);
        CHECK(merged.kept_at.empty());
    }
}

TEST_CASE("whether the daemon checks the API: the config, else the client probe", "[daemon][engine_api]")
{
    const std::optional<std::string> yes("true");
    const std::optional<std::string> no("false");
    CHECK(api_checks_wanted(ClientKind::claude_code, std::nullopt));
    CHECK(api_checks_wanted(ClientKind::claude_code, no));
    CHECK_FALSE(api_checks_wanted(ClientKind::none, yes));
    CHECK(api_checks_wanted(ClientKind::auto_detect, yes));
    CHECK_FALSE(api_checks_wanted(ClientKind::auto_detect, no));
    CHECK_FALSE(api_checks_wanted(ClientKind::auto_detect, std::nullopt));
}
