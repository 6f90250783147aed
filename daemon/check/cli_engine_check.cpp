// `halo-check engine-check`: Claude Code's requests sent to the running engine, each answer judged
// by daemon/engine_api_check.hpp (docs/engine-check.md).

#include "common/fatal.hpp"
#include "daemon/check/cli_commands.hpp"
#include "daemon/config.hpp"
#include "daemon/engine_api_check.hpp"
#include "daemon/engine_api_results.hpp"
#include "daemon/http_fetch.hpp"
#include "probes/client_probe.hpp"
#include "probes/config_path.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>

namespace halo::check {

using app::ApiAnswer;
using app::ApiCheck;
using app::ApiCheckStatus;
using nlohmann::json;

void add_engine_check_command(void* app_ptr, EngineCheckOptions& o, const void** chosen)
{
    auto& app = *static_cast<CLI::App*>(app_ptr);
    CLI::App* e = app.add_subcommand(
        "engine-check", "Send Claude Code's requests to the running engine and say whether the client will work "
                        "(exit 0 pass, 1 warn, 2 fail, 3 unreachable; docs/engine-check.md)");
    e->add_option("--url", o.url,
                  "The engine (default: the configured one's, else Claude Code's ANTHROPIC_BASE_URL, else "
                  "http://127.0.0.1:8080)")
        ->type_name("URL");
    e->add_option("--model", o.model,
                  "The model name Claude Code sends (default: Claude Code's, when no engine is configured; else "
                  "the engine's first served id)")
        ->type_name("NAME");
    e->add_option("--api-key-file", o.api_key_file, "A file with the engine's API key (Claude Code's token)")
        ->type_name("FILE");
    e->add_flag("--json", o.json, "Print the result as JSON");
    e->add_option("--only", o.only, "Run only these checks (ids: docs/engine-check.md)")
        ->delimiter(',')
        ->type_name("ID,...")
        ->check(CLI::IsMember(app::engine_check_ids()));
    e->add_option("--timeout", o.timeout_s, "Seconds each request may take, a stream included")
        ->check(CLI::Range(0.1, 3600.0));
    e->add_option("--config", o.config, "Configuration file (the engine's URL and key file)")->type_name("FILE");
    *chosen = e;
}

namespace {

struct Engine {
    std::string url;
    std::vector<std::string> headers;
    std::chrono::milliseconds timeout{60'000};
};

app::HttpFetchRequest request(const Engine& e, const std::string& path, const json& body,
                              const std::vector<std::string>& headers)
{
    app::HttpFetchRequest r;
    r.url = e.url + path;
    if (!body.is_null()) r.json_body = body.dump();
    r.headers = headers;
    r.timeout = e.timeout;
    return r;
}

// An answer, or the transport failure as a failed answer (status 0, the error as the body).
Result<ApiAnswer> send(const Engine& e, const std::string& path, const json& body = json(),
                       const std::vector<std::string>* headers = nullptr)
{
    auto a = app::http_fetch(request(e, path, body, headers ? *headers : e.headers));
    if (!a) return Error{a.error().message};
    return ApiAnswer{a->status, std::move(a->body)};
}

ApiCheck transport_fail(const std::string& id, const std::string& what, const std::string& error)
{
    return app::transport_failure(id, what, error);
}

// `finished`: the answer came to its end (not cut off, not timed out), so a repeat costs one
// short request.
ApiCheck run_stream(const Engine& e, const std::string& model, bool* finished = nullptr)
{
    std::vector<std::string> data;
    auto r = request(e, "/v1/messages", app::messages_request(model, true), e.headers);
    auto a = app::http_fetch_lines(r, [&](std::string_view line) {
        if (auto payload = app::sse_data(line)) data.push_back(std::move(*payload));
        return true;
    });
    if (finished) *finished = static_cast<bool>(a);
    if (!a && data.empty()) return transport_fail("messages-stream", "POST /v1/messages stream", a.error().message);
    ApiCheck c = app::judge_messages_stream(a ? a->status : 200, data, static_cast<bool>(a));
    if (!a) c.detail += ": " + a.error().message;
    return c;
}

ApiCheck run_tools(const Engine& e, const std::string& model, const std::string& template_name, bool renders)
{
    auto first = send(e, "/v1/messages", app::tools_request(model));
    if (!first) return transport_fail("tools", "POST /v1/messages with tools", first.error().message);
    const json j = json::parse(first->body, nullptr, false);
    bool called = false;
    if (first->status == 200 && j.is_object() && j.contains("content") && j["content"].is_array()) {
        for (const auto& b : j["content"])
            if (b.is_object() && b.value("type", "") == "tool_use") called = true;
    }
    if (!called) return app::judge_tools(*first, nullptr, template_name, renders);
    auto second = send(e, "/v1/messages", app::tool_result_request(model, j["content"]));
    if (!second) return transport_fail("tools", "the tool_result follow-up", second.error().message);
    return app::judge_tools(*first, &*second, template_name, renders);
}

ApiCheck run_cache_reuse(const Engine& e, const std::string& model, long n_ctx)
{
    if (auto small = app::cache_reuse_context_too_small(n_ctx)) return *small;
    ApiAnswer counted;
    if (auto c = send(e, "/v1/messages/count_tokens", app::cache_sample_request(model))) counted = *c;
    const int words = app::cache_prefix_words(app::cache_prefix_tokens(n_ctx), counted);
    auto a = send(e, "/v1/messages", app::billing_request(model, app::k_cache_nonce_first, words));
    if (!a) return transport_fail("cache-reuse", "the first call", a.error().message);
    const auto t0 = std::chrono::steady_clock::now();
    auto b = send(e, "/v1/messages", app::billing_request(model, app::k_cache_nonce_second, words));
    const double wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!b) return transport_fail("cache-reuse", "the second call", b.error().message);
    return app::judge_cache_answers(*a, *b, wall_ms, n_ctx);
}

ApiCheck run_auth(const Engine& e, const std::string& model, bool have_key)
{
    if (!have_key)
        return ApiCheck{"auth", ApiCheckStatus::skip, "no API key given (--api-key-file, or the configured engine's)",
                        "", 0};
    const std::vector<std::string> none;
    auto without = send(e, "/v1/messages", app::messages_request(model, false), &none);
    if (!without) return transport_fail("auth", "a request without the key", without.error().message);
    auto with = send(e, "/v1/messages", app::messages_request(model, false));
    if (!with) return transport_fail("auth", "a request with the key", with.error().message);
    return app::judge_auth(*without, *with);
}

// True when the configuration names an engine, whose URL and key file then apply.
bool from_config(const EngineCheckOptions& o, std::string& url, std::optional<std::string>& key_file)
{
    const std::string path = o.config.value_or(probes::default_config_path(probes::Host("/")));
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        if (o.config) throw Fatal(fmt::format("Failed to read config '{}': No such file; check --config", path));
        return false;
    }
    auto config = app::load_config(path);
    if (!config) {
        if (o.config) throw Fatal(config.error().message);
        return false;
    }
    url = config->engine.base_url;
    key_file = config->engine.api_key_file;
    return true;
}

// What Claude Code's settings say, for an engine that is not configured: the URL, the model it
// sends, and its token (kept for the request header only).
struct ClientDefaults {
    std::optional<std::string> url;
    std::optional<std::string> model;
    std::optional<std::string> token;
};

ClientDefaults from_claude_code()
{
    ClientDefaults out;
    const probes::Host here("/");
    auto settings = probes::read_claude_code_settings(here, probes::claude_code_dir(here));
    if (!settings) {
        fmt::print(stderr, "halo-check: warning: {}; engine-check goes on without Claude Code's settings\n",
                   settings.error().message);
        return out;
    }
    if (!*settings) return out;
    if (auto base = (*settings)->env_value({"ANTHROPIC_BASE_URL"})) out.url = base->text;
    if ((*settings)->model) out.model = (*settings)->model->text;
    if (auto token = (*settings)->env_value({"ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_KEY"});
        token && !token->text.empty())
        out.token = token->text;
    return out;
}

} // namespace

