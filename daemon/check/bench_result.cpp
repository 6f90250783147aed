#include "daemon/check/bench_result.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>

namespace halo::check {

namespace {

constexpr double k_max_rate = 1e7;          // tokens/s no engine reaches
constexpr double k_max_ms = 24 * 3600e3;    // a day
constexpr long k_max_tokens = 100'000'000L; // no context is this long

std::optional<double> number(const nlohmann::json& o, const char* key)
{
    const auto it = o.find(key);
    if (it == o.end() || !it->is_number()) return std::nullopt;
    return it->get<double>();
}

std::string figure(double v, const char* unit, int decimals = 1)
{
    if (v <= 0 || !std::isfinite(v)) return "-";
    return fmt::format("{:.{}f} {}", v, decimals, unit);
}

std::string bytes_text(const std::optional<std::uint64_t>& b)
{
    if (!b) return "not available";
    return fmt::format("{:.1f} MiB", static_cast<double>(*b) / (1024.0 * 1024.0));
}

nlohmann::ordered_json spread_json(const std::vector<double>& v)
{
    const Spread s = spread_of(v);
    return {{"median", s.median}, {"min", s.min}, {"max", s.max}, {"runs", v}};
}

nlohmann::ordered_json timings_json(const ServerTimings& t)
{
    return {{"prompt_n", t.prompt_n},
            {"prompt_ms", t.prompt_ms},
            {"predicted_n", t.predicted_n},
            {"predicted_ms", t.predicted_ms},
            {"cache_n", t.cache_n},
            {"prompt_per_second", t.prompt_per_second()},
            {"predicted_per_second", t.predicted_per_second()}};
}

nlohmann::ordered_json memory_json(const MemoryReading& m)
{
    auto v = [](const std::optional<std::uint64_t>& b) { return b ? nlohmann::ordered_json(*b) : nullptr; };
    return {{"rss_bytes", v(m.rss_bytes)}, {"gtt_bytes", v(m.gtt_bytes)}, {"vram_bytes", v(m.vram_bytes)}};
}

MemoryReading memory_from(const nlohmann::json& j)
{
    MemoryReading m;
    if (!j.is_object()) return m;
    auto get = [&](const char* key) -> std::optional<std::uint64_t> {
        const auto it = j.find(key);
        if (it == j.end() || !it->is_number_unsigned()) return std::nullopt;
        return it->get<std::uint64_t>();
    };
    m.rss_bytes = get("rss_bytes");
    m.gtt_bytes = get("gtt_bytes");
    m.vram_bytes = get("vram_bytes");
    return m;
}

std::vector<double> numbers_from(const nlohmann::json& j)
{
    std::vector<double> v;
    if (!j.is_array()) return v;
    for (const auto& x : j)
        if (x.is_number()) v.push_back(x.get<double>());
    return v;
}

std::vector<double> prompt_rates(const std::vector<ServerTimings>& t)
{
    std::vector<double> v;
    v.reserve(t.size());
    for (const ServerTimings& s : t) v.push_back(s.prompt_per_second());
    return v;
}

std::vector<double> generation_rates(const std::vector<ServerTimings>& t)
{
    std::vector<double> v;
    v.reserve(t.size());
    for (const ServerTimings& s : t) v.push_back(s.predicted_per_second());
    return v;
}

std::string ratio(double a, double b)
{
    if (a <= 0 || b <= 0) return "-";
    return fmt::format("{:.2f}×", b / a);
}

} // namespace

Result<ServerTimings> timings_from_answer(const nlohmann::json& answer, bool need_generated)
{
    if (!answer.is_object() || !answer.contains("timings") || !answer["timings"].is_object())
        return Error{"the answer has no 'timings' (is this llama-server?)"};
    const auto& t = answer["timings"];
    const auto prompt_n = number(t, "prompt_n");
    const auto prompt_ms = number(t, "prompt_ms");
    const auto predicted_n = number(t, "predicted_n");
    const auto predicted_ms = number(t, "predicted_ms");
    if (!prompt_n || !prompt_ms || !predicted_n || !predicted_ms)
        return Error{"the answer's timings lack prompt_n, prompt_ms, predicted_n or predicted_ms"};
    for (double v : {*prompt_n, *prompt_ms, *predicted_n, *predicted_ms}) {
        if (!std::isfinite(v) || v < 0)
            return Error{fmt::format("the answer's timings are absurd ({}): a negative or non-finite value", t.dump())};
    }
    if (*prompt_n > k_max_tokens || *predicted_n > k_max_tokens || *prompt_ms > k_max_ms || *predicted_ms > k_max_ms)
        return Error{fmt::format("the answer's timings are absurd ({}): beyond any context or a day", t.dump())};
    ServerTimings s;
    s.prompt_n = static_cast<long>(*prompt_n);
    s.prompt_ms = *prompt_ms;
    s.predicted_n = static_cast<long>(*predicted_n);
    s.predicted_ms = *predicted_ms;
    s.cache_n =
        static_cast<long>(std::clamp(number(t, "cache_n").value_or(0.0), 0.0, static_cast<double>(k_max_tokens)));
    if (need_generated && s.predicted_n <= 0) return Error{"the engine generated zero tokens"};
    if (s.prompt_per_second() > k_max_rate || s.predicted_per_second() > k_max_rate ||
        (s.prompt_n > 0 && s.prompt_ms <= 0) || (s.predicted_n > 1 && s.predicted_ms <= 0))
        return Error{fmt::format("the answer's timings are absurd ({}): faster than any engine", t.dump())};
    return s;
}

Spread spread_of(std::vector<double> values)
{
    Spread s;
    values.erase(std::remove_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }),
                 values.end());
    if (values.empty()) return s;
    std::sort(values.begin(), values.end());
    const std::size_t mid = values.size() / 2;
    s.median = values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
    s.min = values.front();
    s.max = values.back();
    s.n = values.size();
    return s;
}

