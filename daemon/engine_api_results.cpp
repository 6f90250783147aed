#include "daemon/engine_api_results.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <map>

namespace halo::app {

using nlohmann::json;

namespace {

std::string text_or_empty(const json& j, const char* key)
{
    return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

std::optional<ApiCheckStatus> status_from(std::string_view text)
{
    for (ApiCheckStatus s : {ApiCheckStatus::pass, ApiCheckStatus::warn, ApiCheckStatus::fail, ApiCheckStatus::skip}) {
        if (to_string(s) == text) return s;
    }
    return std::nullopt;
}

} // namespace

std::optional<long> build_number_of(std::string_view build_info)
{
    if (build_info.size() < 2 || build_info.front() != 'b') return std::nullopt;
    const char* first = build_info.data() + 1;
    const char* last = build_info.data() + build_info.size();
    long n = 0;
    const auto [end, ec] = std::from_chars(first, last, n);
    if (ec != std::errc() || end == first || n < 0) return std::nullopt;
    if (end != last && *end != '-') return std::nullopt;
    return n;
}

EngineProps props_from_answer(const ApiAnswer& answer)
{
    EngineProps props;
    const json p = json::parse(answer.body, nullptr, false);
    if (answer.status != 200 || !p.is_object()) return props;
    props.build = text_or_empty(p, "build_info");
    props.build_number = build_number_of(props.build);
    props.template_name = text_or_empty(p, "chat_template").substr(0, 48);
    if (auto nl = props.template_name.find('\n'); nl != std::string::npos) props.template_name.resize(nl);
    if (p.contains("chat_template_caps") && p["chat_template_caps"].is_object()) {
        const json& caps = p["chat_template_caps"];
        if (caps.contains("supports_tools") && caps["supports_tools"].is_boolean())
            props.renders_tools = caps["supports_tools"].get<bool>();
    }
    if (p.contains("default_generation_settings") && p["default_generation_settings"].is_object()) {
        const json& g = p["default_generation_settings"];
        if (g.contains("n_ctx") && g["n_ctx"].is_number_integer()) props.n_ctx = g["n_ctx"].get<long>();
    }
    return props;
}

std::string first_served_model(const ApiAnswer& answer)
{
    if (answer.status != 200) return {};
    const json j = json::parse(answer.body, nullptr, false);
    if (j.is_object() && j.contains("data") && j["data"].is_array() && !j["data"].empty())
        return text_or_empty(j["data"][0], "id");
    return {};
}

json count_tokens_request(const std::string& model)
{
    json body = messages_request(model, false);
    body.erase("max_tokens");
    return body;
}

std::optional<std::string> sse_data(std::string_view line)
{
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.starts_with("data:")) return std::nullopt;
    line.remove_prefix(5);
    if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    return std::string(line);
}

std::vector<std::string> sse_data_lines(std::string_view body)
{
    std::vector<std::string> out;
    while (!body.empty()) {
        const auto nl = body.find('\n');
        const std::string_view line = body.substr(0, nl);
        if (auto data = sse_data(line)) out.push_back(std::move(*data));
        if (nl == std::string_view::npos) break;
        body.remove_prefix(nl + 1);
    }
    return out;
}

ApiCheck transport_failure(const std::string& id, const std::string& what, const std::string& error)
{
    return ApiCheck{id, ApiCheckStatus::fail, what + ": " + error,
                    "Claude Code needs a complete answer within its timeout; see the engine's log", 0};
}

std::optional<ApiCheck> cache_reuse_context_too_small(long n_ctx)
{
    if (n_ctx <= 0 || n_ctx >= 1536) return std::nullopt;
    return ApiCheck{"cache-reuse", ApiCheckStatus::skip,
                    fmt::format("the engine's context ({} tokens) is too small for a ~1K-token prefix", n_ctx), "", 0};
}

long cache_prefix_tokens(long n_ctx)
{
    // Half the context, 1K to 8K tokens: enough to time, cheap to repeat.
    return std::min(std::clamp(n_ctx > 0 ? n_ctx / 2 : 1024L, 1024L, 8192L), n_ctx > 0 ? n_ctx - 128 : 8192L);
}

json cache_sample_request(const std::string& model)
{
    json counted = billing_request(model, k_cache_nonce_first, k_cache_sample_words);
    counted.erase("max_tokens");
    return counted;
}

int cache_prefix_words(long target_tokens, const ApiAnswer& counted)
{
    // Words per token differ by tokenizer: the sample's count says how many this one makes.
    double tokens_per_word = 1.0;
    const json j = json::parse(counted.body, nullptr, false);
    if (counted.status == 200 && j.is_object() && j.contains("input_tokens") && j["input_tokens"].is_number_integer() &&
        j["input_tokens"].get<long>() > 0)
        tokens_per_word = static_cast<double>(j["input_tokens"].get<long>()) / k_cache_sample_words;
    return std::max(64, static_cast<int>(static_cast<double>(target_tokens) / tokens_per_word));
}

ApiCheck judge_cache_answers(const ApiAnswer& first, const ApiAnswer& second, double wall_ms, long n_ctx)
{
    if (first.status != 200 || second.status != 200) {
        const ApiAnswer& bad = first.status != 200 ? first : second;
        return ApiCheck{"cache-reuse", ApiCheckStatus::fail,
                        fmt::format("HTTP {}: {}", bad.status, answer_error_text(bad)), "See the engine's log", 0};
    }
    const json j = json::parse(second.body, nullptr, false);
    if (!j.is_object() || !j.contains("usage") || !j["usage"].is_object())
        return ApiCheck{"cache-reuse", ApiCheckStatus::skip, "the answer carries no usage figures", "", 0};
    const json& u = j["usage"];
    const auto count = [&u](const char* key) {
        return u.contains(key) && u[key].is_number_integer() ? u[key].get<long>() : 0L;
    };
    double prompt_ms = wall_ms;
    if (j.contains("timings") && j["timings"].is_object() && j["timings"].contains("prompt_ms") &&
        j["timings"]["prompt_ms"].is_number())
        prompt_ms = j["timings"]["prompt_ms"].get<double>();
    return judge_cache_reuse(count("input_tokens"), count("cache_read_input_tokens"), prompt_ms, n_ctx);
}

const std::vector<std::string>& daemon_api_check_ids()
{
    static const std::vector<std::string> ids{"models", "messages", "messages-stream", "count-tokens", "auth"};
    return ids;
}

nlohmann::ordered_json to_json(const ApiResults& r)
{
    nlohmann::ordered_json checks = nlohmann::ordered_json::array();
    for (const ApiCheck& c : r.checks) {
        checks.push_back({{"id", c.id},
                          {"status", std::string(to_string(c.status))},
                          {"detail", c.detail},
                          {"fix", c.fix},
                          {"ms", c.ms},
                          {"at", r.measured_at(c.id)}});
    }
    return {{"at", r.at},
            {"build", r.props.build.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.props.build)},
            {"build_number",
             r.props.build_number ? nlohmann::ordered_json(*r.props.build_number) : nlohmann::ordered_json(nullptr)},
            {"checks", checks}};
}

