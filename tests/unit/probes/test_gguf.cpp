#include "probes/gguf.hpp"
#include "tests/unit/support/temp_dir.hpp"

#include "gguf_writer.hpp"

#include <catch2/catch.hpp>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <unistd.h>
#include <utility>
#include <vector>

using halo::probes::GgufOptions;
using halo::probes::GgufType;
using halo::probes::parse_gguf_header;
using halo::probes::read_gguf_header;
using halo::test::GgufWriter;

namespace {

using halo::test::TempDir;

} // namespace

TEST_CASE("GLM-4.7-Flash header: architecture, name, file type, context length", "[probes][gguf]")
{
    for (bool as_u64 : {false, true}) {
        auto w = GgufWriter::glm_flash(as_u64);
        auto h = parse_gguf_header(w.span());
        REQUIRE(h.ok());
        CHECK(h->version == 3);
        CHECK(h->kv_count == 6);
        CHECK(h->complete);
        CHECK(h->architecture() == std::optional<std::string>("deepseek2"));
        CHECK(h->string("general.name") == std::optional<std::string>("GLM-4.7-Flash"));
        CHECK(h->unsigned_value("general.file_type") == std::optional<std::uint64_t>(7));
        CHECK(h->context_length() == std::optional<std::uint64_t>(202752));
        CHECK(h->find("deepseek2.context_length")->type == (as_u64 ? GgufType::uint64 : GgufType::uint32));
        const auto* tokens = h->find("tokenizer.ggml.tokens");
        REQUIRE(tokens);
        CHECK(tokens->to_text() == "array[string;3]");
    }
}

TEST_CASE("every value type and nested arrays parse", "[probes][gguf]")
{
    GgufWriter w(14, 0, 2);
    w.key("a.u8", GgufWriter::u8).pod<std::uint8_t>(200);
    w.key("a.i8", GgufWriter::i8).pod<std::int8_t>(-5);
    w.key("a.u16", GgufWriter::u16).pod<std::uint16_t>(65000);
    w.key("a.i16", GgufWriter::i16).pod<std::int16_t>(-300);
    w.key("a.u32", GgufWriter::u32).pod<std::uint32_t>(4000000000u);
    w.key("a.i32", GgufWriter::i32).pod<std::int32_t>(-70000);
    w.key("a.f32", GgufWriter::f32).pod<float>(0.5f);
    w.key("a.bool", GgufWriter::boolean).pod<std::uint8_t>(1);
    w.kv_string("a.str", "text");
    w.key("a.u64", GgufWriter::u64).pod<std::uint64_t>(1ull << 40);
    w.key("a.i64", GgufWriter::i64).pod<std::int64_t>(-(1ll << 40));
    w.key("a.f64", GgufWriter::f64).pod<double>(2.25);
    w.key("a.arr_u32", GgufWriter::arr)
        .pod<std::uint32_t>(GgufWriter::u32)
        .pod<std::uint64_t>(3)
        .pod<std::uint32_t>(1)
        .pod<std::uint32_t>(2)
        .pod<std::uint32_t>(3);
    // array of 2 arrays of strings
    w.key("a.nested", GgufWriter::arr).pod<std::uint32_t>(GgufWriter::arr).pod<std::uint64_t>(2);
    w.pod<std::uint32_t>(GgufWriter::str).pod<std::uint64_t>(1).string("x");
    w.pod<std::uint32_t>(GgufWriter::str).pod<std::uint64_t>(2).string("y").string("zz");
    auto h = parse_gguf_header(w.span());
    REQUIRE(h.ok());
    CHECK(h->version == 2);
    CHECK(h->kv.size() == 14);
    CHECK(h->find("a.u8")->to_text() == "200");
    CHECK(h->find("a.i8")->to_text() == "-5");
    CHECK(h->find("a.u16")->to_text() == "65000");
    CHECK(h->find("a.i16")->to_text() == "-300");
    CHECK(h->find("a.u32")->to_text() == "4000000000");
    CHECK(h->find("a.i32")->to_text() == "-70000");
    CHECK(h->find("a.f32")->to_text() == "0.5");
    CHECK(h->find("a.bool")->to_text() == "true");
    CHECK(h->find("a.str")->to_text() == "text");
    CHECK(h->find("a.u64")->to_text() == "1099511627776");
    CHECK(h->find("a.i64")->to_text() == "-1099511627776");
    CHECK(h->find("a.f64")->to_text() == "2.25");
    CHECK(h->find("a.arr_u32")->to_text() == "array[uint32;3]");
    CHECK(h->find("a.nested")->to_text() == "array[array;2]");
    CHECK_FALSE(h->find("a.i8")->as_unsigned());
    CHECK(h->bytes_read == w.bytes().size());
}

