#include "rules/log_match.hpp"
#include "rules/rule_file.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace halo::rules;

namespace {

const char* const k_patterns = R"toml(
[[log_pattern]]
id = "mes.attributed"
regex = "MES failed to respond"
severity = "broken"
title = "the known MES 0x83 hang"
source = "kernel"
when = { "gpu.*.firmware.mes" = "0x00000083" }

[[log_pattern]]
id = "mes.generic"
regex = "MES failed to respond"
severity = "warning"
title = "MES hang"
source = "kernel"

[[log_pattern]]
id = "engine.devicelost"
regex = "vk::DeviceLostError"
severity = "broken"
title = "device lost"
source = "engine"

[[log_pattern]]
id = "any.oom"
regex = "out of memory"
severity = "warning"
title = "out of memory"
)toml";

} // namespace

TEST_CASE("the first pattern whose source, regex and facts fit explains a line", "[rules][log_match]")
{
    RulesFile file = parse_rules_file(k_patterns, "patterns.toml", false);
    REQUIRE_FALSE(file.has_errors());
    const auto& patterns = file.entries.log_patterns;
    Facts facts;
    const std::string mes = "amdgpu 0000:c1:00.0: amdgpu: MES failed to respond to msg=SUSPEND";

    const LogPattern* p = match_log_line(patterns, LogSource::kernel, mes, facts);
    REQUIRE(p);
    CHECK(p->id == "mes.generic"); // the attributed entry's facts do not hold

    facts.set("gpu.0.firmware.mes", "0x00000083");
    p = match_log_line(patterns, LogSource::kernel, mes, facts);
    REQUIRE(p);
    CHECK(p->id == "mes.attributed"); // rule order: attributed before generic

    CHECK(match_log_line(patterns, LogSource::engine, mes, facts) == nullptr); // kernel-only patterns
    CHECK(match_log_line(patterns, LogSource::kernel, "terminate: vk::DeviceLostError", facts) == nullptr);
    p = match_log_line(patterns, LogSource::engine, "terminate: vk::DeviceLostError", facts);
    REQUIRE(p);
    CHECK(p->id == "engine.devicelost");
    for (LogSource origin : {LogSource::kernel, LogSource::engine}) {
        p = match_log_line(patterns, origin, "cudaMalloc: out of memory", facts);
        REQUIRE(p);
        CHECK(p->id == "any.oom");
    }
    CHECK(match_log_line(patterns, LogSource::kernel, "", facts) == nullptr);
    CHECK(match_log_line(patterns, LogSource::kernel, std::string(100000, 'M'), facts) == nullptr);
}

TEST_CASE("a match's title is filled from the line's groups and the facts", "[rules][log_match]")
{
    RulesFile file = parse_rules_file(R"toml(
[[log_pattern]]
id = "engine.model-missing"
regex = "failed to open GGUF file '([^']*)' \\(No such file or directory\\)"
severity = "broken"
title = "model file not found: {1}"
source = "engine"

[[log_pattern]]
id = "engine.not-gguf"
regex = "invalid magic characters: '(.*)', expected 'GGUF'"
severity = "broken"
title = "'{engine.model.path}' is not a GGUF file (it starts with '{1}')"
source = "engine"
)toml",
                                      "titles.toml", false);
    REQUIRE_FALSE(file.has_errors());
    Facts facts;
    facts.set("engine.model.path", "/m.bin");
    auto m = explain_log_line(file.entries.log_patterns, LogSource::engine,
                              "0.00.006.318 E gguf_init_from_file: failed to open GGUF file '/x.gguf' (No such file or "
                              "directory)",
                              facts);
    REQUIRE(m);
    CHECK(m->pattern->id == "engine.model-missing");
    CHECK(m->title == "model file not found: /x.gguf");
    CHECK(m->pattern->title == "model file not found: {1}"); // the pattern itself is unchanged

    m = explain_log_line(file.entries.log_patterns, LogSource::engine,
                         "E gguf_init_from_reader: invalid magic characters: 'this', expected 'GGUF'", facts);
    REQUIRE(m);
    CHECK(m->title == "'/m.bin' is not a GGUF file (it starts with 'this')");

    // A hostile line: its group is text, cleaned and bounded.
    m = explain_log_line(
        file.entries.log_patterns, LogSource::engine,
        "invalid magic characters: '{engine.model.path}\x1b[2J" + std::string(5000, 'A') + "', expected 'GGUF'", facts);
    REQUIRE(m);
    CHECK_THAT(m->title, Catch::StartsWith("'/m.bin' is not a GGUF file (it starts with '{engine.model.path}?[2JAAA"));
    CHECK(m->title.size() < 400);

    CHECK_FALSE(explain_log_line(file.entries.log_patterns, LogSource::kernel,
                                 "failed to open GGUF file '/x.gguf' (No "
                                 "such file or directory)",
                                 facts));
    CHECK_FALSE(explain_log_line(file.entries.log_patterns, LogSource::engine, "nothing here", facts));
}
