#include "rules/version.hpp"

#include <catch2/catch.hpp>
#include <rpm/rpmver.h>

#include <random>
#include <string>
#include <tuple>
#include <vector>

using halo::rules::evr_compare;
using halo::rules::rpm_vercmp;

namespace {

// rpm's own published comparison vectors (tests/rpmvercmp.at in the rpm sources).
const std::vector<std::tuple<const char*, const char*, int>> k_rpm_vectors = {
    {"1.0", "1.0", 0},
    {"1.0", "2.0", -1},
    {"2.0", "1.0", 1},
    {"2.0.1", "2.0.1", 0},
    {"2.0", "2.0.1", -1},
    {"2.0.1", "2.0", 1},
    {"2.0.1a", "2.0.1a", 0},
    {"2.0.1a", "2.0.1", 1},
    {"2.0.1", "2.0.1a", -1},
    {"5.5p1", "5.5p1", 0},
    {"5.5p1", "5.5p2", -1},
    {"5.5p2", "5.5p1", 1},
    {"5.5p10", "5.5p10", 0},
    {"5.5p1", "5.5p10", -1},
    {"5.5p10", "5.5p1", 1},
    {"10xyz", "10.1xyz", -1},
    {"10.1xyz", "10xyz", 1},
    {"xyz10", "xyz10", 0},
    {"xyz10", "xyz10.1", -1},
    {"xyz10.1", "xyz10", 1},
    {"xyz.4", "xyz.4", 0},
    {"xyz.4", "8", -1},
    {"8", "xyz.4", 1},
    {"xyz.4", "2", -1},
    {"2", "xyz.4", 1},
    {"5.5p2", "5.6p1", -1},
    {"5.6p1", "5.5p2", 1},
    {"5.6p1", "6.5p1", -1},
    {"6.5p1", "5.6p1", 1},
    {"6.0.rc1", "6.0", 1},
    {"6.0", "6.0.rc1", -1},
    {"10b2", "10a1", 1},
    {"10a2", "10b2", -1},
    {"1.0aa", "1.0aa", 0},
    {"1.0a", "1.0aa", -1},
    {"1.0aa", "1.0a", 1},
    {"10.0001", "10.0001", 0},
    {"10.0001", "10.1", 0},
    {"10.1", "10.0001", 0},
    {"10.0001", "10.0039", -1},
    {"10.0039", "10.0001", 1},
    {"4.999.9", "5.0", -1},
    {"5.0", "4.999.9", 1},
    {"20101121", "20101121", 0},
    {"20101121", "20101122", -1},
    {"20101122", "20101121", 1},
    {"2_0", "2_0", 0},
    {"2.0", "2_0", 0},
    {"2_0", "2.0", 0},
    {"a", "a", 0},
    {"a+", "a+", 0},
    {"a+", "a_", 0},
    {"a_", "a+", 0},
    {"+a", "+a", 0},
    {"+a", "_a", 0},
    {"_a", "+a", 0},
    {"+_", "+_", 0},
    {"_+", "+_", 0},
    {"_+", "_", 0},
    {"+", "_", 0},
    {"_", "+", 0},
    {"1.0~rc1", "1.0~rc1", 0},
    {"1.0~rc1", "1.0", -1},
    {"1.0", "1.0~rc1", 1},
    {"1.0~rc1", "1.0~rc2", -1},
    {"1.0~rc2", "1.0~rc1", 1},
    {"1.0~rc1~git123", "1.0~rc1~git123", 0},
    {"1.0~rc1~git123", "1.0~rc1", -1},
    {"1.0~rc1", "1.0~rc1~git123", 1},
    {"1.0^", "1.0^", 0},
    {"1.0^", "1.0", 1},
    {"1.0", "1.0^", -1},
    {"1.0^git1", "1.0^git1", 0},
    {"1.0^git1", "1.0", 1},
    {"1.0", "1.0^git1", -1},
    {"1.0^git1", "1.0^git2", -1},
    {"1.0^git2", "1.0^git1", 1},
    {"1.0^git1", "1.01", -1},
    {"1.01", "1.0^git1", 1},
    {"1.0^20160101", "1.0^20160101", 0},
    {"1.0^20160101", "1.0.1", -1},
    {"1.0.1", "1.0^20160101", 1},
    {"1.0^20160101^git1", "1.0^20160101^git1", 0},
    {"1.0^20160102", "1.0^20160101^git1", 1},
    {"1.0^20160101^git1", "1.0^20160102", -1},
    {"1.0~rc1^git1", "1.0~rc1^git1", 0},
    {"1.0~rc1^git1", "1.0~rc1", 1},
    {"1.0~rc1", "1.0~rc1^git1", -1},
    {"1.0^git1~pre", "1.0^git1~pre", 0},
    {"1.0^git1", "1.0^git1~pre", 1},
    {"1.0^git1~pre", "1.0^git1", -1},
};

} // namespace

TEST_CASE("rpm_vercmp agrees with rpm's published vectors", "[rules][version]")
{
    for (const auto& [a, b, expected] : k_rpm_vectors) {
        INFO(a << " vs " << b);
        CHECK(rpm_vercmp(a, b) == expected);
    }
}

TEST_CASE("rpm_vercmp agrees with librpm's rpmvercmp", "[rules][version]")
{
    // The real thing, linked from librpmio, on the vectors and on random strings built from the
    // characters that matter (digits, letters, separators, ~ and ^).
    for (const auto& [a, b, expected] : k_rpm_vectors) {
        INFO(a << " vs " << b);
        CHECK(rpm_vercmp(a, b) == rpmvercmp(a, b));
    }
    std::mt19937 rng(20261127);
    const std::string alphabet = "0019az.-_~^+Z";
    std::uniform_int_distribution<std::size_t> length(0, 8), pick(0, alphabet.size() - 1);
    auto random_version = [&] {
        std::string s;
        for (std::size_t n = length(rng); n > 0; --n) s += alphabet[pick(rng)];
        return s;
    };
    for (int n = 0; n < 20000; ++n) {
        const std::string a = random_version(), b = random_version();
        const int ours = rpm_vercmp(a, b);
        const int theirs = rpmvercmp(a.c_str(), b.c_str());
        if (ours != theirs) FAIL("'" << a << "' vs '" << b << "': ours " << ours << ", rpm " << theirs);
    }
}

TEST_CASE("kernel releases, firmware dates and numbers order as users expect", "[rules][version]")
{
    CHECK(evr_compare("6.18.10-200.fc43.x86_64", "6.18.4") > 0);
    CHECK(evr_compare("6.18.4-200.fc43.x86_64", "6.18.4") == 0);
    CHECK(evr_compare("6.18.3-200.fc43.x86_64", "6.18.4") < 0);
    CHECK(evr_compare("6.17.9-300.fc43", "6.17.9") == 0);
    CHECK(evr_compare("20251125", "20251111") > 0);
    CHECK(evr_compare("1:20260309-1", "20260410-1") > 0); // epoch wins
    CHECK(evr_compare("200000", "131072") > 0);
    CHECK(evr_compare("2026-01-20T09:15:00Z", "2026-01-24") < 0);
    CHECK(evr_compare("2026-01-24T10:00:00Z", "2026-01-24") > 0);
    CHECK(evr_compare("2026-02-01T00:00:00Z", "2026-01-24") > 0);
    CHECK(evr_compare("6.18-rc6.fc42.x86\\_86\\_64", "6.18.4") < 0); // junk from a README still orders
}