std::optional<double> fill_seconds(const std::vector<DepthFigure>& depths, long context)
{
    if (context <= 0) return std::nullopt;
    // Least squares for t = a·d + b·d²: the normal equations of a two-column fit.
    double s2 = 0, s3 = 0, s4 = 0, ty1 = 0, ty2 = 0;
    std::size_t n = 0;
    for (const DepthFigure& f : depths) {
        const double d = static_cast<double>(f.timings.prompt_n);
        const double t = f.timings.prompt_ms / 1000.0;
        if (d <= 0 || t <= 0) continue;
        s2 += d * d;
        s3 += d * d * d;
        s4 += d * d * d * d;
        ty1 += t * d;
        ty2 += t * d * d;
        ++n;
    }
    if (n == 0) return std::nullopt;
    const double c = static_cast<double>(context);
    const double det = s2 * s4 - s3 * s3;
    if (n >= 2 && det > 1e-9 * s2 * s4) {
        const double a = (ty1 * s4 - ty2 * s3) / det;
        const double b = (s2 * ty2 - s3 * ty1) / det;
        if (b >= 0 && a >= 0) return a * c + b * c * c;
    }
    // A straight line through the origin: t = a·d.
    return ty1 / s2 * c;
}

bool is_config_key(std::string_view key)
{
    auto starts = [&](std::string_view p) { return key.substr(0, p.size()) == p; };
    if (starts("engine.model.") || starts("engine.image") || starts("engine.env.")) return true;
    for (std::string_view k : {"engine.container", "engine.binary", "engine.backend", "engine.build_info",
                               "engine.ctx_size", "engine.flash_attn", "engine.n_gpu_layers", "engine.mmap",
                               "engine.load_mode", "engine.direct_io", "kernel.release"}) {
        if (key == k) return true;
    }
    return starts("gpu.") && key.find(".firmware.") != std::string_view::npos &&
           key.substr(key.size() - 7) != ".source";
}

double median_request_ms(const BenchResult& r) { return spread_of(r.request_ms).median; }
double median_first_token_ms(const BenchResult& r) { return spread_of(r.first_token_ms).median; }
double median_generation_per_second(const BenchResult& r)
{
    return spread_of(generation_rates(r.stream_timings)).median;
}

