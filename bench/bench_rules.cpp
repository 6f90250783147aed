// Evaluation cost as the rule set grows from 10 to 10,000 generated rules, against a realistic
// facts file. Prints one line per size: rules, median µs per evaluation, ns per rule.
// Usage: bench_rules FACTS_FILE [RUNS]
#include "rules/evaluate.hpp"
#include "rules/facts_io.hpp"
#include "rules/rule_file.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

// Rules shaped like the knowledge base: a version range, a glob on a tag, an any-of, a wildcard
// key and a negation, in rotation; most do not match (as on a healthy machine).
std::string generate(std::size_t count)
{
    std::string text;
    for (std::size_t i = 0; i < count; ++i) {
        std::string when;
        switch (i % 5) {
        case 0:
            when = fmt::format(R"("kernel.release" = ">= 6.18.{}, < 6.19", "engine.backend" = "rocm")", i % 40);
            break;
        case 1:
            when = fmt::format(R"("engine.image.tag" = "rocm-7.{}*", "package.linux-firmware.version" = "< 2025{:04}")",
                               i % 30, i % 1300);
            break;
        case 2:
            when = fmt::format(R"("gpu.*.firmware.mes" = ["0x000000{:02x}", "0x000001{:02x}"])", i % 256, i % 256);
            break;
        case 3:
            when = fmt::format(R"("container.*.image.tag" = "legacy-{}-*", "engine.ctx_size" = "> {}")", i, 131072 + i);
            break;
        default:
            when = fmt::format(R"("engine.host" = {{ none = ["127.*", "::1"] }}, "engine.port" = "{}")", 10000 + i);
            break;
        }
        text += fmt::format("[[rule]]\nid = \"bench.{}\"\nseverity = \"{}\"\ntitle = \"generated {}\"\nfix = \"none\"\n"
                            "links = [\"https://example.org\"]\nsince = 2026-01-01\nwhen = {{ {} }}\n\n",
                            i, i % 2 ? "warning" : "broken", i, when);
    }
    return text;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_rules FACTS_FILE [RUNS]\n");
        return 2;
    }
    auto facts = halo::rules::load_facts_file(argv[1]);
    if (!facts) {
        std::fprintf(stderr, "bench_rules: %s\n", facts.error().message.c_str());
        return 1;
    }
    const int runs = argc > 2 ? std::atoi(argv[2]) : 51;
    std::printf("%8s %14s %12s %14s\n", "rules", "median_us", "ns_per_rule", "load_ms");
    for (std::size_t count : {10u, 100u, 1000u, 10000u}) {
        const std::string text = generate(count);
        const auto load_start = std::chrono::steady_clock::now();
        halo::rules::RulesFile file = halo::rules::parse_rules_file(text, "generated");
        const double load_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start).count();
        if (file.has_errors()) {
            std::fprintf(stderr, "bench_rules: generated rules do not load: %s\n", file.diagnostics[0].message.c_str());
            return 1;
        }
        std::vector<double> us;
        std::size_t findings = 0;
        for (int r = 0; r < runs; ++r) {
            const auto start = std::chrono::steady_clock::now();
            const halo::rules::Report report = halo::rules::evaluate(file.entries, *facts);
            us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count());
            findings = report.findings.size();
        }
        std::sort(us.begin(), us.end());
        const double median = us[us.size() / 2];
        std::printf("%8zu %14.1f %12.1f %14.1f   (%zu findings)\n", count, median,
                    median * 1000.0 / static_cast<double>(count), load_ms, findings);
    }
    return 0;
}
