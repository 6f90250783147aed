#include "probes/gguf.hpp"

#include "common/fd.hpp"

#include <fmt/core.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <charconv>
#include <memory>
#include <vector>

namespace halo::probes {

namespace {

static_assert(std::endian::native == std::endian::little, "GGUF is read as little-endian");

constexpr std::uint32_t k_magic = 0x46554747; // "GGUF" read little-endian

// Where the parser takes bytes from. `remaining()` is what the file still holds, so a length
// can be refused before anything is allocated for it.
class Source {
public:
    virtual ~Source() = default;
    virtual Result<void> read(void* dst, std::size_t n) = 0;
    virtual Result<void> skip(std::uint64_t n) = 0;
    virtual std::uint64_t remaining() const = 0;
    std::uint64_t offset() const { return m_offset; }

protected:
    std::uint64_t m_offset = 0;
};

Error truncated(std::uint64_t offset, std::uint64_t wanted, std::uint64_t left)
{
    return Error{fmt::format("truncated GGUF header: {} bytes needed at offset {}, {} left", wanted, offset, left)};
}

class SpanSource final : public Source {
public:
    explicit SpanSource(std::span<const std::byte> bytes) : m_bytes(bytes) {}
    Result<void> read(void* dst, std::size_t n) override
    {
        if (n > remaining()) return truncated(m_offset, n, remaining());
        std::memcpy(dst, m_bytes.data() + m_offset, n);
        m_offset += n;
        return {};
    }
    Result<void> skip(std::uint64_t n) override
    {
        if (n > remaining()) return truncated(m_offset, n, remaining());
        m_offset += n;
        return {};
    }
    std::uint64_t remaining() const override { return m_bytes.size() - m_offset; }

private:
    std::span<const std::byte> m_bytes;
};

class FileSource final : public Source {
public:
    FileSource(Fd fd, std::uint64_t size) : m_fd(std::move(fd)), m_size(size) {}
    Result<void> read(void* dst, std::size_t n) override
    {
        if (n > remaining()) return truncated(m_offset, n, remaining());
        auto* out = static_cast<unsigned char*>(dst);
        while (n > 0) {
            if (m_pos == m_end) {
                auto filled = fill();
                if (!filled) return filled.error();
            }
            const std::size_t take = std::min(n, m_end - m_pos);
            std::memcpy(out, m_buffer.data() + m_pos, take);
            m_pos += take;
            out += take;
            n -= take;
            m_offset += take;
        }
        return {};
    }
    Result<void> skip(std::uint64_t n) override
    {
        if (n > remaining()) return truncated(m_offset, n, remaining());
        const std::uint64_t buffered = m_end - m_pos;
        if (n <= buffered) {
            m_pos += n;
        } else {
            if (::lseek(m_fd.get(), static_cast<off_t>(n - buffered), SEEK_CUR) < 0)
                return Error{fmt::format("seek failed: {}", std::strerror(errno)), errno};
            m_pos = m_end = 0;
        }
        m_offset += n;
        return {};
    }
    std::uint64_t remaining() const override { return m_size > m_offset ? m_size - m_offset : 0; }

private:
    Result<void> fill()
    {
        while (true) {
            const ssize_t got = ::read(m_fd.get(), m_buffer.data(), m_buffer.size());
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) return Error{fmt::format("read failed: {}", std::strerror(errno)), errno};
            // The file shrank under us: report it as truncation rather than spinning.
            if (got == 0) return truncated(m_offset, 1, 0);
            m_pos = 0;
            m_end = static_cast<std::size_t>(got);
            return {};
        }
    }

