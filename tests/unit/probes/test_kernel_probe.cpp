// kernel probe: command line parsing as the kernel does it, taint decoding, every fixture host,
// junk in every source.
#include "probes/kernel_probe.hpp"

#include "host_probe_support.hpp"

#include <sys/utsname.h>

using namespace halo;
using namespace halo::probes;

namespace {

std::map<std::string, std::string> last_wins(const std::vector<CmdlineParam>& params)
{
    std::map<std::string, std::string> out;
    for (const auto& p : params) out[p.name] = p.value;
    return out;
}

} // namespace

TEST_CASE("parse_cmdline: a Fedora BLS command line", "[probes][kernel]")
{
    auto params = parse_cmdline("BOOT_IMAGE=(hd0,gpt2)/vmlinuz-6.18.9-200.fc43.x86_64 root=UUID=5e1d7c3a-2b9f "
                                "ro rootflags=subvol=root rhgb quiet amd_iommu=off amdgpu.gttsize=126976 "
                                "ttm.pages_limit=32505856\n");
    REQUIRE(params);
    REQUIRE(params->size() == 9);
    CHECK((*params)[0].name == "BOOT_IMAGE");
    CHECK((*params)[0].value == "(hd0,gpt2)/vmlinuz-6.18.9-200.fc43.x86_64");
    CHECK((*params)[1].value == "UUID=5e1d7c3a-2b9f"); // only the first '=' splits
    CHECK((*params)[2].name == "ro");
    CHECK((*params)[2].value == "true");
    CHECK((*params)[7].name == "amdgpu.gttsize");
    CHECK((*params)[7].value == "126976");
    CHECK((*params)[8].name == "ttm.pages_limit");
}

TEST_CASE("parse_cmdline: quoting, repeats, dashes, init arguments", "[probes][kernel]")
{
    auto params = parse_cmdline("  foo=\"a b  c\" \"bar=x y\" \"flag with space\" dyndbg=\"file x.c +p\"\t"
                                "amdgpu.gttsize=1 amdgpu.gttsize=126976 amd-iommu=off open=\"never closed here");
    REQUIRE(params);
    auto m = last_wins(*params);
    CHECK(m.at("foo") == "a b  c");
    CHECK(m.at("bar") == "x y");
    CHECK(m.at("flag with space") == "true");
    CHECK(m.at("dyndbg") == "file x.c +p");
    CHECK(m.at("amdgpu.gttsize") == "126976"); // repeated: last wins
    CHECK(m.at("amd_iommu") == "off");         // the kernel reads '-' as '_' in names
    CHECK(m.at("open") == "never closed here");

    auto init = parse_cmdline("quiet -- single rw=1");
    REQUIRE(init);
    CHECK(init->size() == 1); // after "--" the words belong to init

    auto empty = parse_cmdline("   \n");
    REQUIRE(empty);
    CHECK(empty->empty());
    auto odd = parse_cmdline("=x = a==b");
    REQUIRE(odd);
    CHECK(last_wins(*odd).at("a") == "=b");
}

TEST_CASE("parse_cmdline: binary junk is an error with the offset", "[probes][kernel]")
{
    auto r = parse_cmdline(std::string_view("quiet\0\x01\x02root=x", 14));
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("0x00") && Catch::Contains("offset 5"));
    CHECK_FALSE(parse_cmdline("quiet\x1b[31m"));
    CHECK_FALSE(parse_cmdline("a\x7f"));
}

TEST_CASE("parse_tainted", "[probes][kernel]")
{
    CHECK(parse_tainted("0\n").value().flags.empty());
    auto oe = parse_tainted("12288\n");
    REQUIRE(oe);
    CHECK(oe->value == 12288);
    CHECK(oe->flags == "OE");
    CHECK(parse_tainted("1").value().flags == "P");
    CHECK(parse_tainted("512").value().flags == "W");
    CHECK(parse_tainted(std::to_string((1ull << 19) | (1ull << 40))).value().flags == "J?");
    CHECK_FALSE(parse_tainted(""));
    CHECK_FALSE(parse_tainted("-1"));
    CHECK_FALSE(parse_tainted("12x"));
    CHECK_FALSE(parse_tainted("99999999999999999999999"));
}

