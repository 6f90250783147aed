#include "daemon/engine_api_check.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace halo::app {

using nlohmann::json;

namespace {

const char* const prefill_error = "Assistant response prefill is incompatible with enable_thinking";

ApiCheck make(std::string id, ApiCheckStatus status, std::string detail, std::string fix = {})
{
    return ApiCheck{std::move(id), status, std::move(detail), std::move(fix), 0};
}

json parse(const std::string& body) { return json::parse(body, nullptr, false); }

std::string http_failure(const ApiAnswer& a) { return fmt::format("HTTP {}: {}", a.status, answer_error_text(a)); }

// A well-formed Anthropic message; empty when it is one, else what is wrong.
std::string message_problem(const json& m)
{
    if (!m.is_object()) return "the answer is not a JSON object";
    if (m.value("type", "") != "message") return "\"type\" is not \"message\"";
    if (m.value("role", "") != "assistant") return "\"role\" is not \"assistant\"";
    if (!m.contains("content") || !m["content"].is_array()) return "no \"content\" array";
    for (const auto& block : m["content"]) {
        if (!block.is_object() || !block.contains("type")) return "a content block without \"type\"";
    }
    if (!m.contains("stop_reason") || !m["stop_reason"].is_string()) return "no \"stop_reason\"";
    if (!m.contains("usage") || !m["usage"].is_object() || !m["usage"].contains("input_tokens") ||
        !m["usage"].contains("output_tokens"))
        return "no \"usage\" with input_tokens and output_tokens";
    return {};
}

std::string joined_text(const json& m)
{
    std::string text;
    for (const auto& block : m["content"]) {
        if (block.value("type", "") == "text") text += block.value("text", "");
    }
    return text;
}

std::string filler(int words)
{
    static const char* const vocabulary[] = {"engine", "kernel", "memory", "token", "prompt",  "cache",
                                             "server", "model",  "client", "turn",  "context", "check"};
    std::string text;
    text.reserve(static_cast<std::size_t>(words) * 7);
    for (int i = 0; i < words; ++i) {
        text += vocabulary[static_cast<std::size_t>(i * 7 + i / 12) % 12];
        text += (i % 16 == 15) ? ".\n" : " ";
    }
    return text;
}

json system_blocks(const std::string& text) { return json::array({{{"type", "text"}, {"text", text}}}); }

json user(const std::string& text) { return {{"role", "user"}, {"content", text}}; }

} // namespace

std::string_view to_string(ApiCheckStatus status)
{
    switch (status) {
    case ApiCheckStatus::pass: return "pass";
    case ApiCheckStatus::warn: return "warn";
    case ApiCheckStatus::fail: return "fail";
    case ApiCheckStatus::skip: return "skip";
    }
    return "skip";
}

const std::vector<std::string>& engine_check_ids()
{
    static const std::vector<std::string> ids{"models",   "messages",     "messages-stream", "tools", "prefill",
                                              "thinking", "count-tokens", "cache-reuse",     "auth"};
    return ids;
}

json messages_request(const std::string& model, bool stream)
{
    json r{{"model", model},
           {"max_tokens", 16},
           {"system", system_blocks("You are a terse assistant.")},
           {"messages", json::array({user("Say hello.")})}};
    if (stream) r["stream"] = true;
    return r;
}

json tools_request(const std::string& model)
{
    const json bash{{"name", "Bash"},
                    {"description", "Run a shell command"},
                    {"input_schema",
                     {{"type", "object"},
                      {"properties", {{"command", {{"type", "string"}}}}},
                      {"required", json::array({"command"})}}}};
    const json read{{"name", "Read"},
                    {"description", "Read a file"},
                    {"input_schema",
                     {{"type", "object"},
                      {"properties", {{"file_path", {{"type", "string"}}}}},
                      {"required", json::array({"file_path"})}}}};
    return {{"model", model},
            {"max_tokens", 64},
            {"system", system_blocks("You are a coding agent. Use the tools.")},
            {"tools", json::array({bash, read})},
            {"tool_choice", {{"type", "tool"}, {"name", "Bash"}}},
            {"messages", json::array({user("List the files in the current directory.")})}};
}