    Fd m_fd;
    std::uint64_t m_size;
    std::array<unsigned char, 64 * 1024> m_buffer{};
    std::size_t m_pos = 0;
    std::size_t m_end = 0;
};

std::uint64_t fixed_size(GgufType type)
{
    switch (type) {
    case GgufType::uint8:
    case GgufType::int8:
    case GgufType::boolean: return 1;
    case GgufType::uint16:
    case GgufType::int16: return 2;
    case GgufType::uint32:
    case GgufType::int32:
    case GgufType::float32: return 4;
    case GgufType::uint64:
    case GgufType::int64:
    case GgufType::float64: return 8;
    case GgufType::string:
    case GgufType::array: return 0;
    }
    return 0;
}

bool valid_type(std::uint32_t raw) { return raw <= static_cast<std::uint32_t>(GgufType::float64); }

class Parser {
public:
    Parser(Source& source, const GgufOptions& options) : m_src(source), m_opt(options) {}

    Result<GgufHeader> run()
    {
        GgufHeader header;
        std::uint32_t magic = 0;
        HALO_TRY(read_pod(magic));
        if (magic != k_magic) {
            return Error{fmt::format("not a GGUF file: magic 0x{:08x}, expected 0x{:08x} ('GGUF')", magic, k_magic)};
        }
        HALO_TRY(read_pod(header.version));
        if (header.version != 2 && header.version != 3) {
            return Error{fmt::format("unsupported GGUF version {} (2 and 3 are supported)", header.version)};
        }
        HALO_TRY(read_pod(header.tensor_count));
        HALO_TRY(read_pod(header.kv_count));
        // The smallest pair is an empty key (8-byte length), a type (4) and a 1-byte value.
        constexpr std::uint64_t k_min_kv = 13;
        if (header.kv_count > m_src.remaining() / k_min_kv) {
            return Error{fmt::format("GGUF kv_count {} cannot fit in the {} bytes that follow the header",
                                     header.kv_count, m_src.remaining())};
        }
        for (std::uint64_t n = 0; n < header.kv_count; ++n) {
            std::string key;
            HALO_TRY(read_string(key, m_opt.limits.max_key_bytes, "key"));
            if (m_opt.stop_at_model_keys && !m_opt.read_chat_template && key.starts_with("tokenizer.") &&
                have_required(header))
                break;
            std::uint32_t raw_type = 0;
            HALO_TRY(read_pod(raw_type));
            if (!valid_type(raw_type)) {
                return Error{fmt::format("GGUF key '{}' has unknown value type {} at offset {}", key, raw_type,
                                         m_src.offset() - 4)};
            }
            GgufValue value;
            value.type = static_cast<GgufType>(raw_type);
            HALO_TRY(read_value(value, 0));
            header.kv.insert_or_assign(std::move(key), std::move(value));
            if (n + 1 == header.kv_count) header.complete = true;
            if (m_opt.stop_at_model_keys && have_all(header) &&
                (!m_opt.read_chat_template || header.find("tokenizer.chat_template")))
                break;
        }
        if (header.kv_count == 0) header.complete = true;
        header.bytes_read = m_src.offset();
        return header;
    }

private:
    static bool have_required(const GgufHeader& h) { return h.architecture() && h.context_length(); }
    static bool have_all(const GgufHeader& h)
    {
        return have_required(h) && h.find("general.name") && h.find("general.file_type");
    }

    Result<void> budget(std::uint64_t n)
    {
        const std::uint64_t limit = m_opt.limits.max_header_bytes;
        if (n > limit || m_src.offset() > limit - n) {
            return Error{
                fmt::format("GGUF header larger than the {}-byte limit (at offset {})", limit, m_src.offset())};
        }
        if (n > m_src.remaining()) return truncated(m_src.offset(), n, m_src.remaining());
        return {};
    }

    template <typename T>
    Result<void> read_pod(T& out)
    {
        HALO_TRY(budget(sizeof(T)));
        return m_src.read(&out, sizeof(T));
    }