TEST_CASE("kernel probe on the fixture hosts", "[probes][kernel]")
{
    SECTION("strix-fedora43-good")
    {
        rules::Facts facts;
        CHECK(test::run(k_kernel_probe, test::fixture_host("strix-fedora43-good"), facts).state ==
              rules::ProbeState::ok);
        CHECK(test::fact(facts, "kernel.release") == "6.18.9-200.fc43.x86_64");
        CHECK(test::fact(facts, "kernel.cmdline.ttm.pages_limit") == "32505856");
        CHECK(test::fact(facts, "kernel.cmdline.amdgpu.gttsize") == "126976");
        CHECK(test::fact(facts, "kernel.cmdline.amd_iommu") == "off");
        CHECK(test::fact(facts, "kernel.cmdline.rhgb") == "true");
        CHECK(test::fact(facts, "kernel.cmdline")
                  .starts_with("BOOT_IMAGE=(hd0,gpt2)/vmlinuz-6.18.9-200.fc43.x86_64 root="));
        CHECK(test::fact(facts, "kernel.tainted") == "0");
        CHECK(test::fact(facts, "kernel.tainted.flags").empty());
        CHECK(facts.find("kernel.release")->source == "kernel:/proc/sys/kernel/osrelease");
    }
    SECTION("strix-fedora43-fw20251125-rocm: iommu=pt era")
    {
        rules::Facts facts;
        CHECK(test::run(k_kernel_probe, test::fixture_host("strix-fedora43-fw20251125-rocm"), facts).state ==
              rules::ProbeState::ok);
        CHECK(test::fact(facts, "kernel.release") == "6.18.5-200.fc43.x86_64");
        CHECK(test::fact(facts, "kernel.cmdline.iommu") == "pt");
        CHECK_FALSE(facts.contains("kernel.cmdline.amd_iommu"));
    }
    SECTION("strix-fedora43-nextboot-broken: tainted by an out-of-tree unsigned module")
    {
        rules::Facts facts;
        CHECK(test::run(k_kernel_probe, test::fixture_host("strix-fedora43-nextboot-broken"), facts).state ==
              rules::ProbeState::ok);
        CHECK(test::fact(facts, "kernel.release") == "6.18.3-200.fc43.x86_64");
        CHECK(test::fact(facts, "kernel.tainted") == "12288");
        CHECK(test::fact(facts, "kernel.tainted.flags") == "OE");
    }
    SECTION("debian12-nogpu")
    {
        rules::Facts facts;
        CHECK(test::run(k_kernel_probe, test::fixture_host("debian12-nogpu"), facts).state == rules::ProbeState::ok);
        CHECK(test::fact(facts, "kernel.release") == "6.1.0-18-amd64");
        CHECK(test::fact(facts, "kernel.cmdline.BOOT_IMAGE") == "/boot/vmlinuz-6.1.0-18-amd64");
        CHECK_FALSE(facts.contains("kernel.cmdline.amdgpu.gttsize"));
    }
    SECTION("minimal: failed, every key unknown")
    {
        rules::Facts facts;
        auto status = test::run(k_kernel_probe, test::fixture_host("minimal"), facts);
        CHECK(status.state == rules::ProbeState::failed);
        CHECK_THAT(status.reason, Catch::Contains("/proc/cmdline"));
        CHECK(facts.unknown_reason("kernel.release"));
        CHECK(facts.unknown_reason("kernel.cmdline.amdgpu.gttsize"));
    }
}

TEST_CASE("kernel probe: junk /proc/cmdline is a partial status, the rest still read", "[probes][kernel]")
{
    test::ScratchDir dir;
    std::filesystem::copy(test::fixture_host("strix-fedora43-good"), dir.path(),
                          std::filesystem::copy_options::recursive);
    test::write_file(dir.path() / "proc/cmdline", std::string("BOOT_IMAGE=\0\xff\xfe\x01 junk", 16));
    test::write_file(dir.path() / "proc/sys/kernel/tainted", "lots\n");
    rules::Facts facts;
    auto status = test::run(k_kernel_probe, dir.path(), facts);
    CHECK(status.state == rules::ProbeState::partial);
    CHECK_THAT(status.reason, Catch::Contains("Failed to parse '/proc/cmdline'") &&
                                  Catch::Contains("Failed to parse '/proc/sys/kernel/tainted'"));
    CHECK(test::fact(facts, "kernel.release") == "6.18.9-200.fc43.x86_64");
    CHECK_FALSE(facts.contains("kernel.cmdline"));
    CHECK(facts.unknown_reason("kernel.cmdline.ttm.pages_limit"));
    CHECK(facts.unknown_reason("kernel.tainted"));

    // Hostile size: larger than any real command line.
    test::write_file(dir.path() / "proc/cmdline", std::string(1 << 20, 'a'));
    rules::Facts big;
    CHECK(test::run(k_kernel_probe, dir.path(), big).state == rules::ProbeState::partial);
    CHECK(big.unknown_reason("kernel.cmdline"));
}

TEST_CASE("kernel probe on the live host uses uname()", "[probes][kernel]")
{
    struct utsname u {};
    REQUIRE(::uname(&u) == 0);
    rules::Facts facts;
    auto status = test::run(k_kernel_probe, "/", facts);
    CHECK(status.state != rules::ProbeState::failed);
    CHECK(test::fact(facts, "kernel.release") == u.release);
    CHECK(facts.find("kernel.release")->source == "kernel:uname(2)");
}
