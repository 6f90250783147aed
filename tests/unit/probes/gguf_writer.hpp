#pragma once
// A small GGUF writer for tests: builds real GGUF v2/v3 headers byte by byte (little-endian, as
// ggml-org/ggml docs/gguf.md lays them out), including deliberately lying ones.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace halo::test {

class GgufWriter {
public:
    enum Type : std::uint32_t {
        u8 = 0,
        i8 = 1,
        u16 = 2,
        i16 = 3,
        u32 = 4,
        i32 = 5,
        f32 = 6,
        boolean = 7,
        str = 8,
        arr = 9,
        u64 = 10,
        i64 = 11,
        f64 = 12,
    };

    // kv_count is written as given; pass the real count or a lie.
    GgufWriter(std::uint64_t kv_count, std::uint64_t tensor_count = 0, std::uint32_t version = 3,
               std::string_view magic = "GGUF")
    {
        raw(magic.data(), 4);
        pod(version);
        pod(tensor_count);
        pod(kv_count);
    }

    template <typename T>
    GgufWriter& pod(T v)
    {
        raw(&v, sizeof v);
        return *this;
    }
    GgufWriter& raw(const void* p, std::size_t n)
    {
        const auto* b = static_cast<const std::byte*>(p);
        m_bytes.insert(m_bytes.end(), b, b + n);
        return *this;
    }
    GgufWriter& string(std::string_view s)
    {
        pod<std::uint64_t>(s.size());
        return raw(s.data(), s.size());
    }
    GgufWriter& key(std::string_view k, Type t)
    {
        string(k);
        return pod<std::uint32_t>(t);
    }
    GgufWriter& kv_string(std::string_view k, std::string_view v) { return key(k, str).string(v); }
    GgufWriter& kv_u32(std::string_view k, std::uint32_t v) { return key(k, u32).pod(v); }
    GgufWriter& kv_u64(std::string_view k, std::uint64_t v) { return key(k, u64).pod(v); }
    GgufWriter& kv_string_array(std::string_view k, const std::vector<std::string>& items)
    {
        key(k, arr).pod<std::uint32_t>(str).pod<std::uint64_t>(items.size());
        for (const auto& s : items) string(s);
        return *this;
    }

    // GLM-4.7-Flash's model keys as llama.cpp writes them (general.* then ARCH.* then tokenizer.*).
    static GgufWriter glm_flash(bool context_as_u64 = false)
    {
        GgufWriter w(6);
        w.kv_string("general.architecture", "deepseek2");
        w.kv_string("general.name", "GLM-4.7-Flash");
        w.kv_u32("general.file_type", 7);
        if (context_as_u64) w.kv_u64("deepseek2.context_length", 202752);
        else w.kv_u32("deepseek2.context_length", 202752);
        w.kv_u32("deepseek2.block_count", 47);
        w.kv_string_array("tokenizer.ggml.tokens", {"<unk>", "hello", "world"});
        return w;
    }

    const std::vector<std::byte>& bytes() const { return m_bytes; }
    std::span<const std::byte> span() const { return m_bytes; }

    void write(const std::filesystem::path& path, std::size_t padding = 0) const
    {
        if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(m_bytes.data()), static_cast<std::streamsize>(m_bytes.size()));
        const std::string pad(padding, '\0');
        out.write(pad.data(), static_cast<std::streamsize>(pad.size()));
    }

private:
    std::vector<std::byte> m_bytes;
};

} // namespace halo::test