    Result<void> read_string(std::string& out, std::uint64_t cap, std::string_view what)
    {
        std::uint64_t length = 0;
        HALO_TRY(read_pod(length));
        if (length > cap) {
            return Error{fmt::format("GGUF {} length {} at offset {} exceeds the {}-byte limit", what, length,
                                     m_src.offset() - 8, cap)};
        }
        HALO_TRY(budget(length));
        out.resize(static_cast<std::size_t>(length));
        return m_src.read(out.data(), out.size());
    }

    Result<void> skip_string()
    {
        std::uint64_t length = 0;
        HALO_TRY(read_pod(length));
        if (length > m_opt.limits.max_string_bytes) {
            return Error{fmt::format("GGUF string length {} at offset {} exceeds the {}-byte limit", length,
                                     m_src.offset() - 8, m_opt.limits.max_string_bytes)};
        }
        HALO_TRY(budget(length));
        return m_src.skip(length);
    }

    Result<void> read_value(GgufValue& v, unsigned depth)
    {
        switch (v.type) {
        case GgufType::uint8: return read_unsigned<std::uint8_t>(v);
        case GgufType::uint16: return read_unsigned<std::uint16_t>(v);
        case GgufType::uint32: return read_unsigned<std::uint32_t>(v);
        case GgufType::uint64: return read_unsigned<std::uint64_t>(v);
        case GgufType::int8: return read_signed<std::int8_t>(v);
        case GgufType::int16: return read_signed<std::int16_t>(v);
        case GgufType::int32: return read_signed<std::int32_t>(v);
        case GgufType::int64: return read_signed<std::int64_t>(v);
        case GgufType::float32: {
            float f = 0;
            HALO_TRY(read_pod(f));
            v.f = f;
            return {};
        }
        case GgufType::float64: return read_pod(v.f);
        case GgufType::boolean: {
            std::uint8_t b = 0;
            HALO_TRY(read_pod(b));
            if (b > 1)
                return Error{fmt::format("GGUF bool value {} at offset {} is not 0 or 1", b, m_src.offset() - 1)};
            v.u = b;
            return {};
        }
        case GgufType::string: return read_string(v.s, m_opt.limits.max_string_bytes, "string");
        case GgufType::array: return read_array(v, depth);
        }
        return Error{"GGUF value of unknown type"};
    }

    template <typename T>
    Result<void> read_unsigned(GgufValue& v)
    {
        T x{};
        HALO_TRY(read_pod(x));
        v.u = x;
        return {};
    }
    template <typename T>
    Result<void> read_signed(GgufValue& v)
    {
        T x{};
        HALO_TRY(read_pod(x));
        v.i = x; // NOLINT(bugprone-signed-char-misuse): GGUF's int8 is a number, not a character
        return {};
    }

    Result<void> read_array(GgufValue& v, unsigned depth)
    {
        if (depth >= m_opt.limits.max_array_depth) {
            return Error{fmt::format("GGUF arrays nested deeper than {} at offset {}", m_opt.limits.max_array_depth,
                                     m_src.offset())};
        }
        std::uint32_t raw_type = 0;
        HALO_TRY(read_pod(raw_type));
        if (!valid_type(raw_type)) {
            return Error{
                fmt::format("GGUF array of unknown element type {} at offset {}", raw_type, m_src.offset() - 4)};
        }
        v.array_type = static_cast<GgufType>(raw_type);
        HALO_TRY(read_pod(v.array_count));
        if (v.array_count > m_opt.limits.max_array_count) {
            return Error{fmt::format("GGUF array count {} at offset {} exceeds the limit of {}", v.array_count,
                                     m_src.offset() - 8, m_opt.limits.max_array_count)};
        }
        if (const std::uint64_t size = fixed_size(v.array_type); size != 0) {
            // count <= 2^24 and size <= 8: the product cannot overflow.
            HALO_TRY(budget(v.array_count * size));
            return m_src.skip(v.array_count * size);
        }
        // Each string or nested array takes at least 8 bytes: refuse impossible counts at once
        // instead of looping 2^24 times into a truncation error.
        if (v.array_count > m_src.remaining() / 8) {
            return truncated(m_src.offset(), v.array_count * 8, m_src.remaining());
        }
        for (std::uint64_t n = 0; n < v.array_count; ++n) {
            if (v.array_type == GgufType::string) {
                HALO_TRY(skip_string());
            } else {
                GgufValue inner;
                inner.type = GgufType::array;
                HALO_TRY(read_array(inner, depth + 1));
            }
        }
        return {};
    }