int command_engine_check(const EngineCheckOptions& o)
{
    Engine e;
    e.url = "http://127.0.0.1:8080";
    std::optional<std::string> key_file;
    std::optional<std::string> client_token;
    std::optional<std::string> client_model;
    if (!from_config(o, e.url, key_file)) {
        const ClientDefaults client = from_claude_code();
        if (!o.url && client.url) e.url = *client.url;
        client_model = client.model;
        // Claude Code's token goes with the URL it came with, never to one named by --url.
        if (!o.url && client.url) client_token = client.token;
    }
    if (o.url) e.url = *o.url;
    while (!e.url.empty() && e.url.back() == '/') e.url.pop_back();
    if (o.api_key_file) key_file = o.api_key_file;
    e.timeout = std::chrono::milliseconds(static_cast<long>(o.timeout_s * 1000));
    if (auto loaded = app::load_http_library(); !loaded) throw Fatal(loaded.error().message);
    if (key_file) {
        auto key = app::read_api_key_file(*key_file);
        if (!key) throw Fatal(key.error().message);
        e.headers.push_back(app::bearer_header(*key));
    } else if (client_token) {
        e.headers.push_back(app::bearer_header(*client_token));
    }

    app::EngineCheckReport report;
    report.url = e.url;
    auto props = send(e, "/props");
    if (!props)
        throw Fatal(
            fmt::format("engine-check: the engine at '{}' cannot be reached: {}; start it, or name it with --url",
                        e.url, props.error().message),
            ExitCode::unknown);
    const app::EngineProps engine = app::props_from_answer(*props);
    report.build = engine.build;
    report.n_ctx = engine.n_ctx;
    const std::string& template_name = engine.template_name;
    const bool renders_tools = engine.renders_tools;
    std::string model = o.model ? *o.model : client_model.value_or("");
    std::string served;
    if (auto m = send(e, "/v1/models")) served = app::first_served_model(*m);
    report.model = model.empty() ? served : model;

    const std::vector<std::pair<std::string, std::function<ApiCheck()>>> checks{
        {"models",
         [&] {
             auto a = send(e, "/v1/models");
             return a ? app::judge_models(*a, model) : transport_fail("models", "GET /v1/models", a.error().message);
         }},
        {"messages",
         [&] {
             auto a = send(e, "/v1/messages", app::messages_request(report.model, false));
             return a ? app::judge_messages(*a) : transport_fail("messages", "POST /v1/messages", a.error().message);
         }},
        {"messages-stream",
         [&] {
             // llama-server now and then leaves message_start out of one stream (about 1 in 10
             // here): one repeat tells a steady fail from an intermittent one.
             bool finished = false;
             ApiCheck c = run_stream(e, report.model, &finished);
             if (c.status == ApiCheckStatus::fail && finished) c = app::judge_repeated(c, run_stream(e, report.model));
             return c;
         }},
        {"tools", [&] { return run_tools(e, report.model, template_name, renders_tools); }},
        {"prefill",
         [&] {
             auto a = send(e, "/v1/messages", app::prefill_request(report.model));
             return a ? app::judge_prefill(*a)
                      : transport_fail("prefill", "Claude Code's internal call", a.error().message);
         }},
        {"thinking",
         [&] {
             auto a = send(e, "/v1/messages", app::thinking_request(report.model));
             return a ? app::judge_thinking(*a)
                      : transport_fail("thinking", "POST /v1/messages with thinking", a.error().message);
         }},
        {"count-tokens",
         [&] {
             auto a = send(e, "/v1/messages/count_tokens", app::count_tokens_request(report.model));
             return a ? app::judge_count_tokens(*a)
                      : transport_fail("count-tokens", "POST /v1/messages/count_tokens", a.error().message);
         }},
        {"cache-reuse", [&] { return run_cache_reuse(e, report.model, report.n_ctx); }},
        {"auth", [&] { return run_auth(e, report.model, key_file.has_value() || client_token.has_value()); }},
    };
    for (const auto& [id, run] : checks) {
        if (!o.only.empty() && std::find(o.only.begin(), o.only.end(), id) == o.only.end()) continue;
        const auto t0 = std::chrono::steady_clock::now();
        ApiCheck c = run();
        c.ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
        report.checks.push_back(std::move(c));
    }
    const std::string out = o.json ? app::to_json(report).dump(2) + "\n" : app::format_engine_check(report);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
    return app::engine_check_exit_code(report.checks);
}

} // namespace halo::check