nlohmann::ordered_json to_json(const BenchResult& r)
{
    nlohmann::ordered_json j;
    j["halo_check_bench"] = 1;
    j["at"] = r.at;
    j["url"] = r.url;
    j["runs"] = r.runs;
    j["context"] = r.context;
    auto timings = [](const std::vector<ServerTimings>& v) {
        auto a = nlohmann::ordered_json::array();
        for (const ServerTimings& t : v) a.push_back(timings_json(t));
        return a;
    };
    j["request"] = {{"max_tokens", 10},
                    {"ms", spread_json(r.request_ms)},
                    {"generation_per_second", spread_json(generation_rates(r.request_timings))},
                    {"timings", timings(r.request_timings)}};
    j["stream"] = {{"first_token_ms", spread_json(r.first_token_ms)},
                   {"ms", spread_json(r.stream_ms)},
                   {"generation_per_second", spread_json(generation_rates(r.stream_timings))},
                   {"timings", timings(r.stream_timings)}};
    auto depths = nlohmann::ordered_json::array();
    for (const DepthFigure& d : r.depths) {
        depths.push_back({{"depth", d.depth},
                          {"wall_ms", d.wall_ms},
                          {"prompt_per_second", d.timings.prompt_per_second()},
                          {"timings", timings_json(d.timings)}});
    }
    j["depths"] = depths;
    const auto fill = fill_seconds(r.depths, r.context);
    j["fill_context_seconds"] = fill ? nlohmann::ordered_json(*fill) : nullptr;
    j["memory"] = {{"before", memory_json(r.memory_before)}, {"peak", memory_json(r.memory_peak)}};
    j["config"] = r.config;
    j["overhead"] = {{"wall_ms", r.wall_ms},
                     {"engine_ms", r.engine_ms},
                     {"share", r.wall_ms > 0 ? (r.wall_ms - r.engine_ms) / r.wall_ms : 0.0}};
    j["notes"] = r.notes;
    return j;
}

Result<BenchResult> bench_from_json(const nlohmann::json& j, std::string_view origin)
{
    if (!j.is_object() || !j.contains("halo_check_bench"))
        return Error{fmt::format("'{}' is not a halo-check bench result (no \"halo_check_bench\" key); write one with "
                                 "halo-check bench --json or --save",
                                 origin)};
    BenchResult r;
    r.at = j.value("at", std::string());
    r.url = j.value("url", std::string());
    r.runs = j.value("runs", 0);
    r.context = j.value("context", 0L);
    auto timings = [&](const nlohmann::json& arr) {
        std::vector<ServerTimings> v;
        if (!arr.is_array()) return v;
        for (const auto& t : arr) {
            if (auto s = timings_from_answer(nlohmann::json{{"timings", t}}, false)) v.push_back(*s);
        }
        return v;
    };
    const auto request = j.value("request", nlohmann::json::object());
    r.request_ms = numbers_from(request.value("ms", nlohmann::json::object()).value("runs", nlohmann::json()));
    r.request_timings = timings(request.value("timings", nlohmann::json()));
    const auto stream = j.value("stream", nlohmann::json::object());
    r.first_token_ms =
        numbers_from(stream.value("first_token_ms", nlohmann::json::object()).value("runs", nlohmann::json()));
    r.stream_ms = numbers_from(stream.value("ms", nlohmann::json::object()).value("runs", nlohmann::json()));
    r.stream_timings = timings(stream.value("timings", nlohmann::json()));
    for (const auto& d : j.value("depths", nlohmann::json::array())) {
        if (!d.is_object()) continue;
        auto t = timings_from_answer(nlohmann::json{{"timings", d.value("timings", nlohmann::json())}}, false);
        if (!t) return Error{fmt::format("'{}': a depth's timings: {}", origin, t.error().message)};
        r.depths.push_back({d.value("depth", 0L), *t, d.value("wall_ms", 0.0)});
    }
    const auto memory = j.value("memory", nlohmann::json::object());
    r.memory_before = memory_from(memory.value("before", nlohmann::json()));
    r.memory_peak = memory_from(memory.value("peak", nlohmann::json()));
    const auto config = j.value("config", nlohmann::json::object());
    for (const auto& [k, v] : config.items()) {
        if (v.is_string()) r.config[k] = v.get<std::string>();
    }
    const auto overhead = j.value("overhead", nlohmann::json::object());
    r.wall_ms = overhead.value("wall_ms", 0.0);
    r.engine_ms = overhead.value("engine_ms", 0.0);
    return r;
}