json tool_result_request(const std::string& model, const json& assistant_content)
{
    json r = tools_request(model);
    r.erase("tool_choice");
    std::string id = "toolu_0";
    for (const auto& block : assistant_content) {
        if (block.value("type", "") == "tool_use") id = block.value("id", id);
    }
    r["messages"].push_back({{"role", "assistant"}, {"content", assistant_content}});
    r["messages"].push_back(
        {{"role", "user"},
         {"content", json::array({{{"type", "tool_result"}, {"tool_use_id", id}, {"content", "README.md\nsrc\n"}}})}});
    return r;
}

json prefill_request(const std::string& model)
{
    return {{"model", model},
            {"max_tokens", 16},
            {"system", system_blocks("Answer with one JSON object.")},
            {"messages", json::array({user("Give the title of this chat as JSON {\"title\": ...}."),
                                      {{"role", "assistant"}, {"content", "{"}}})}};
}

json thinking_request(const std::string& model)
{
    json r = messages_request(model, false);
    r["max_tokens"] = 32;
    r["thinking"] = {{"type", "enabled"}, {"budget_tokens", 16}};
    return r;
}

json billing_request(const std::string& model, const std::string& nonce, int words)
{
    const std::string header =
        fmt::format("x-anthropic-billing-header: cc_version=2.1.36; cc_entrypoint=cli; cch={};", nonce);
    return {
        {"model", model},
        {"max_tokens", 1},
        {"system", json::array({{{"type", "text"}, {"text", header}}, {{"type", "text"}, {"text", filler(words)}}})},
        {"messages", json::array({user("Say ok.")})}};
}

std::string answer_error_text(const ApiAnswer& answer)
{
    const json j = parse(answer.body);
    if (j.is_object() && j.contains("error")) {
        const json& e = j["error"];
        if (e.is_object() && e.contains("message") && e["message"].is_string()) return e["message"];
        if (e.is_string()) return e;
    }
    if (j.is_discarded()) {
        std::string start = answer.body.substr(0, 80);
        std::replace(start.begin(), start.end(), '\n', ' ');
        if (answer.body.empty()) return "an empty body";
        return fmt::format("not JSON (it starts '{}'{})", start, answer.body.size() > 80 ? "…" : "");
    }
    return answer.body.substr(0, 200);
}

ApiCheck judge_models(const ApiAnswer& a, const std::string& model)
{
    const std::string fix = "Start llama-server with --alias NAME, or set ANTHROPIC_MODEL to a served id";
    if (a.status != 200) return make("models", ApiCheckStatus::fail, "GET /v1/models: " + http_failure(a), fix);
    const json j = parse(a.body);
    if (!j.is_object() || !j.contains("data") || !j["data"].is_array())
        return make("models", ApiCheckStatus::fail, "GET /v1/models: no \"data\" list: " + answer_error_text(a), fix);
    std::vector<std::string> ids;
    for (const auto& m : j["data"]) {
        if (m.is_object() && m.contains("id") && m["id"].is_string()) ids.push_back(m["id"]);
    }
    if (model.empty() || std::find(ids.begin(), ids.end(), model) != ids.end())
        return make("models", ApiCheckStatus::pass,
                    fmt::format("GET /v1/models serves '{}'", ids.empty() ? std::string{} : ids.front()));
    if (ids.size() == 1)
        return make(
            "models", ApiCheckStatus::pass,
            fmt::format("GET /v1/models serves '{}' only; single-model mode ignores the name '{}'", ids[0], model));
    return make("models", ApiCheckStatus::fail,
                fmt::format("GET /v1/models does not serve '{}' ({} models)", model, ids.size()), fix);
}

ApiCheck judge_messages(const ApiAnswer& a)
{
    const std::string fix = "Use a llama.cpp build with the Anthropic /v1/messages API (2025-11 or newer)";
    if (a.status != 200) return make("messages", ApiCheckStatus::fail, "POST /v1/messages: " + http_failure(a), fix);
    const json j = parse(a.body);
    if (j.is_discarded())
        return make("messages", ApiCheckStatus::fail, "POST /v1/messages: " + answer_error_text(a), fix);
    if (auto problem = message_problem(j); !problem.empty())
        return make("messages", ApiCheckStatus::fail, "POST /v1/messages: " + problem, fix);
    return make("messages", ApiCheckStatus::pass,
                fmt::format("POST /v1/messages: a message, stop_reason {}, {} output tokens",
                            j["stop_reason"].get<std::string>(), j["usage"]["output_tokens"].dump()));
}

