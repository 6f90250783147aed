// Facts files (TOML and JSON): parse, and when they parse, serialize and parse again: the round
// trip must hold.
// -max_len: facts files are tens of KiB.
// fuzz-max-len: 262144
#include "rules/facts_io.hpp"

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto facts = halo::rules::parse_facts(text, "fuzz");
    if (!facts) return 0;
    for (auto format : {halo::rules::FactsFormat::toml, halo::rules::FactsFormat::json}) {
        const std::string again = halo::rules::serialize_facts(*facts, format);
        auto back = halo::rules::parse_facts(again, "fuzz-roundtrip");
        if (!back) continue; // invalid UTF-8 in a value is replaced in JSON and refused in TOML
        if (back->size() != facts->size()) std::abort();
    }
    return 0;
}
