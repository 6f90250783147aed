#include "daemon/export_npd.hpp"

#include "export_fixture.hpp"

#include <catch2/catch.hpp>

using namespace halo;
using namespace halo::app;

TEST_CASE("npd: BROKEN is a problem (1), never 2, which node-problem-detector reads as unknown", "[daemon][export]")
{
    const test::ExportFixture f;
    const NpdResult r = format_npd(f.now, rules::FailOn::warning, false);
    CHECK(r.exit_code == 1);
    CHECK(r.message == "BROKEN: firmware.linux-firmware-20251125-rocm (+1 more)");
    CHECK(format_npd(f.now, rules::FailOn::broken, false).exit_code == 1);
}

TEST_CASE("npd: exit code per verdict and --fail-on", "[daemon][export]")
{
    rules::Report r;
    r.verdict = rules::Verdict::ok;
    CHECK(format_npd(r, rules::FailOn::warning, false).exit_code == 0);
    CHECK(format_npd(r, rules::FailOn::warning, false).message == "OK");
    r.verdict = rules::Verdict::warning;
    CHECK(format_npd(r, rules::FailOn::warning, false).exit_code == 1);
    CHECK(format_npd(r, rules::FailOn::broken, false).exit_code == 0);
    r.verdict = rules::Verdict::unknown;
    CHECK(format_npd(r, rules::FailOn::warning, false).exit_code == 3);
    CHECK(format_npd(r, rules::FailOn::broken, false).exit_code == 3);
    r.verdict = rules::Verdict::ok;
    CHECK(format_npd(r, rules::FailOn::warning, true).message == "OK after reboot");
}

TEST_CASE("npd: the message is one line of at most 80 bytes, cut on a UTF-8 boundary", "[daemon][export]")
{
    rules::Rule longest;
    longest.id = std::string(70, 'x') + "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\nrest";
    longest.severity = rules::Severity::broken;
    rules::Report r;
    r.verdict = rules::Verdict::broken;
    r.findings.push_back({&longest, {}});
    const NpdResult n = format_npd(r, rules::FailOn::warning, false);
    CHECK(n.message.size() <= k_npd_message_bytes);
    CHECK(n.message.size() >= k_npd_message_bytes - 1);
    CHECK(n.message.find('\n') == std::string::npos);
    // The last byte is not the first half of "é".
    CHECK(static_cast<unsigned char>(n.message.back()) != 0xc3);
}

TEST_CASE("npd: an undecided rule is named when nothing matched", "[daemon][export]")
{
    const test::ExportFixture f;
    rules::Report r;
    r.verdict = rules::Verdict::unknown;
    r.undecided = f.now.undecided;
    const NpdResult n = format_npd(r, rules::FailOn::warning, false);
    CHECK(n.exit_code == 3);
    CHECK(n.message == "UNKNOWN: rocm.user-in-render-group undecided");
}
