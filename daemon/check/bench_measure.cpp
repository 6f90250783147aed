#include "daemon/check/bench_measure.hpp"

#include "common/clock.hpp"
#include "daemon/http_fetch.hpp"
#include "probes/port_owner.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <chrono>

namespace halo::check {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

std::optional<std::uint64_t> number_in(std::string_view text)
{
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    std::uint64_t v = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
    return v;
}

std::optional<std::uint64_t> vm_rss(const probes::Host& host, pid_t pid)
{
    auto status = host.read_file(fmt::format("/proc/{}/status", pid));
    if (!status) return std::nullopt;
    const auto at = status->find("\nVmRSS:");
    if (at == std::string::npos) return std::nullopt;
    const auto end = status->find('\n', at + 1);
    std::string_view line = std::string_view(*status).substr(at + 7, end - at - 7);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    const auto space = line.find(' ');
    const auto kib = number_in(line.substr(0, space));
    if (!kib) return std::nullopt;
    return *kib * 1024;
}

int port_of(const std::string& url)
{
    const auto scheme = url.find("://");
    const std::string rest = url.substr(scheme == std::string::npos ? 0 : scheme + 3);
    const auto slash = rest.find('/');
    const std::string authority = rest.substr(0, slash);
    const auto colon = authority.rfind(':');
    if (colon == std::string::npos || authority.back() == ']') return url.rfind("https", 0) == 0 ? 443 : 80;
    int port = 0;
    std::from_chars(authority.data() + colon + 1, authority.data() + authority.size(), port);
    return port;
}

Result<nlohmann::json> fetch_json(const BenchPlan& plan, const std::string& path, const std::string& body,
                                  std::string_view what, double* wall_ms = nullptr)
{
    app::HttpFetchRequest r{plan.url + path, body, plan.headers, plan.timeout};
    auto answer = app::http_fetch(r);
    if (!answer)
        return Error{fmt::format("{}: {}; is the engine running? (halo-check status)", what, answer.error().message)};
    if (wall_ms) *wall_ms = static_cast<double>(answer->elapsed.count()) / 1000.0;
    if (answer->status != 200) {
        return Error{
            fmt::format("{}: '{}' answered HTTP {}: {}", what, r.url, answer->status, answer->body.substr(0, 300))};
    }
    auto j = nlohmann::json::parse(answer->body, nullptr, false);
    if (j.is_discarded()) return Error{fmt::format("{}: '{}' answered something that is not JSON", what, r.url)};
    return j;
}

std::string chat_body(bool stream, int max_tokens)
{
    nlohmann::ordered_json body = {{"messages", {{{"role", "user"}, {"content", "Count 1 to 5"}}}},
                                   {"max_tokens", max_tokens},
                                   {"stream", stream},
                                   // A repeated prompt would hit the prompt cache and fake the figure.
                                   {"cache_prompt", false}};
    if (stream) body["ignore_eos"] = true; // a fixed number of tokens to time
    return body.dump();
}

long context_of(const nlohmann::json& props)
{
    const auto settings = props.value("default_generation_settings", nlohmann::json::object());
    if (settings.is_object() && settings.contains("n_ctx") && settings["n_ctx"].is_number_integer())
        return settings["n_ctx"].get<long>();
    return 0;
}

struct StreamRun {
    double first_token_ms = 0;
    double wall_ms = 0;
    ServerTimings timings;
};

Result<StreamRun> stream_once(const BenchPlan& plan, const probes::Host& host, const std::vector<pid_t>& pids,
                              MemoryReading& peak)
{
    app::HttpFetchRequest r{plan.url + "/v1/chat/completions", chat_body(true, 32), plan.headers, plan.timeout};
    StreamRun run;
    std::optional<nlohmann::json> last_timings;
    bool done = false;
    std::size_t chunks = 0;
    const auto started = Clock::now();
    auto answer = app::http_fetch_lines(r, [&](std::string_view line) {
        if (line.substr(0, 6) != "data: ") return true;
        const std::string_view data = line.substr(6);
        if (data == "[DONE]") {
            done = true;
            return false;
        }
        const auto j = nlohmann::json::parse(data, nullptr, false);
        if (!j.is_object()) return true;
        if (run.first_token_ms == 0 && j.contains("choices") && j["choices"].is_array() && !j["choices"].empty()) {
            const auto delta = j["choices"][0].value("delta", nlohmann::json::object());
            if (delta.is_object() && delta.contains("content") && delta["content"].is_string() &&
                !delta["content"].get<std::string>().empty())
                run.first_token_ms = ms_since(started);
        }
        if (j.contains("timings")) last_timings = j;
        // A reading now and then while it generates, not with every token.
        if (++chunks % 8 == 0) keep_peak(peak, read_memory(host, pids));
        return true;
    });
    run.wall_ms = ms_since(started);
    if (!answer)
        return Error{fmt::format("streamed generation: {}; the engine stopped mid-run?", answer.error().message)};
    if (answer->status != 200)
        return Error{fmt::format("streamed generation: '{}' answered HTTP {}", r.url, answer->status)};
    if (!done || !last_timings) {
        return Error{fmt::format("streamed generation: the answer from '{}' ended before its timings and [DONE]; the "
                                 "engine stopped mid-run? (halo-check status)",
                                 r.url)};
    }
    auto t = timings_from_answer(*last_timings, true);
    if (!t) return Error{fmt::format("streamed generation: {}", t.error().message)};
    run.timings = *t;
    return run;
}

} // namespace