TEST_CASE("a header cut at every byte offset is a clear error, never a crash", "[probes][gguf]")
{
    const auto w = GgufWriter::glm_flash();
    const auto all = w.span();
    for (std::size_t n = 0; n < all.size(); ++n) {
        auto h = parse_gguf_header(all.first(n));
        INFO("cut at " << n);
        REQUIRE_FALSE(h.ok());
        // Before the first 4 bytes the magic is what fails; later, the truncation or the
        // kv_count sanity check names the problem.
        const auto& m = h.error().message;
        CHECK((m.find("truncated") != std::string::npos || m.find("cannot fit") != std::string::npos));
    }
    CHECK(parse_gguf_header(all).ok());
}

TEST_CASE("hostile sizes are refused without allocating", "[probes][gguf]")
{
    SECTION("2^60 string length")
    {
        GgufWriter w(1);
        w.key("general.name", GgufWriter::str).pod<std::uint64_t>(1ull << 60).raw("abc", 3);
        auto h = parse_gguf_header(w.span());
        REQUIRE_FALSE(h.ok());
        CHECK_THAT(h.error().message, Catch::Contains("string length 1152921504606846976") &&
                                          Catch::Contains("exceeds the 1048576-byte limit"));
    }
    SECTION("2^60 key length")
    {
        GgufWriter w(1);
        w.pod<std::uint64_t>(1ull << 60).raw("abcdefghijklm", 13);
        auto h = parse_gguf_header(w.span());
        REQUIRE_FALSE(h.ok());
        CHECK_THAT(h.error().message, Catch::Contains("key length"));
    }
    SECTION("string length within the cap but beyond the file")
    {
        GgufWriter w(1);
        w.key("general.name", GgufWriter::str).pod<std::uint64_t>(1000).raw("abc", 3);
        auto h = parse_gguf_header(w.span());
        REQUIRE_FALSE(h.ok());
        CHECK_THAT(h.error().message, Catch::Contains("truncated") && Catch::Contains("1000 bytes needed"));
    }
    SECTION("kv_count larger than the file can hold")
    {
        GgufWriter w(1ull << 40);
        w.kv_string("general.architecture", "llama");
        auto h = parse_gguf_header(w.span());
        REQUIRE_FALSE(h.ok());
        CHECK_THAT(h.error().message, Catch::Contains("kv_count 1099511627776 cannot fit"));
    }
    SECTION("kv_count one more than present")
    {
        auto w = GgufWriter(2);
        w.kv_string("general.architecture", "llama");
        auto h = parse_gguf_header(w.span());
        REQUIRE_FALSE(h.ok());
    }
    SECTION("array count 2^62 of uint64")
    {
        GgufWriter w(1);
        w.key("x", GgufWriter::arr).pod<std::uint32_t>(GgufWriter::u64).pod<std::uint64_t>(1ull << 62);
        auto h = parse_gguf_header(w.span());
        REQUIRE_FALSE(h.ok());
        CHECK_THAT(h.error().message, Catch::Contains("array count"));
    }
    SECTION("array of strings whose count cannot fit")
    {
        GgufWriter w(1);
        w.key("x", GgufWriter::arr).pod<std::uint32_t>(GgufWriter::str).pod<std::uint64_t>(1u << 20);
        auto h = parse_gguf_header(w.span());
        REQUIRE_FALSE(h.ok());
        CHECK_THAT(h.error().message, Catch::Contains("truncated"));
    }
    SECTION("arrays nested beyond the depth limit")
    {
        GgufWriter w(1);
        w.key("x", GgufWriter::arr);
        for (int d = 0; d < 6; ++d) w.pod<std::uint32_t>(GgufWriter::arr).pod<std::uint64_t>(1);
        w.pod<std::uint32_t>(GgufWriter::u8).pod<std::uint64_t>(0);
        auto h = parse_gguf_header(w.span());
        REQUIRE_FALSE(h.ok());
        CHECK_THAT(h.error().message, Catch::Contains("nested deeper"));
    }
    SECTION("unknown value type")
    {
        GgufWriter w(1);
        w.key("x", static_cast<GgufWriter::Type>(13)).pod<std::uint32_t>(0);
        auto h = parse_gguf_header(w.span());
        REQUIRE_FALSE(h.ok());
        CHECK_THAT(h.error().message, Catch::Contains("unknown value type 13"));
    }
    SECTION("bool that is not 0/1")
    {
        GgufWriter w(1);
        w.key("x", GgufWriter::boolean).pod<std::uint8_t>(7);
        auto h = parse_gguf_header(w.span());
        REQUIRE_FALSE(h.ok());
        CHECK_THAT(h.error().message, Catch::Contains("bool value 7"));
    }
    SECTION("header byte cap")
    {
        GgufOptions options;
        options.limits.max_header_bytes = 64;
        auto w = GgufWriter::glm_flash();
        auto h = parse_gguf_header(w.span(), options);
        REQUIRE_FALSE(h.ok());
        CHECK_THAT(h.error().message, Catch::Contains("larger than the 64-byte limit"));
    }
}

