// halo_run_probe --root DIR [--env NAME=VALUE]… [--config FILE] [--json] PROBE…
// Test helper: runs the named probes in registry order and prints serialize_facts().
#include "probes/registry.hpp"
#include "probes/runner.hpp"
#include "rules/facts_io.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

int main(int argc, char** argv)
{
    std::string root = "/";
    std::vector<std::pair<std::string, std::string>> env;
    std::optional<std::string> config;
    std::vector<std::string> only;
    auto format = halo::rules::FactsFormat::toml;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--root" && i + 1 < argc) {
            root = argv[++i];
        } else if (arg == "--env" && i + 1 < argc) {
            const std::string kv = argv[++i];
            const auto eq = kv.find('=');
            if (eq == std::string::npos) return 2;
            env.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
        } else if (arg == "--config" && i + 1 < argc) {
            config = argv[++i];
        } else if (arg == "--json") {
            format = halo::rules::FactsFormat::json;
        } else {
            only.push_back(arg);
        }
    }
    halo::probes::Host host(root);
    for (auto& [k, v] : env) host.set_env(k, v);
    halo::probes::ProbeContext context{host, std::chrono::milliseconds(5000), {}, {}, {}};
    context.config_path = config;
    halo::rules::Facts facts;
    for (const auto& info : halo::probes::registry()) {
        if (std::find(only.begin(), only.end(), std::string(info.id)) == only.end()) continue;
        halo::probes::run_probe_in_process(info, context, facts);
    }
    const std::string out = halo::rules::serialize_facts(facts, format);
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}
