#pragma once
// GGUF header reader (ggml-org/ggml docs/gguf.md): magic, version 2/3, tensor_count, kv_count
// and the metadata key/values, read without touching tensor infos or tensor data. Model files
// are untrusted input (downloads, half-finished copies), so every length and count is checked
// against limits and against the bytes that exist before anything is allocated or skipped.
// Reads: the model file only, sequentially, at most GgufLimits::max_header_bytes.
// Privileges: read access to the model file. Introduced in 0.1.0.

#include "common/result.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace halo::probes {

enum class GgufType : std::uint32_t {
    uint8 = 0,
    int8 = 1,
    uint16 = 2,
    int16 = 3,
    uint32 = 4,
    int32 = 5,
    float32 = 6,
    boolean = 7,
    string = 8,
    array = 9,
    uint64 = 10,
    int64 = 11,
    float64 = 12,
};

std::string_view to_string(GgufType type) noexcept;

// One metadata value. Scalars keep their value; arrays keep only their element type and count
// (tokenizer arrays run to hundreds of thousands of entries and no check needs their contents).
struct GgufValue {
    GgufType type = GgufType::uint8;
    std::uint64_t u = 0; // unsigned integers and bool
    std::int64_t i = 0;  // signed integers
    double f = 0;        // floats
    std::string s;       // strings
    GgufType array_type = GgufType::uint8;
    std::uint64_t array_count = 0;

    // Any integer type (uint32 or uint64 context lengths both occur) as an unsigned value;
    // nullopt for negative, non-integer or array values.
    std::optional<std::uint64_t> as_unsigned() const;
    // The value as fact text: integers in decimal, bools true/false, strings as they are,
    // arrays as "array[TYPE;COUNT]".
    std::string to_text() const;
};

struct GgufLimits {
    std::uint64_t max_key_bytes = 64u << 10;
    std::uint64_t max_string_bytes = 1u << 20;
    std::uint64_t max_array_count = 1u << 24;
    std::uint64_t max_header_bytes = 16u << 20; // everything read or skipped, magic included
    unsigned max_array_depth = 4;
};

struct GgufOptions {
    GgufLimits limits;
    // Stop once general.architecture, general.name, general.file_type and ARCH.context_length
    // are known, or at the first tokenizer.* key once the architecture and context length are
    // (llama.cpp writes general.* and ARCH.* before the tokenizer). Saves reading megabytes of
    // tokenizer arrays.
    bool stop_at_model_keys = false;
    // With stop_at_model_keys: read on through the tokenizer arrays (skipped, not kept) until
    // tokenizer.chat_template too is read. Costs the tokenizer's size in reading (a few MB).
    bool read_chat_template = false;
};

struct GgufHeader {
    std::uint32_t version = 0;
    std::uint64_t tensor_count = 0;
    std::uint64_t kv_count = 0;
    std::map<std::string, GgufValue, std::less<>> kv;
    bool complete = false; // all kv_count pairs were read (false after an early stop)
    std::uint64_t bytes_read = 0;

    const GgufValue* find(std::string_view key) const;
    std::optional<std::string> string(std::string_view key) const;
    std::optional<std::uint64_t> unsigned_value(std::string_view key) const;
    // general.architecture, then ARCH.context_length.
    std::optional<std::string> architecture() const { return string("general.architecture"); }
    std::optional<std::uint64_t> context_length() const;
};

// Whether `file` starts with the GGUF magic, the first thing llama.cpp checks when it loads a model:
// false for any other content (safetensors, an HTML error page saved under a .gguf name, an
// empty file). An error when the file cannot be opened or read or is not a regular file: then it
// is not readable, which is a different problem.
Result<bool> starts_with_gguf_magic(const std::filesystem::path& file);

// `bytes` is the start of a file (or all of it); its size stands in for the file size.
Result<GgufHeader> parse_gguf_header(std::span<const std::byte> bytes, const GgufOptions& options = {});
// Reads incrementally from the file; never reads past the header or max_header_bytes.
Result<GgufHeader> read_gguf_header(const std::filesystem::path& file, const GgufOptions& options = {});

// llama.cpp's file type (LLAMA_FTYPE_MOSTLY_*) name for general.file_type: 7 -> "Q8_0"; empty
// when unknown (newer llama.cpp versions add values).
std::string_view gguf_file_type_name(std::uint64_t file_type) noexcept;

// "GLM-4.7-Flash-Q8_0-00001-of-00003.gguf" -> {1, 3}; nullopt for a file name without the
// split suffix.
struct GgufSplitName {
    unsigned index = 0;
    unsigned count = 0;
    std::string prefix; // "GLM-4.7-Flash-Q8_0"
};
std::optional<GgufSplitName> parse_gguf_split_name(std::string_view file_name);
std::string gguf_split_file_name(std::string_view prefix, unsigned index, unsigned count);

} // namespace halo::probes
