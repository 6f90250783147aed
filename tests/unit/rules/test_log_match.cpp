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