std::vector<pid_t> engine_pids(const probes::Host& host, const std::string& url)
{
    std::vector<pid_t> pids;
    auto listeners = probes::port_listeners(host, port_of(url));
    if (!listeners) return pids;
    for (const probes::PortListener& l : *listeners) {
        if (l.pid > 0 && std::find(pids.begin(), pids.end(), l.pid) == pids.end()) pids.push_back(l.pid);
    }
    return pids;
}

MemoryReading read_memory(const probes::Host& host, const std::vector<pid_t>& pids)
{
    MemoryReading m;
    for (pid_t pid : pids) {
        if (auto rss = vm_rss(host, pid)) m.rss_bytes = m.rss_bytes.value_or(0) + *rss;
    }
    auto cards = host.list_dir("/sys/class/drm");
    if (!cards) return m;
    for (const std::string& card : *cards) {
        if (card.rfind("card", 0) != 0 || card.find('-') != std::string::npos) continue;
        const std::string dir = "/sys/class/drm/" + card + "/device/";
        if (auto f = host.read_file(dir + "mem_info_gtt_used"); f)
            if (auto v = number_in(*f)) m.gtt_bytes = m.gtt_bytes.value_or(0) + *v;
        if (auto f = host.read_file(dir + "mem_info_vram_used"); f)
            if (auto v = number_in(*f)) m.vram_bytes = m.vram_bytes.value_or(0) + *v;
    }
    return m;
}

void keep_peak(MemoryReading& peak, const MemoryReading& now)
{
    auto max = [](std::optional<std::uint64_t>& p, const std::optional<std::uint64_t>& n) {
        if (n && (!p || *n > *p)) p = n;
    };
    max(peak.rss_bytes, now.rss_bytes);
    max(peak.gtt_bytes, now.gtt_bytes);
    max(peak.vram_bytes, now.vram_bytes);
}

std::vector<long> prompt_tokens(const std::vector<long>& base, long depth, std::size_t offset)
{
    std::vector<long> out;
    if (base.empty() || depth <= 0) return out;
    out.reserve(static_cast<std::size_t>(depth));
    for (long i = 0; i < depth; ++i) out.push_back(base[(offset + static_cast<std::size_t>(i)) % base.size()]);
    return out;
}