ApiCheck judge_repeated(const ApiCheck& first, const ApiCheck& repeat)
{
    if (first.status != ApiCheckStatus::fail) return first;
    if (repeat.status == ApiCheckStatus::pass) {
        return ApiCheck{first.id, ApiCheckStatus::warn,
                        fmt::format("intermittent: the first try failed ({}); the repeat passed", first.detail),
                        fmt::format("{}. Claude Code retries some failed requests but shows an error for others; "
                                    "if it recurs, watch the engine's log while it happens",
                                    first.fix),
                        first.ms + repeat.ms};
    }
    return ApiCheck{first.id, ApiCheckStatus::fail, fmt::format("{}; sent again: {}", first.detail, repeat.detail),
                    first.fix, first.ms + repeat.ms};
}

ApiCheck judge_messages_stream(long status, const std::vector<std::string>& data_lines, bool finished)
{
    const std::string id = "messages-stream";
    const std::string fix = "Claude Code streams every answer: use a llama.cpp build whose /v1/messages streams "
                            "Anthropic events, and no proxy that buffers or cuts the stream";
    if (status != 200)
        return make(id, ApiCheckStatus::fail, fmt::format("POST /v1/messages stream: HTTP {}", status), fix);
    // Each step: the event types that may come next.
    std::vector<std::string> types;
    for (std::size_t i = 0; i < data_lines.size(); ++i) {
        const json j = parse(data_lines[i]);
        if (j.is_discarded() || !j.is_object())
            return make(id, ApiCheckStatus::fail,
                        fmt::format("event {} is not JSON: '{}'", i + 1, data_lines[i].substr(0, 80)), fix);
        types.push_back(j.value("type", ""));
        if (types.back() == "message_delta" &&
            !(j.contains("delta") && j["delta"].is_object() && j["delta"].contains("stop_reason")))
            return make(id, ApiCheckStatus::fail, "message_delta without stop_reason", fix);
    }
    // What may follow each event; a message holds any number of blocks, each a start, deltas, a stop.
    static const std::vector<std::pair<std::string, std::vector<std::string>>> next{
        {"", {"message_start"}},
        {"message_start", {"content_block_start", "message_delta"}},
        {"content_block_start", {"content_block_delta", "content_block_stop"}},
        {"content_block_delta", {"content_block_delta", "content_block_stop"}},
        {"content_block_stop", {"content_block_start", "message_delta"}},
        {"message_delta", {"message_stop"}},
        {"message_stop", {}}};
    std::string last;
    long blocks = 0;
    for (const auto& t : types) {
        if (t == "ping") continue;
        const auto from = std::find_if(next.begin(), next.end(), [&](const auto& n) { return n.first == last; });
        if (std::find(from->second.begin(), from->second.end(), t) == from->second.end())
            return make(id, ApiCheckStatus::fail,
                        fmt::format("event '{}' out of order after '{}'", t, last.empty() ? "the start" : last), fix);
        if (t == "content_block_start") ++blocks;
        last = t;
    }
    if (!finished || last != "message_stop")
        return make(id, ApiCheckStatus::fail,
                    fmt::format("the stream ended after {} events without message_stop{}", types.size(),
                                finished ? "" : " (cut off or timed out)"),
                    fix);
    if (blocks == 0) return make(id, ApiCheckStatus::fail, "no content_block_start event", fix);
    return make(id, ApiCheckStatus::pass,
                fmt::format("{} events in order, message_start to message_stop", types.size()));
}