const std::string& ApiResults::measured_at(const std::string& id) const
{
    const auto it = kept_at.find(id);
    return it == kept_at.end() ? at : it->second;
}

ApiResults merge_api_run(const ApiResults* last, ApiResults run)
{
    if (!last) return run;
    // The last run's checks in their order, each one this run measured replaced by its result;
    // what this run measured anew goes after them.
    std::vector<ApiCheck> checks = last->checks;
    std::map<std::string, std::string> kept_at;
    for (const ApiCheck& c : checks) kept_at[c.id] = last->measured_at(c.id);
    for (ApiCheck& c : run.checks) {
        kept_at.erase(c.id);
        const auto same = std::find_if(checks.begin(), checks.end(), [&c](const ApiCheck& k) { return k.id == c.id; });
        if (same == checks.end()) checks.push_back(std::move(c));
        else *same = std::move(c);
    }
    run.checks = std::move(checks);
    run.kept_at = std::move(kept_at);
    return run;
}

std::optional<ApiResults> api_results_from_json(const json& j)
{
    if (!j.is_object() || !j.contains("checks") || !j["checks"].is_array()) return std::nullopt;
    ApiResults r;
    r.at = text_or_empty(j, "at");
    r.props.build = text_or_empty(j, "build");
    r.props.build_number = build_number_of(r.props.build);
    for (const json& c : j["checks"]) {
        if (!c.is_object()) continue;
        const auto status = status_from(text_or_empty(c, "status"));
        const std::string id = text_or_empty(c, "id");
        if (!status || id.empty()) continue;
        ApiCheck check{id, *status, text_or_empty(c, "detail"), text_or_empty(c, "fix"), 0};
        if (c.contains("ms") && c["ms"].is_number_integer()) check.ms = c["ms"].get<long>();
        // Only a result kept from an earlier run has a time of its own.
        if (std::string at = text_or_empty(c, "at"); !at.empty() && at != r.at) r.kept_at[id] = std::move(at);
        r.checks.push_back(std::move(check));
    }
    return r;
}

