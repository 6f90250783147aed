#include "daemon/engine_api_check.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace halo::app;

namespace {

std::string data(const std::string& name)
{
    std::ifstream in(std::string(HALO_TEST_DATA "/engine-api/") + name);
    REQUIRE(in);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<std::string> lines(const std::string& text)
{
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

const std::string good_message =
    R"({"id":"msg_1","type":"message","role":"assistant","content":[{"type":"text","text":"Hello"}],)"
    R"("stop_reason":"end_turn","usage":{"input_tokens":9,"output_tokens":2}})";

} // namespace

TEST_CASE("engine-check: the old prefill 400 is a fail naming each fix and its trade-off")
{
    const ApiCheck c = judge_prefill({400, data("prefill-400.json")});
    CHECK(c.status == ApiCheckStatus::fail);
    CHECK(c.detail.find("incompatible with enable_thinking") != std::string::npos);
    CHECK(c.fix.find("--reasoning-budget 0") != std::string::npos);
    CHECK(c.fix.find("enable_thinking\":false") != std::string::npos);
    CHECK(c.fix.find("--no-prefill-assistant") != std::string::npos);
    CHECK(c.fix.find("b8763") != std::string::npos);
    CHECK(judge_prefill({200, good_message}).status == ApiCheckStatus::pass);
    CHECK(judge_prefill({500, "oops"}).status == ApiCheckStatus::fail);
}

TEST_CASE("engine-check: a template that cannot render tools is a fail naming the template")
{
    const ApiCheck c = judge_tools({400, data("tools-cannot-render-400.json")}, nullptr, "chatml");
    CHECK(c.status == ApiCheckStatus::fail);
    CHECK(c.detail.find("chatml") != std::string::npos);
    CHECK(c.detail.find("tools param requires --jinja") != std::string::npos);
}

TEST_CASE("engine-check: a tool call is judged against the Bash schema and the follow-up")
{
    const std::string call =
        R"({"type":"message","role":"assistant","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{"command":"ls"}}],)"
        R"("stop_reason":"tool_use","usage":{"input_tokens":9,"output_tokens":2}})";
    const ApiAnswer ok{200, good_message};
    CHECK(judge_tools({200, call}, &ok, "").status == ApiCheckStatus::pass);
    const ApiAnswer refused{400, R"({"error":{"message":"bad tool_result"}})"};
    const ApiCheck c = judge_tools({200, call}, &refused, "");
    CHECK(c.status == ApiCheckStatus::fail);
    CHECK(c.detail.find("bad tool_result") != std::string::npos);
    const std::string wrong =
        R"({"type":"message","role":"assistant","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{"cmd":1}}],)"
        R"("stop_reason":"tool_use","usage":{"input_tokens":9,"output_tokens":2}})";
    CHECK(judge_tools({200, wrong}, nullptr, "").status == ApiCheckStatus::fail);
    CHECK(judge_tools({200, good_message}, nullptr, "").status == ApiCheckStatus::warn);
    const ApiCheck unrendered = judge_tools({200, good_message}, nullptr, "{%- for message in messages %}", false);
    CHECK(unrendered.status == ApiCheckStatus::fail);
    CHECK(unrendered.detail.find("supports_tools is false") != std::string::npos);
}

TEST_CASE("engine-check: a message must carry type, role, content, stop_reason and usage")
{
    CHECK(judge_messages({200, good_message}).status == ApiCheckStatus::pass);
    const ApiCheck html = judge_messages({200, "<html><body>502 Bad Gateway</body></html>"});
    CHECK(html.status == ApiCheckStatus::fail);
    CHECK(html.detail.find("not JSON") != std::string::npos);
    CHECK(html.detail.find("<html>") != std::string::npos);
    CHECK(judge_messages({200, R"({"type":"message","role":"assistant","content":[]})"}).status ==
          ApiCheckStatus::fail);
    const ApiCheck err = judge_messages({404, R"({"error":{"message":"File Not Found"}})"});
    CHECK(err.status == ApiCheckStatus::fail);
    CHECK(err.detail.find("HTTP 404: File Not Found") != std::string::npos);
}

TEST_CASE("engine-check: the stream's events must come in Anthropic's order and end in message_stop")
{
    const auto good = lines(data("stream-good.txt"));
    CHECK(judge_messages_stream(200, good, true).status == ApiCheckStatus::pass);
    auto truncated = good;
    truncated.resize(4);
    const ApiCheck cut = judge_messages_stream(200, truncated, false);
    CHECK(cut.status == ApiCheckStatus::fail);
    CHECK(cut.detail.find("without message_stop") != std::string::npos);
    auto swapped = good;
    std::swap(swapped[0], swapped[1]);
    CHECK(judge_messages_stream(200, swapped, true).status == ApiCheckStatus::fail);
    auto broken = good;
    broken[2] = R"({"type":"content_block_delta",)";
    const ApiCheck bad = judge_messages_stream(200, broken, true);
    CHECK(bad.status == ApiCheckStatus::fail);
    CHECK(bad.detail.find("event 3 is not JSON") != std::string::npos);
    auto no_reason = good;
    no_reason[5] = R"({"type":"message_delta","delta":{}})";
    CHECK(judge_messages_stream(200, no_reason, true).status == ApiCheckStatus::fail);
    CHECK(judge_messages_stream(500, {}, true).status == ApiCheckStatus::fail);
}