ApiCheck judge_tools(const ApiAnswer& first, const ApiAnswer* followup, const std::string& template_name,
                     bool renders_tools)
{
    const std::string id = "tools";
    if (first.status == 400 || first.status == 500) {
        return make(id, ApiCheckStatus::fail,
                    fmt::format("POST /v1/messages with two tools: {}; the chat template ({}) cannot render tools",
                                http_failure(first), template_name.empty() ? "unnamed" : template_name),
                    "Start llama-server with --jinja and a template that renders tools (--chat-template-file), "
                    "or a model whose GGUF template supports tools");
    }
    const std::string fix = "Claude Code works through tool calls: use a model and template that call tools";
    if (first.status != 200)
        return make(id, ApiCheckStatus::fail, "POST /v1/messages with tools: " + http_failure(first), fix);
    const json j = parse(first.body);
    if (auto problem = message_problem(j); !problem.empty())
        return make(id, ApiCheckStatus::fail, "POST /v1/messages with tools: " + problem, fix);
    const json* call = nullptr;
    for (const auto& block : j["content"]) {
        if (block.value("type", "") == "tool_use") call = &block;
    }
    if (call == nullptr && !renders_tools)
        return make(id, ApiCheckStatus::fail,
                    fmt::format("no tool_use block came back, and the chat template ({}) cannot render tools "
                                "(/props chat_template_caps.supports_tools is false): the model never sees them",
                                template_name.empty() ? "unnamed" : template_name),
                    "Start llama-server with a chat template that renders tools (--chat-template-file), or a model "
                    "whose GGUF template supports tools");
    if (call == nullptr)
        return make(id, ApiCheckStatus::warn,
                    fmt::format("tool_choice named Bash but the answer holds no tool_use block (stop_reason {})",
                                j["stop_reason"].dump()),
                    fix);
    const json& input = (*call).contains("input") ? (*call)["input"] : json();
    if (call->value("name", "") != "Bash" || !input.is_object() || !input.contains("command") ||
        !input["command"].is_string())
        return make(id, ApiCheckStatus::fail,
                    fmt::format("the tool_use block does not match the Bash schema: {}", call->dump().substr(0, 160)),
                    fix);
    if (followup == nullptr) return make(id, ApiCheckStatus::pass, "a tool_use block for Bash with a command");
    if (followup->status != 200)
        return make(id, ApiCheckStatus::fail, "the tool_result follow-up: " + http_failure(*followup), fix);
    if (auto problem = message_problem(parse(followup->body)); !problem.empty())
        return make(id, ApiCheckStatus::fail, "the tool_result follow-up: " + problem, fix);
    return make(id, ApiCheckStatus::pass,
                "a tool_use block for Bash with a command; the tool_result follow-up accepted");
}

ApiCheck judge_prefill(const ApiAnswer& a)
{
    const std::string id = "prefill";
    const std::string error = answer_error_text(a);
    if (a.status == 400 && error.find(prefill_error) != std::string::npos) {
        return make(id, ApiCheckStatus::fail,
                    fmt::format("Claude Code's internal call (last message assistant '{{'): HTTP 400: {}", error),
                    "Turn thinking off (--reasoning-budget 0, or --chat-template-kwargs "
                    "'{\"enable_thinking\":false}'; loses the model's thinking), or use a llama.cpp build newer than "
                    "b8763, which continues the prefill. --no-prefill-assistant silences the 400 but ends the '{' "
                    "as a finished turn: the JSON Claude Code expects can break without any error");
    }
    const std::string fix = "Use a llama.cpp build that continues a trailing assistant message";
    if (a.status != 200) return make(id, ApiCheckStatus::fail, "Claude Code's internal call: " + http_failure(a), fix);
    const json j = parse(a.body);
    if (auto problem = message_problem(j); !problem.empty())
        return make(id, ApiCheckStatus::fail, "Claude Code's internal call: " + problem, fix);
    return make(id, ApiCheckStatus::pass,
                fmt::format("Claude Code's internal call (last message assistant '{{') answered 200, {} characters "
                            "continuing it",
                            joined_text(j).size()));
}

ApiCheck judge_thinking(const ApiAnswer& a)
{
    const std::string id = "thinking";
    if (a.status != 200)
        return make(id, ApiCheckStatus::fail, "POST /v1/messages with thinking enabled: " + http_failure(a),
                    "Claude Code sends thinking budgets: use a llama.cpp build that accepts \"thinking\"");
    const json j = parse(a.body);
    if (auto problem = message_problem(j); !problem.empty())
        return make(id, ApiCheckStatus::fail, "POST /v1/messages with thinking enabled: " + problem,
                    "Use a llama.cpp build whose /v1/messages accepts \"thinking\"");
    long blocks = 0;
    for (const auto& block : j["content"]) {
        if (block.value("type", "") == "thinking") ++blocks;
    }
    return make(id, ApiCheckStatus::pass,
                blocks > 0 ? fmt::format("{} thinking block(s)", blocks)
                           : std::string("accepted; no thinking blocks (the template does not think)"));
}

ApiCheck judge_count_tokens(const ApiAnswer& a)
{
    const std::string id = "count-tokens";
    const std::string fix = "Use a llama.cpp build with POST /v1/messages/count_tokens";
    if (a.status != 200)
        return make(id, ApiCheckStatus::warn, "POST /v1/messages/count_tokens: " + http_failure(a), fix);
    const json j = parse(a.body);
    if (!j.is_object() || !j.contains("input_tokens") || !j["input_tokens"].is_number_integer() ||
        j["input_tokens"].get<long>() <= 0)
        return make(id, ApiCheckStatus::warn,
                    "POST /v1/messages/count_tokens: no input_tokens > 0: " + answer_error_text(a), fix);
    return make(id, ApiCheckStatus::pass, fmt::format("input_tokens {}", j["input_tokens"].get<long>()));
}

