#include "daemon/export_input.hpp"

#include "export_fixture.hpp"

#include <catch2/catch.hpp>

using namespace halo;
using namespace halo::app;

TEST_CASE("RFC 3339 times to Unix seconds, with a fraction or an offset, junk is none", "[daemon][export]")
{
    CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == std::optional<std::time_t>(0));
    CHECK(parse_rfc3339("2026-12-01T10:00:00Z") == std::optional<std::time_t>(1796119200));
    CHECK(parse_rfc3339("2026-12-01T10:00:00.123Z") == std::optional<std::time_t>(1796119200));
    CHECK(parse_rfc3339("2026-12-01T12:00:00+02:00") == std::optional<std::time_t>(1796119200));
    CHECK(parse_rfc3339("2024-02-29T00:00:00Z") == std::optional<std::time_t>(1709164800));
    for (const char* bad :
         {"", "2026-12-01", "2026-12-01T10:00:00", "2026-13-01T10:00:00Z", "2026-12-01T10:00:00Zjunk", "yesterday"}) {
        INFO(bad);
        CHECK_FALSE(parse_rfc3339(bad));
    }
}

TEST_CASE("GPU gauges from the drm probe's facts, per GPU", "[daemon][export]")
{
    test::ExportFixture f;
    f.facts.set("gpu.1.pci.vendor", "0x1002");
    f.facts.set("gpu.1.sensor.busy_percent", "100");
    const std::vector<GpuGauges> gpus = gpu_gauges(f.facts);
    REQUIRE(gpus.size() == 2);
    CHECK(gpus[0].index == "0");
    CHECK(gpus[0].busy_ratio == Approx(0.03));
    CHECK(gpus[0].temperature_celsius == Approx(46.0));
    CHECK(gpus[0].power_watts == Approx(18.0));
    CHECK(gpus[1].busy_ratio == Approx(1.0));
    CHECK_FALSE(gpus[1].temperature_celsius);
    f.facts.set("gpu.0.sensor.busy_percent", "n/a");
    CHECK_FALSE(gpu_gauges(f.facts)[0].busy_ratio);
    CHECK(first_gfx_target(f.facts) == "gfx1151");
}