    Source& m_src;
    const GgufOptions& m_opt;
};

} // namespace

std::string_view to_string(GgufType type) noexcept
{
    switch (type) {
    case GgufType::uint8: return "uint8";
    case GgufType::int8: return "int8";
    case GgufType::uint16: return "uint16";
    case GgufType::int16: return "int16";
    case GgufType::uint32: return "uint32";
    case GgufType::int32: return "int32";
    case GgufType::float32: return "float32";
    case GgufType::boolean: return "bool";
    case GgufType::string: return "string";
    case GgufType::array: return "array";
    case GgufType::uint64: return "uint64";
    case GgufType::int64: return "int64";
    case GgufType::float64: return "float64";
    }
    return "unknown";
}

std::optional<std::uint64_t> GgufValue::as_unsigned() const
{
    switch (type) {
    case GgufType::uint8:
    case GgufType::uint16:
    case GgufType::uint32:
    case GgufType::uint64: return u;
    case GgufType::int8:
    case GgufType::int16:
    case GgufType::int32:
    case GgufType::int64:
        if (i < 0) return std::nullopt;
        return static_cast<std::uint64_t>(i);
    default: return std::nullopt;
    }
}

std::string GgufValue::to_text() const
{
    switch (type) {
    case GgufType::uint8:
    case GgufType::uint16:
    case GgufType::uint32:
    case GgufType::uint64: return std::to_string(u);
    case GgufType::int8:
    case GgufType::int16:
    case GgufType::int32:
    case GgufType::int64: return std::to_string(i);
    case GgufType::float32:
    case GgufType::float64: return fmt::format("{}", f);
    case GgufType::boolean: return u ? "true" : "false";
    case GgufType::string: return s;
    case GgufType::array: return fmt::format("array[{};{}]", to_string(array_type), array_count);
    }
    return {};
}

const GgufValue* GgufHeader::find(std::string_view key) const
{
    auto it = kv.find(key);
    return it == kv.end() ? nullptr : &it->second;
}

std::optional<std::string> GgufHeader::string(std::string_view key) const
{
    const GgufValue* v = find(key);
    if (!v || v->type != GgufType::string) return std::nullopt;
    return v->s;
}

std::optional<std::uint64_t> GgufHeader::unsigned_value(std::string_view key) const
{
    const GgufValue* v = find(key);
    return v ? v->as_unsigned() : std::nullopt;
}

std::optional<std::uint64_t> GgufHeader::context_length() const
{
    auto arch = architecture();
    if (!arch) return std::nullopt;
    return unsigned_value(*arch + ".context_length");
}

Result<GgufHeader> parse_gguf_header(std::span<const std::byte> bytes, const GgufOptions& options)
{
    SpanSource source(bytes);
    return Parser(source, options).run();
}

Result<bool> starts_with_gguf_magic(const std::filesystem::path& file)
{
    Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd) return Error{fmt::format("Failed to read '{}': {}", file.string(), std::strerror(errno)), errno};
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) {
        return Error{fmt::format("Failed to read '{}': {}", file.string(), std::strerror(errno)), errno};
    }
    if (!S_ISREG(st.st_mode))
        return Error{fmt::format("Failed to read '{}': not a regular file", file.string()), EINVAL};
    std::array<unsigned char, 4> head{};
    std::size_t got = 0;
    while (got < head.size()) {
        const ssize_t n = ::read(fd.get(), head.data() + got, head.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error{fmt::format("Failed to read '{}': {}", file.string(), std::strerror(errno)), errno};
        if (n == 0) return false;
        got += static_cast<std::size_t>(n);
    }
    std::uint32_t magic = 0;
    std::memcpy(&magic, head.data(), sizeof magic);
    return magic == k_magic;
}