ApiCheck judge_auth(const ApiAnswer& without, const ApiAnswer& with)
{
    const std::string id = "auth";
    if (without.status == 200)
        return make(id, ApiCheckStatus::warn, "a request without the key was answered 200: the engine takes no key",
                    "Start llama-server with --api-key-file when it listens beyond loopback");
    if (with.status == 401 || with.status == 403)
        return make(id, ApiCheckStatus::fail, fmt::format("a request with the key was refused: {}", http_failure(with)),
                    "Set ANTHROPIC_AUTH_TOKEN in Claude Code's settings to the engine's --api-key");
    if (with.status != 200)
        return make(id, ApiCheckStatus::fail, "a request with the key: " + http_failure(with), "See the engine's log");
    return make(id, ApiCheckStatus::pass, fmt::format("without the key: HTTP {}; with it: HTTP 200", without.status));
}

ApiCheck judge_cache_reuse(long prompt_n, long cache_n, double prompt_ms, long n_ctx)
{
    const std::string id = "cache-reuse";
    const long total = prompt_n + cache_n;
    if (total <= 0) return make(id, ApiCheckStatus::skip, "the engine reported no prompt figures (timings)");
    const double reused = static_cast<double>(cache_n) / static_cast<double>(total);
    if (reused >= 0.9)
        return make(id, ApiCheckStatus::pass,
                    fmt::format("{} of {} prompt tokens came from the cache ({:.0f}%) across a billing-header nonce "
                                "change",
                                cache_n, total, reused * 100));
    const double per_token_s = prompt_n > 0 ? prompt_ms / 1000.0 / static_cast<double>(prompt_n) : 0.0;
    return make(id, ApiCheckStatus::warn,
                fmt::format("only {} of {} prompt tokens came from the cache ({:.0f}%) when the billing-header nonce "
                            "changed: {:.2f} s of re-prefill per turn at this prefix, about {:.0f} s at the full "
                            "context of {} tokens",
                            cache_n, total, reused * 100, prompt_ms / 1000.0, per_token_s * static_cast<double>(n_ctx),
                            n_ctx),
                "Set CLAUDE_CODE_ATTRIBUTION_HEADER=0 in Claude Code's settings env block, or use a llama-server that "
                "normalises the cch= field");
}

int engine_check_exit_code(const std::vector<ApiCheck>& checks)
{
    int code = 0;
    for (const auto& c : checks) {
        if (c.status == ApiCheckStatus::fail) code = 2;
        if (c.status == ApiCheckStatus::warn) code = std::max(code, 1);
    }
    return code;
}

std::string engine_check_verdict(const std::vector<ApiCheck>& checks)
{
    switch (engine_check_exit_code(checks)) {
    case 2: return "fail";
    case 1: return "warn";
    default: return "pass";
    }
}

json to_json(const EngineCheckReport& r)
{
    json checks = json::array();
    for (const auto& c : r.checks) {
        checks.push_back(
            {{"id", c.id}, {"status", to_string(c.status)}, {"detail", c.detail}, {"fix", c.fix}, {"ms", c.ms}});
    }
    return {{"url", r.url},
            {"engine", {{"build", r.build}, {"model", r.model}, {"n_ctx", r.n_ctx}}},
            {"checks", checks},
            {"verdict", engine_check_verdict(r.checks)},
            {"exit_code", engine_check_exit_code(r.checks)}};
}

std::string format_engine_check(const EngineCheckReport& r)
{
    std::string out =
        fmt::format("engine: {}  build {}  model {}  context {}\n", r.url, r.build.empty() ? "unknown" : r.build,
                    r.model.empty() ? "unknown" : r.model, r.n_ctx);
    for (const auto& c : r.checks) {
        out += fmt::format("  {:<4}  {:<15} {:>6} ms  {}\n", to_string(c.status), c.id, c.ms, c.detail);
        if (!c.fix.empty()) out += fmt::format("        fix: {}\n", c.fix);
    }
    out += fmt::format("verdict: {}\n", engine_check_verdict(r.checks));
    return out;
}

} // namespace halo::app