std::vector<std::pair<std::string, std::string>> api_facts(const ApiResults& r)
{
    std::vector<std::pair<std::string, std::string>> facts;
    for (const ApiCheck& c : r.checks) facts.emplace_back("engine.api." + c.id, std::string(to_string(c.status)));
    if (!r.props.build.empty()) facts.emplace_back("engine.build", r.props.build);
    if (r.props.build_number) facts.emplace_back("engine.build_number", std::to_string(*r.props.build_number));
    return facts;
}

std::string api_status_line(const ApiResults& r)
{
    long passed = 0;
    long skipped = 0;
    std::string others;
    // Fails first: they are why Claude Code will not work.
    for (ApiCheckStatus s : {ApiCheckStatus::fail, ApiCheckStatus::warn}) {
        std::string ids;
        for (const ApiCheck& c : r.checks) {
            if (c.status == s) ids += (ids.empty() ? "" : ", ") + c.id;
        }
        if (!ids.empty()) others += fmt::format("{}{} {}", others.empty() ? "" : "; ", to_string(s), ids);
    }
    for (const ApiCheck& c : r.checks) {
        passed += c.status == ApiCheckStatus::pass ? 1 : 0;
        skipped += c.status == ApiCheckStatus::skip ? 1 : 0;
    }
    const std::string skips = skipped ? fmt::format(", {} skipped", skipped) : std::string();
    if (others.empty()) return fmt::format("api: {} check{} pass{}", passed, passed == 1 ? "" : "s", skips);
    return fmt::format("api: {} ({} pass{})", others, passed, skips);
}

std::vector<ApiCheck> api_new_failures(const ApiResults* before, const ApiResults& now)
{
    std::map<std::string, ApiCheckStatus> was;
    if (before) {
        for (const ApiCheck& c : before->checks) was[c.id] = c.status;
    }
    std::vector<ApiCheck> out;
    for (const ApiCheck& c : now.checks) {
        if (c.status != ApiCheckStatus::fail) continue;
        const auto it = was.find(c.id);
        if (it == was.end() || it->second != ApiCheckStatus::fail) out.push_back(c);
    }
    return out;
}

bool api_checks_wanted(ClientKind kind, const std::optional<std::string>& points_at_engine)
{
    switch (kind) {
    case ClientKind::claude_code: return true;
    case ClientKind::none: return false;
    case ClientKind::auto_detect: break;
    }
    return points_at_engine == std::optional<std::string>("true");
}

} // namespace halo::app