Result<GgufHeader> read_gguf_header(const std::filesystem::path& file, const GgufOptions& options)
{
    Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (!fd) {
        return Error{fmt::format("Failed to read '{}': {}", file.string(), std::strerror(errno)), errno};
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
        return Error{fmt::format("Failed to read '{}': not a regular file", file.string()), errno};
    }
    FileSource source(std::move(fd), static_cast<std::uint64_t>(st.st_size));
    auto header = Parser(source, options).run();
    if (!header) {
        return Error{fmt::format("Failed to read the GGUF header of '{}': {}", file.string(), header.error().message),
                     header.error().errno_value};
    }
    return header;
}

std::string_view gguf_file_type_name(std::uint64_t file_type) noexcept
{
    // llama.cpp include/llama.h, enum llama_ftype (values 4-6 were removed upstream).
    switch (file_type) {
    case 0: return "F32";
    case 1: return "F16";
    case 2: return "Q4_0";
    case 3: return "Q4_1";
    case 7: return "Q8_0";
    case 8: return "Q5_0";
    case 9: return "Q5_1";
    case 10: return "Q2_K";
    case 11: return "Q3_K_S";
    case 12: return "Q3_K_M";
    case 13: return "Q3_K_L";
    case 14: return "Q4_K_S";
    case 15: return "Q4_K_M";
    case 16: return "Q5_K_S";
    case 17: return "Q5_K_M";
    case 18: return "Q6_K";
    case 19: return "IQ2_XXS";
    case 20: return "IQ2_XS";
    case 21: return "Q2_K_S";
    case 22: return "IQ3_XS";
    case 23: return "IQ3_XXS";
    case 24: return "IQ1_S";
    case 25: return "IQ4_NL";
    case 26: return "IQ3_S";
    case 27: return "IQ3_M";
    case 28: return "IQ2_S";
    case 29: return "IQ2_M";
    case 30: return "IQ4_XS";
    case 31: return "IQ1_M";
    case 32: return "BF16";
    case 36: return "TQ1_0";
    case 37: return "TQ2_0";
    case 38: return "MXFP4_MOE";
    default: return {};
    }
}

std::optional<GgufSplitName> parse_gguf_split_name(std::string_view name)
{
    // PREFIX-NNNNN-of-MMMMM.gguf
    constexpr std::string_view k_ext = ".gguf";
    constexpr std::size_t k_suffix = 1 + 5 + 4 + 5; // "-00001-of-00003"
    if (!name.ends_with(k_ext)) return std::nullopt;
    std::string_view stem = name.substr(0, name.size() - k_ext.size());
    if (stem.size() <= k_suffix) return std::nullopt;
    std::string_view tail = stem.substr(stem.size() - k_suffix);
    if (tail[0] != '-' || tail.substr(6, 4) != "-of-") return std::nullopt;
    auto number = [](std::string_view digits, unsigned& out) {
        for (char c : digits)
            if (c < '0' || c > '9') return false;
        return std::from_chars(digits.data(), digits.data() + digits.size(), out).ec == std::errc{};
    };
    GgufSplitName split;
    if (!number(tail.substr(1, 5), split.index) || !number(tail.substr(10, 5), split.count)) return std::nullopt;
    if (split.index == 0 || split.count == 0 || split.index > split.count) return std::nullopt;
    split.prefix = std::string(stem.substr(0, stem.size() - k_suffix));
    return split;
}

std::string gguf_split_file_name(std::string_view prefix, unsigned index, unsigned count)
{
    return fmt::format("{}-{:05}-of-{:05}.gguf", prefix, index, count);
}

} // namespace halo::probes