TEST_CASE("wrong magic and unsupported versions", "[probes][gguf]")
{
    auto bad_magic = GgufWriter(0, 0, 3, "GGML");
    auto h = parse_gguf_header(bad_magic.span());
    REQUIRE_FALSE(h.ok());
    CHECK_THAT(h.error().message, Catch::Contains("not a GGUF file"));

    auto v1 = GgufWriter(0, 0, 1);
    h = parse_gguf_header(v1.span());
    REQUIRE_FALSE(h.ok());
    CHECK_THAT(h.error().message, Catch::Contains("unsupported GGUF version 1"));

    const std::string text = "this is not a model";
    h = parse_gguf_header(std::as_bytes(std::span(text.data(), text.size())));
    REQUIRE_FALSE(h.ok());
}

TEST_CASE("early stop skips the tokenizer once the model keys are known", "[probes][gguf]")
{
    GgufWriter w(4);
    w.kv_string("general.architecture", "deepseek2");
    w.kv_u32("deepseek2.context_length", 202752);
    // A hostile tokenizer that would fail if it were read.
    w.key("tokenizer.ggml.tokens", GgufWriter::arr).pod<std::uint32_t>(GgufWriter::str).pod<std::uint64_t>(1ull << 40);
    GgufOptions options;
    options.stop_at_model_keys = true;
    auto h = parse_gguf_header(w.span(), options);
    REQUIRE(h.ok());
    CHECK_FALSE(h->complete);
    CHECK(h->context_length() == std::optional<std::uint64_t>(202752));
    CHECK_FALSE(parse_gguf_header(w.span()).ok());
}

