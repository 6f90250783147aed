#include "daemon/check/bench_measure.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

using namespace halo::check;
using halo::probes::Host;

TEST_CASE("bench memory: amdgpu's GTT and VRAM in use from sysfs", "[bench]")
{
    const Host strix(HALO_TEST_DATA "/hosts/strix-fedora43-good");
    const MemoryReading m = read_memory(strix, {});
    REQUIRE(m.gtt_bytes);
    CHECK(*m.gtt_bytes == 70506459136ULL);
    REQUIRE(m.vram_bytes);
    CHECK(*m.vram_bytes == 254758912ULL);
    CHECK_FALSE(m.rss_bytes); // no engine pid given
}

TEST_CASE("bench memory: no amdgpu and no engine are not available, never an error", "[bench]")
{
    const Host bare(HALO_TEST_DATA "/hosts/minimal");
    const MemoryReading m = read_memory(bare, {12345678});
    CHECK_FALSE(m.gtt_bytes);
    CHECK_FALSE(m.vram_bytes);
    CHECK_FALSE(m.rss_bytes);
}

TEST_CASE("bench memory: the RSS of a live process from /proc", "[bench]")
{
    const MemoryReading m = read_memory(Host("/"), {::getpid()});
    REQUIRE(m.rss_bytes);
    CHECK(*m.rss_bytes > 1024u * 1024u);
    MemoryReading peak;
    keep_peak(peak, m);
    MemoryReading lower = m;
    *lower.rss_bytes -= 1;
    keep_peak(peak, lower);
    CHECK(peak.rss_bytes == m.rss_bytes);
}

TEST_CASE("bench prompts: exactly the depth asked for, different per offset", "[bench]")
{
    const std::vector<long> base{1, 2, 3, 4, 5};
    CHECK(prompt_tokens(base, 7, 0) == std::vector<long>{1, 2, 3, 4, 5, 1, 2});
    CHECK(prompt_tokens(base, 3, 3) == std::vector<long>{4, 5, 1});
    CHECK(prompt_tokens({}, 3, 0).empty());
    CHECK(prompt_tokens(base, 0, 0).empty());
}
