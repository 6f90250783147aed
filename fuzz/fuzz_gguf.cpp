// libFuzzer entry point: the GGUF header parser on arbitrary bytes, full read and early stop,
// with a small header cap so hostile lengths hit the limits quickly.
// -max_len: a GGUF header runs to megabytes (tokenizer arrays); the fuzzer caps it at 1 MiB.
// fuzz-max-len: 1048576
#include "probes/gguf.hpp"

#include <cstddef>
#include <cstdint>
#include <span>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const auto bytes = std::as_bytes(std::span(data, size));
    halo::probes::GgufOptions options;
    options.limits.max_header_bytes = 1u << 20;
    (void)halo::probes::parse_gguf_header(bytes, options);
    options.stop_at_model_keys = true;
    if (auto h = halo::probes::parse_gguf_header(bytes, options)) {
        (void)h->context_length();
        for (const auto& [key, value] : h->kv) (void)value.to_text();
    }
    return 0;
}