Result<BenchResult> run_bench(const BenchPlan& plan, const probes::Host& host)
{
    auto say = [&](const std::string& s) {
        if (plan.progress) plan.progress(s);
    };
    BenchResult r;
    r.at = now_rfc3339();
    r.url = plan.url;
    r.runs = plan.runs;
    say("asking the engine for its context");
    auto health = app::http_fetch({plan.url + "/health", {}, plan.headers, std::chrono::seconds(5)});
    if (!health) return Error{fmt::format("{}; is the engine running? (halo-check status)", health.error().message)};
    if (health->status != 200) {
        return Error{fmt::format("The engine at '{}' is not ready (/health answered HTTP {}); wait until it is, or see "
                                 "halo-check status",
                                 plan.url, health->status)};
    }
    if (auto props = fetch_json(plan, "/props", {}, "reading /props")) {
        r.context = context_of(*props);
        // What the engine itself says it runs; the machine's facts, read after the run, add the rest.
        if (props->contains("model_path") && (*props)["model_path"].is_string())
            r.config["engine.model.path"] = (*props)["model_path"].get<std::string>();
        if (props->contains("build_info") && (*props)["build_info"].is_string())
            r.config["engine.build_info"] = (*props)["build_info"].get<std::string>();
    }
    const std::vector<pid_t> pids = engine_pids(host, plan.url);
    r.memory_before = read_memory(host, pids);
    r.memory_peak = r.memory_before;

    for (int i = 0; i < plan.runs; ++i) {
        say(fmt::format("request {}/{}", i + 1, plan.runs));
        double wall = 0;
        auto j = fetch_json(plan, "/v1/chat/completions", chat_body(false, 10), "the field report's request", &wall);
        if (!j) return j.error();
        auto t = timings_from_answer(*j, true);
        if (!t) return Error{fmt::format("the field report's request: {}", t.error().message)};
        r.request_ms.push_back(wall);
        r.request_timings.push_back(*t);
        r.wall_ms += wall;
        r.engine_ms += t->prompt_ms + t->predicted_ms;
        keep_peak(r.memory_peak, read_memory(host, pids));
    }
    for (int i = 0; i < plan.runs; ++i) {
        say(fmt::format("streamed generation {}/{}", i + 1, plan.runs));
        auto s = stream_once(plan, host, pids, r.memory_peak);
        if (!s) return s.error();
        r.first_token_ms.push_back(s->first_token_ms);
        r.stream_ms.push_back(s->wall_ms);
        r.stream_timings.push_back(s->timings);
        r.wall_ms += s->wall_ms;
        r.engine_ms += s->timings.prompt_ms + s->timings.predicted_ms;
    }
    if (!plan.depths.empty()) {
        // Real tokens of this model, so the prompt is text it can read; varied per depth.
        std::string text;
        for (int i = 0; i < 40; ++i) {
            text += fmt::format("Paragraph {}: the quick brown fox {} jumps over {} lazy dogs near river {}. ", i,
                                i * 7, i * 13 % 17, i * 31 % 23);
        }
        auto tok = fetch_json(plan, "/tokenize", nlohmann::json{{"content", text}}.dump(), "tokenizing the prompt");
        if (!tok) return tok.error();
        std::vector<long> base;
        for (const auto& t : tok->value("tokens", nlohmann::json::array()))
            if (t.is_number_integer()) base.push_back(t.get<long>());
        if (base.empty()) return Error{"tokenizing the prompt: the engine's /tokenize gave no tokens"};
        std::size_t offset = 0;
        for (long depth : plan.depths) {
            long asked = depth;
            // Room for the one generated token and the template's few.
            if (r.context > 0 && depth > r.context - 8) {
                asked = r.context - 8;
                r.notes.push_back(
                    fmt::format("depth {} is beyond the engine's context of {} tokens: measured {} instead", depth,
                                r.context, asked));
                if (std::any_of(r.depths.begin(), r.depths.end(),
                                [&](const DepthFigure& d) { return d.depth == asked; }))
                    continue;
            }
            if (asked <= 0) continue;
            say(fmt::format("prompt processing at depth {}", asked));
            nlohmann::json body = {
                {"prompt", prompt_tokens(base, asked, offset += 97)}, {"n_predict", 1}, {"cache_prompt", false}};
            double wall = 0;
            auto j = fetch_json(plan, "/completion", body.dump(), fmt::format("prompt processing at depth {}", asked),
                                &wall);
            if (!j) return j.error();
            auto t = timings_from_answer(*j, false);
            if (!t) return Error{fmt::format("prompt processing at depth {}: {}", asked, t.error().message)};
            if (t->prompt_n <= 0)
                return Error{
                    fmt::format("prompt processing at depth {}: the engine processed no prompt tokens", asked)};
            r.depths.push_back({asked, *t, wall});
            r.wall_ms += wall;
            r.engine_ms += t->prompt_ms + t->predicted_ms;
            keep_peak(r.memory_peak, read_memory(host, pids));
        }
    }
    return r;
}

} // namespace halo::check
