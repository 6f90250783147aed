// TOML inputs: rules files (parsed, and evaluated when they parse), and the configuration files
// the probes read (config.toml's [engine], containers' storage.conf).
// -max_len: a rules file or a feed is up to a few hundred KiB.
// fuzz-max-len: 262144
#include "probes/containers_storage.hpp"
#include "probes/engine_config.hpp"
#include "rules/evaluate.hpp"
#include "rules/rule_file.hpp"

#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)halo::probes::parse_engine_config(text, "fuzz");
    (void)halo::probes::parse_storage_conf(text, "fuzz");
    halo::rules::RulesFile file = halo::rules::parse_rules_file(text, "fuzz");
    if (file.has_errors()) return 0;
    halo::rules::Facts facts;
    facts.set("kernel.release", "6.18.5-200.fc43.x86_64");
    facts.set("engine.backend", "rocm");
    facts.set("container.llama-rocm-7.2.image.tag", "rocm-7.2");
    facts.mark_unknown("gpu.*", "fuzz");
    (void)halo::rules::evaluate(file.entries, facts);
    return 0;
}