std::string format_table(const BenchResult& r)
{
    std::string out;
    auto row = [&](std::string_view what, const std::string& value) { out += fmt::format("{:<34} {}\n", what, value); };
    auto spread = [](const std::vector<double>& v, const char* unit) {
        const Spread s = spread_of(v);
        if (s.n == 0) return std::string("-");
        return fmt::format("{:.1f} {} (range {:.1f}–{:.1f}, {} runs)", s.median, unit, s.min, s.max, s.n);
    };
    out += fmt::format("halo-check bench: {} ({}){}\n", r.url, r.at,
                       r.context > 0 ? fmt::format(", context {}", r.context) : "");
    const auto model = r.config.find("engine.model.path");
    if (model != r.config.end()) {
        std::string about;
        for (const char* k : {"engine.model.architecture", "engine.model.file_type_name", "engine.model.size_bytes"}) {
            const auto it = r.config.find(k);
            if (it == r.config.end()) continue;
            about +=
                (about.empty() ? "" : ", ") + it->second + (std::string_view(k).ends_with("bytes") ? " bytes" : "");
        }
        out += fmt::format("model: {}{}\n", model->second, about.empty() ? "" : " (" + about + ")");
    }
    out += "\n";
    row("request (max_tokens 10)", spread(r.request_ms, "ms"));
    row("time to first token (stream)", spread(r.first_token_ms, "ms"));
    row("generation (stream)", spread(generation_rates(r.stream_timings), "t/s"));
    for (const DepthFigure& d : r.depths) {
        row(fmt::format("prompt processing at {}", d.depth),
            fmt::format("{} ({} tokens in {:.1f} ms)", figure(d.timings.prompt_per_second(), "t/s"), d.timings.prompt_n,
                        d.timings.prompt_ms));
    }
    if (const auto fill = fill_seconds(r.depths, r.context)) {
        row(fmt::format("time to fill the context ({})", r.context), fmt::format("{:.1f} s (extrapolated)", *fill));
    }
    row("engine RSS before / peak",
        bytes_text(r.memory_before.rss_bytes) + " / " + bytes_text(r.memory_peak.rss_bytes));
    row("GTT in use before / peak",
        bytes_text(r.memory_before.gtt_bytes) + " / " + bytes_text(r.memory_peak.gtt_bytes));
    row("VRAM in use before / peak",
        bytes_text(r.memory_before.vram_bytes) + " / " + bytes_text(r.memory_peak.vram_bytes));
    for (const std::string& n : r.notes) out += "note: " + n + "\n";
    return out;
}

std::string format_compare(const BenchResult& a, const BenchResult& b, std::string_view name_a, std::string_view name_b)
{
    std::string out =
        fmt::format("{:<32} {:>16} {:>16} {:>8}\n", "", name_a.substr(0, 16), name_b.substr(0, 16), "B/A");
    auto row = [&](std::string_view what, double va, double vb, const char* unit) {
        out += fmt::format("{:<32} {:>16} {:>16} {:>8}\n", what, figure(va, unit), figure(vb, unit), ratio(va, vb));
    };
    row("request (max_tokens 10)", median_request_ms(a), median_request_ms(b), "ms");
    row("time to first token", median_first_token_ms(a), median_first_token_ms(b), "ms");
    row("generation", median_generation_per_second(a), median_generation_per_second(b), "t/s");
    row("prompt (request)", spread_of(prompt_rates(a.request_timings)).median,
        spread_of(prompt_rates(b.request_timings)).median, "t/s");
    for (const DepthFigure& da : a.depths) {
        for (const DepthFigure& db : b.depths) {
            if (db.depth != da.depth) continue;
            row(fmt::format("prompt at {}", da.depth), da.timings.prompt_per_second(), db.timings.prompt_per_second(),
                "t/s");
        }
    }
    const auto fa = fill_seconds(a.depths, a.context);
    const auto fb = fill_seconds(b.depths, b.context);
    if (fa || fb) row("fill the context", fa.value_or(0), fb.value_or(0), "s");
    auto mib = [](const std::optional<std::uint64_t>& v) { return v ? static_cast<double>(*v) / 1048576.0 : 0.0; };
    row("engine RSS peak", mib(a.memory_peak.rss_bytes), mib(b.memory_peak.rss_bytes), "MiB");
    row("GTT peak", mib(a.memory_peak.gtt_bytes), mib(b.memory_peak.gtt_bytes), "MiB");
    std::vector<std::string> keys;
    for (const auto& [k, v] : a.config) keys.push_back(k);
    for (const auto& [k, v] : b.config)
        if (!a.config.count(k)) keys.push_back(k);
    std::sort(keys.begin(), keys.end());
    std::string diff;
    for (const std::string& k : keys) {
        const auto ia = a.config.find(k);
        const auto ib = b.config.find(k);
        const std::string va = ia == a.config.end() ? "(absent)" : ia->second;
        const std::string vb = ib == b.config.end() ? "(absent)" : ib->second;
        if (va != vb) diff += fmt::format("  {} {} → {}\n", k, va, vb);
    }
    out += diff.empty() ? "\nconfiguration: the same facts\n" : "\nconfiguration that differs:\n" + diff;
    return out;
}

} // namespace halo::check
