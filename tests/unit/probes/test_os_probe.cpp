// os and memory probes: os-release quoting, MemTotal, every fixture host, garbage.
#include "probes/memory_probe.hpp"
#include "probes/os_probe.hpp"

#include "host_probe_support.hpp"

using namespace halo;
using namespace halo::probes;

TEST_CASE("parse_os_release: shell quoting as os-release(5) allows", "[probes][os]")
{
    auto v = parse_os_release("NAME=\"Fedora Linux\"\n"
                              "ID=fedora\n"
                              "VERSION_CODENAME=\"\"\n"
                              "PRETTY_NAME='Debian GNU/Linux 12 (bookworm)'\n"
                              "QUOTE=\"say \\\"hi\\\" \\$HOME \\`x\\` \\\\ \\n\"\n"
                              "  # a comment\n"
                              "\n"
                              "ID_LIKE=\"rhel centos\"\r\n"
                              "not a line\n"
                              "1BAD=x\n"
                              "BAD-KEY=x\n"
                              "OPEN=\"unterminated\n"
                              "MIXED=ab\"c d\"'e f'\n"
                              "LAST=no-newline");
    REQUIRE(v);
    CHECK(v->at("NAME") == "Fedora Linux");
    CHECK(v->at("ID") == "fedora");
    CHECK(v->at("VERSION_CODENAME").empty());
    CHECK(v->at("PRETTY_NAME") == "Debian GNU/Linux 12 (bookworm)");
    CHECK(v->at("QUOTE") == "say \"hi\" $HOME `x` \\ \\n"); // only \" \\ \$ \` are escapes
    CHECK(v->at("ID_LIKE") == "rhel centos");
    CHECK(v->at("MIXED") == "abc de f");
    CHECK(v->at("LAST") == "no-newline");
    CHECK(v->count("1BAD") == 0);
    CHECK(v->count("BAD-KEY") == 0);
    CHECK(v->count("OPEN") == 0);
}

TEST_CASE("parse_os_release: binary junk is an error, not facts", "[probes][os]")
{
    const std::string junk("ID=fedora\n\0\x01\xff", 13);
    CHECK_FALSE(parse_os_release(junk));
}

TEST_CASE("os probe on the fixture hosts", "[probes][os]")
{
    SECTION("Fedora 43 (etc/os-release is a symlink into usr/lib, as on Fedora)")
    {
        rules::Facts facts;
        CHECK(test::run(k_os_probe, test::fixture_host("strix-fedora43-good"), facts).state == rules::ProbeState::ok);
        CHECK(test::fact(facts, "host.os.id") == "fedora");
        CHECK(test::fact(facts, "host.os.version_id") == "43");
        CHECK(test::fact(facts, "host.os.name") == "Fedora Linux 43 (Workstation Edition)");
        CHECK_FALSE(facts.contains("host.os.id_like")); // Fedora sets none
    }
    SECTION("Debian 12")
    {
        rules::Facts facts;
        CHECK(test::run(k_os_probe, test::fixture_host("debian12-nogpu"), facts).state == rules::ProbeState::ok);
        CHECK(test::fact(facts, "host.os.id") == "debian");
        CHECK(test::fact(facts, "host.os.version_id") == "12");
        CHECK(test::fact(facts, "host.os.name") == "Debian GNU/Linux 12 (bookworm)");
    }
    SECTION("minimal root: failed with the path, keys unknown")
    {
        rules::Facts facts;
        auto status = test::run(k_os_probe, test::fixture_host("minimal"), facts);
        CHECK(status.state == rules::ProbeState::failed);
        CHECK_THAT(status.reason, Catch::Contains("os-release"));
        CHECK(facts.unknown_reason("host.os.id"));
    }
}

TEST_CASE("os probe: fallback to /usr/lib/os-release, ID defaults to linux, junk fails", "[probes][os]")
{
    test::ScratchDir dir;
    test::write_file(dir.path() / "usr/lib/os-release", "NAME=Something\nID_LIKE=\"arch\"\n");
    rules::Facts facts;
    CHECK(test::run(k_os_probe, dir.path(), facts).state == rules::ProbeState::ok);
    CHECK(test::fact(facts, "host.os.id") == "linux");
    CHECK(test::fact(facts, "host.os.id_like") == "arch");

    test::write_file(dir.path() / "etc/os-release", std::string("\0\0\0garbage", 10));
    rules::Facts facts2;
    auto status = test::run(k_os_probe, dir.path(), facts2);
    CHECK(status.state == rules::ProbeState::failed);
    CHECK_THAT(status.reason, Catch::Contains("/etc/os-release"));
}

TEST_CASE("parse_meminfo_total", "[probes][memory]")
{
    CHECK(parse_meminfo_total("MemTotal:       131655376 kB\nMemFree: 1 kB\n").value() == 131655376ull * 1024);
    CHECK(parse_meminfo_total("MemFree: 1 kB\nMemTotal: 8 kB").value() == 8192);
    CHECK_FALSE(parse_meminfo_total("MemFree: 1 kB\n"));
    CHECK_FALSE(parse_meminfo_total("MemTotal: lots kB\n"));
    CHECK_FALSE(parse_meminfo_total("MemTotal: 12 MB\n"));
    CHECK_FALSE(parse_meminfo_total("MemTotal: 99999999999999999999999 kB\n"));
    CHECK_FALSE(parse_meminfo_total("MemTotal: 18014398509481984 kB\n")); // * 1024 overflows 64 bits
    CHECK_FALSE(parse_meminfo_total(std::string("\0\xff\x01", 3)));
}

TEST_CASE("memory probe on the fixture hosts", "[probes][memory]")
{
    rules::Facts facts;
    CHECK(test::run(k_memory_probe, test::fixture_host("strix-fedora43-good"), facts).state == rules::ProbeState::ok);
    CHECK(test::fact(facts, "host.mem.total_bytes") == "134815105024"); // 131655376 kB: a 128 GB Strix Halo
    rules::Facts deb;
    CHECK(test::run(k_memory_probe, test::fixture_host("debian12-nogpu"), deb).state == rules::ProbeState::ok);
    CHECK(test::fact(deb, "host.mem.total_bytes") == std::to_string(8148364ull * 1024));
    rules::Facts none;
    CHECK(test::run(k_memory_probe, test::fixture_host("minimal"), none).state == rules::ProbeState::failed);
    CHECK(none.unknown_reason("host.mem.total_bytes"));
}
