// `halo-check bench`: the field report's benchmark against the running engine, as a table, JSON,
// a saved history in the state directory, and two results side by side.

#include "common/fatal.hpp"
#include "daemon/atomic_file.hpp"
#include "daemon/check/bench_measure.hpp"
#include "daemon/check/cli_commands.hpp"
#include "daemon/config.hpp"
#include "daemon/http_fetch.hpp"
#include "daemon/state_store.hpp"
#include "probes/config_path.hpp"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace halo::check {

void add_bench_command(void* app_ptr, BenchOptions& o, const void** chosen)
{
    auto& app = *static_cast<CLI::App*>(app_ptr);
    CLI::App* b = app.add_subcommand(
        "bench", "Measure the running engine: response time, first token, generation and prompt speed at each depth, "
                 "memory (docs/bench.md)");
    b->add_option("--url", o.url, "The engine (default: the configured one's, else http://127.0.0.1:8080)")
        ->type_name("URL");
    b->add_option("--runs", o.runs, "Runs of each request (median and range)")->check(CLI::Range(1, 100));
    b->add_option("--depths", o.depths, "Prompt depths in tokens (capped by the engine's context)")
        ->delimiter(',')
        ->type_name("N,...")
        ->check(CLI::Range(1L, 10'000'000L));
    b->add_flag("--json", o.json, "Print the result as JSON");
    b->add_flag("--save", o.save, "Keep the result in the state directory's bench history");
    b->add_option("--compare", o.compare, "A.json [B.json]: two results side by side (with one, A against a run now)")
        ->expected(1, 2)
        ->type_name("FILE");
    b->add_option("--state-dir", o.state_dir, "Where --save keeps results (default: as the daemon's)")
        ->type_name("DIR");
    b->add_option("--api-key-file", o.api_key_file, "A file with the engine's API key (--api-key engines)")
        ->type_name("FILE");
    b->add_option("--config", o.probe.config, "Configuration file (the engine's URL and facts)")->type_name("FILE");
    b->add_option("--root", o.probe.root, "Read memory and facts under DIR instead of / (fixture trees)")
        ->type_name("DIR");
    *chosen = b;
}

namespace {

void emit(const std::string& text)
{
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
}

BenchResult load_result(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        throw Fatal(fmt::format(
            "Failed to read '{}': cannot open it; name a file written by halo-check bench --json or --save", path));
    std::stringstream text;
    text << in.rdbuf();
    const auto j = nlohmann::json::parse(text.str(), nullptr, false);
    if (j.is_discarded())
        throw Fatal(fmt::format(
            "Failed to read '{}': not JSON; name a file written by halo-check bench --json or --save", path));
    auto r = bench_from_json(j, path);
    if (!r) throw Fatal(r.error().message);
    return *r;
}

// The configured engine's URL and key file, when a configuration names an engine.
void from_config(const BenchOptions& o, std::string& url, std::optional<std::string>& key_file)
{
    const std::string path = o.probe.config.value_or(probes::default_config_path(probes::Host("/")));
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        if (o.probe.config) throw Fatal(fmt::format("Failed to read config '{}': No such file; check --config", path));
        return;
    }
    auto config = app::load_config(path);
    if (!config) {
        if (o.probe.config) throw Fatal(config.error().message);
        return;
    }
    url = config->engine.base_url;
    key_file = config->engine.api_key_file;
}

} // namespace

int command_bench(const BenchOptions& o)
{
    if (o.compare.size() == 2) {
        const BenchResult a = load_result(o.compare[0]);
        const BenchResult b = load_result(o.compare[1]);
        emit(format_compare(a, b, "A", "B"));
        return 0;
    }
    std::string url = "http://127.0.0.1:8080";
    std::optional<std::string> key_file;
    from_config(o, url, key_file);
    if (o.url) url = *o.url;
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (o.api_key_file) key_file = o.api_key_file;
    if (auto loaded = app::load_http_library(); !loaded) throw Fatal(loaded.error().message);

    BenchPlan plan;
    plan.url = url;
    plan.runs = o.runs;
    plan.depths = o.depths;
    if (key_file) {
        auto key = app::read_api_key_file(*key_file);
        if (!key) throw Fatal(key.error().message);
        plan.headers.push_back(app::bearer_header(*key));
    }
    const bool terminal = ::isatty(STDERR_FILENO) == 1;
    if (terminal) {
        plan.progress = [](const std::string& line) { std::fprintf(stderr, "\r\033[Kbench: %s", line.c_str()); };
    }
    const probes::Host host(o.probe.root.value_or("/"));
    auto result = run_bench(plan, host);
    if (terminal) std::fputs("\r\033[K", stderr);
    if (!result) throw Fatal(fmt::format("halo-check bench against '{}' stopped: {}", url, result.error().message));

    // The configuration it measured: this machine's facts (model, image, flags, kernel, firmware).
    CheckOptions probe = o.probe;
    const rules::Facts facts = probe_machine(probe);
    for (const auto& [key, fact] : facts.all()) {
        if (is_config_key(key)) result->config[key] = fact.value;
    }
    const std::string json = to_json(*result).dump(2) + "\n";
    if (o.save) {
        const std::filesystem::path dir =
            std::filesystem::path(o.state_dir.value_or(app::default_state_dir())) / "bench";
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        std::string stamp = result->at;
        for (char& c : stamp)
            if (c == ':') c = '-';
        const std::filesystem::path file = dir / ("bench-" + stamp + ".json");
        if (auto ok = app::write_file_atomically(file, json, 0600); !ok) throw Fatal(ok.error().message);
        std::fprintf(stderr, "halo-check: saved %s\n", file.c_str());
    }
    if (o.compare.size() == 1) {
        emit(format_compare(load_result(o.compare[0]), *result, o.compare[0], "now"));
    } else {
        emit(o.json ? json : format_table(*result));
    }
    return 0;
}

} // namespace halo::check