TEST_CASE("engine-check: a stream that fails once and passes on repeat is an intermittent warn")
{
    const auto good = lines(data("stream-good.txt"));
    // The real server's occasional stream: no message_start, it opens with content_block_start.
    const std::vector<std::string> no_start(good.begin() + 1, good.end());
    const ApiCheck first = judge_messages_stream(200, no_start, true);
    REQUIRE(first.status == ApiCheckStatus::fail);
    const ApiCheck pair = halo::app::judge_repeated(first, judge_messages_stream(200, good, true));
    CHECK(pair.status == ApiCheckStatus::warn);
    CHECK(pair.id == "messages-stream");
    CHECK(pair.detail.rfind("intermittent: the first try failed (", 0) == 0);
    CHECK(pair.detail.find(first.detail) != std::string::npos);
    CHECK_FALSE(pair.fix.empty());
    const ApiCheck twice = halo::app::judge_repeated(first, first);
    CHECK(twice.status == ApiCheckStatus::fail);
    CHECK(twice.detail.find("; sent again: ") != std::string::npos);
    // Only a fail is repeated.
    const ApiCheck pass = judge_messages_stream(200, good, true);
    CHECK(halo::app::judge_repeated(pass, first).status == ApiCheckStatus::pass);
}

TEST_CASE("engine-check: models, count-tokens, thinking and auth")
{
    const std::string one = R"({"object":"list","data":[{"id":"glm-4.7-flash"}]})";
    CHECK(judge_models({200, one}, "glm-4.7-flash").status == ApiCheckStatus::pass);
    const ApiCheck single = judge_models({200, one}, "claude-sonnet");
    CHECK(single.status == ApiCheckStatus::pass);
    CHECK(single.detail.find("ignores the name") != std::string::npos);
    const std::string two = R"({"data":[{"id":"a"},{"id":"b"}]})";
    CHECK(judge_models({200, two}, "c").status == ApiCheckStatus::fail);
    CHECK(judge_count_tokens({200, R"({"input_tokens":12})"}).status == ApiCheckStatus::pass);
    CHECK(judge_count_tokens({200, R"({"input_tokens":0})"}).status == ApiCheckStatus::warn);
    CHECK(judge_count_tokens({404, ""}).status == ApiCheckStatus::warn);
    CHECK(judge_thinking({200, good_message}).status == ApiCheckStatus::pass);
    CHECK(judge_thinking({500, R"({"error":{"message":"x"}})"}).status == ApiCheckStatus::fail);
    CHECK(judge_auth({401, ""}, {200, good_message}).status == ApiCheckStatus::pass);
    CHECK(judge_auth({200, good_message}, {200, good_message}).status == ApiCheckStatus::warn);
    CHECK(judge_auth({401, ""}, {401, ""}).status == ApiCheckStatus::fail);
}

TEST_CASE("engine-check: cache reuse below 90 percent is a warn with the measured cost")
{
    CHECK(judge_cache_reuse(10, 990, 5, 4096).status == ApiCheckStatus::pass);
    const ApiCheck c = judge_cache_reuse(1000, 0, 2000, 200000);
    CHECK(c.status == ApiCheckStatus::warn);
    CHECK(c.fix.find("CLAUDE_CODE_ATTRIBUTION_HEADER=0") != std::string::npos);
    CHECK(c.detail.find("2.00 s of re-prefill per turn") != std::string::npos);
    CHECK(c.detail.find("about 400 s at the full context of 200000") != std::string::npos);
    CHECK(judge_cache_reuse(0, 0, 0, 4096).status == ApiCheckStatus::skip);
}

TEST_CASE("engine-check: the exit code and verdict follow the worst check")
{
    std::vector<ApiCheck> checks{{"models", ApiCheckStatus::pass, "", "", 1},
                                 {"auth", ApiCheckStatus::skip, "", "", 0}};
    CHECK(engine_check_exit_code(checks) == 0);
    checks.push_back({"count-tokens", ApiCheckStatus::warn, "", "", 1});
    CHECK(engine_check_exit_code(checks) == 1);
    checks.push_back({"prefill", ApiCheckStatus::fail, "", "", 1});
    CHECK(engine_check_exit_code(checks) == 2);
    EngineCheckReport r{"http://127.0.0.1:8080", "b1-x", "m", 4096, checks};
    const auto j = to_json(r);
    CHECK(j["verdict"] == "fail");
    CHECK(j["exit_code"] == 2);
    CHECK(j["engine"]["n_ctx"] == 4096);
    CHECK(j["checks"][3]["id"] == "prefill");
    CHECK(format_engine_check(r).find("fail  prefill") != std::string::npos);
}

TEST_CASE("engine-check: the billing-header pair differs only in the nonce")
{
    const auto a = billing_request("m", "aaaaa", 1024);
    const auto b = billing_request("m", "bbbbb", 1024);
    CHECK(a["system"][0]["text"].get<std::string>().find("cch=aaaaa") != std::string::npos);
    CHECK(a["system"][1] == b["system"][1]);
    CHECK(a["messages"] == b["messages"]);
    CHECK(a["system"][0] != b["system"][0]);
    const auto p = prefill_request("m");
    CHECK(p["messages"].back()["role"] == "assistant");
    CHECK(p["messages"].back()["content"] == "{");
}