TEST_CASE("reads a real file incrementally, header only", "[probes][gguf]")
{
    TempDir dir;
    const auto file = dir.path / "GLM-4.7-Flash-Q8_0.gguf";
    auto w = GgufWriter::glm_flash();
    w.write(file, 200000); // pretend tensor data follows
    auto h = read_gguf_header(file);
    REQUIRE(h.ok());
    CHECK(h->bytes_read == w.bytes().size());
    CHECK(h->string("general.name") == std::optional<std::string>("GLM-4.7-Flash"));

    auto missing = read_gguf_header(dir.path / "nope.gguf");
    REQUIRE_FALSE(missing.ok());
    CHECK_THAT(missing.error().message, Catch::Contains("Failed to read '") && Catch::Contains("No such file"));

    // Truncated on disk: the reader names the file.
    const auto cut = dir.path / "cut.gguf";
    GgufWriter c(1);
    c.key("general.name", GgufWriter::str).pod<std::uint64_t>(1ull << 60);
    c.write(cut);
    auto bad = read_gguf_header(cut);
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.error().message,
               Catch::Contains("Failed to read the GGUF header of '") && Catch::Contains("cut.gguf"));
}

TEST_CASE("the GGUF magic tells a model from other files, unreadable is an error", "[probes][gguf]")
{
    using halo::probes::starts_with_gguf_magic;
    TempDir dir;
    GgufWriter::glm_flash().write(dir.path / "model.gguf");
    auto yes = starts_with_gguf_magic(dir.path / "model.gguf");
    REQUIRE(yes.ok());
    CHECK(*yes);
    GgufWriter(0, 0, 99).write(dir.path / "v99.gguf"); // the magic is GGUF's, whatever follows
    CHECK(starts_with_gguf_magic(dir.path / "v99.gguf").value_or(false));

    for (const auto& [name, content] :
         std::vector<std::pair<std::string, std::string>>{{"page.gguf", "<!DOCTYPE html>"},
                                                          {"empty.gguf", ""},
                                                          {"short.gguf", "GGU"},
                                                          {"lfs.gguf", "version https://git-lfs.github.com/spec/v1\n"},
                                                          {"lower.gguf", "gguf\x03"}}) {
        INFO(name);
        std::ofstream(dir.path / name, std::ios::binary) << content;
        auto no = starts_with_gguf_magic(dir.path / name);
        REQUIRE(no.ok());
        CHECK_FALSE(*no);
    }

    auto missing = starts_with_gguf_magic(dir.path / "nope.gguf");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().errno_value == ENOENT);
    CHECK_THAT(missing.error().message,
               Catch::Contains("Failed to read '") && Catch::Contains("nope.gguf': No such file"));
    auto directory = starts_with_gguf_magic(dir.path);
    REQUIRE_FALSE(directory.ok());
    CHECK_THAT(directory.error().message, Catch::Contains("not a regular file"));
}

TEST_CASE("split file names", "[probes][gguf]")
{
    auto s = halo::probes::parse_gguf_split_name("GLM-4.7-Flash-Q8_0-00002-of-00003.gguf");
    REQUIRE(s);
    CHECK(s->index == 2);
    CHECK(s->count == 3);
    CHECK(s->prefix == "GLM-4.7-Flash-Q8_0");
    CHECK(halo::probes::gguf_split_file_name(s->prefix, 1, 3) == "GLM-4.7-Flash-Q8_0-00001-of-00003.gguf");
    CHECK_FALSE(halo::probes::parse_gguf_split_name("GLM-4.7-Flash-Q8_0.gguf"));
    CHECK_FALSE(halo::probes::parse_gguf_split_name("x-00004-of-00003.gguf"));
    CHECK_FALSE(halo::probes::parse_gguf_split_name("x-0000a-of-00003.gguf"));
    CHECK_FALSE(halo::probes::parse_gguf_split_name("-00001-of-00003.gguf"));
    CHECK(halo::probes::gguf_file_type_name(7) == "Q8_0");
    CHECK(halo::probes::gguf_file_type_name(999).empty());
}
