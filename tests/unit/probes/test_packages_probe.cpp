// packages probe: a real RPM database built with rpmbuild + rpm --root (tests/support/make_rpmdb.sh)
// queried through librpm; dpkg and pacman formats; garbage databases; nothing written under the root.
#include "probes/packages_probe.hpp"

#include "host_probe_support.hpp"

using namespace halo;
using namespace halo::probes;

namespace {

std::string make_rpmdb_script() { return std::string(HALO_SOURCE_DIR) + "/tests/support/make_rpmdb.sh"; }

void make_rpmdb(const std::filesystem::path& root, const std::string& specs)
{
    REQUIRE(test::run_script(make_rpmdb_script() + " " + test::quoted(root) + " " + specs) == 0);
}

} // namespace

TEST_CASE("split_version: Debian and pacman version strings", "[probes][packages]")
{
    auto v = split_version("1:20260309-1");
    CHECK(v.epoch == "1");
    CHECK(v.version == "20260309");
    CHECK(v.release == "1");
    CHECK(v.evr() == "1:20260309-1");
    auto d = split_version("4.3.1+ds1-8+deb12u1+b3");
    CHECK(d.epoch.empty());
    CHECK(d.version == "4.3.1+ds1");
    CHECK(d.release == "8+deb12u1+b3");
    auto native = split_version("2.13");
    CHECK(native.release.empty());
    CHECK(native.evr() == "2.13");
    auto colon = split_version("1.2:3-4"); // not a numeric epoch: part of the version
    CHECK(colon.epoch.empty());
    CHECK(colon.version == "1.2:3");
}

TEST_CASE("parse_dpkg_status: installed stanzas only, continuation lines", "[probes][packages]")
{
    const std::set<std::string> wanted = {"firmware-amd-graphics", "podman", "toolbox", "mesa-vulkan-drivers"};
    auto found = parse_dpkg_status("Package: firmware-amd-graphics\n"
                                   "Status: install ok installed\n"
                                   "Architecture: all\n"
                                   "Version: 20230210-5\n"
                                   "Description: Binary firmware\n"
                                   " Package: podman\n" // a continuation line, not a field
                                   " .\n"
                                   "\n"
                                   "Package: toolbox\n"
                                   "Status: deinstall ok config-files\n"
                                   "Version: 0.0.99.3-1\n"
                                   "\n\n"
                                   "Package: mesa-vulkan-drivers\n"
                                   "Status: install ok installed\n"
                                   "Architecture: amd64\n"
                                   "Version: 22.3.6-1+deb12u1",
                                   wanted);
    REQUIRE(found.size() == 2);
    CHECK(found.at("firmware-amd-graphics").version == "20230210");
    CHECK(found.at("firmware-amd-graphics").release == "5");
    CHECK(found.at("mesa-vulkan-drivers").evr() == "22.3.6-1+deb12u1");
    CHECK(found.at("mesa-vulkan-drivers").arch == "amd64");
    CHECK_FALSE(found.count("toolbox"));
    CHECK_FALSE(found.count("podman"));
}

TEST_CASE("parse_pacman_desc", "[probes][packages]")
{
    auto v = parse_pacman_desc("%NAME%\nlinux-firmware-amdgpu\n\n%VERSION%\n1:20260309-1\n\n%BASE%\nlinux-firmware\n\n"
                               "%ARCH%\nany\n\n%INSTALLDATE%\n1773532800\n\n");
    REQUIRE(v);
    CHECK(v->name == "linux-firmware-amdgpu");
    CHECK(v->evr() == "1:20260309-1");
    CHECK(v->installtime == 1773532800);
    CHECK_FALSE(parse_pacman_desc("%NAME%\nfoo\n"));
    CHECK_FALSE(parse_pacman_desc(std::string("\0\xff\x01garbage", 10)));
}

TEST_CASE("packages probe: a real rpmdb through librpm", "[probes][packages][rpm]")
{
    test::ScratchDir dir;
    const auto root = dir.path() / "root";
    make_rpmdb(root, "linux-firmware=20251125-1.fc43@1767571200 amd-gpu-firmware=20251125-1.fc43@1767571300 "
                     "kernel-core=6.18.5-200.fc43 kernel-core=6.18.10-200.fc43 kernel-core=6.18.3-200.fc43 "
                     "podman=5:5.7.1-1.fc43 unrelated=1-1");
    const auto before = test::snapshot(root);

    rules::Facts facts;
    auto status = test::run(k_packages_probe, root, facts);
    INFO(status.reason);
    REQUIRE(status.state == rules::ProbeState::ok);
    CHECK(test::fact(facts, "packages.manager") == "rpm");
    CHECK(test::fact(facts, "package.linux-firmware.version") == "20251125");
    CHECK(test::fact(facts, "package.linux-firmware.release") == "1.fc43");
    CHECK(test::fact(facts, "package.linux-firmware.evr") == "20251125-1.fc43");
    CHECK(test::fact(facts, "package.linux-firmware.installtime") == "1767571200");
    CHECK(test::fact(facts, "package.amd-gpu-firmware.installtime") == "1767571300");
    CHECK_FALSE(facts.contains("package.linux-firmware.epoch"));
    CHECK(test::fact(facts, "package.podman.epoch") == "5");
    CHECK(test::fact(facts, "package.podman.evr") == "5:5.7.1-1.fc43");
    // Several kernel-core versions installed: the newest in RPM order (6.18.10 > 6.18.5).
    CHECK(test::fact(facts, "package.kernel-core.version") == "6.18.10");
    // Not installed: absent, not unknown.
    CHECK_FALSE(facts.contains("package.toolbox.version"));
    CHECK_FALSE(facts.unknown_reason("package.toolbox.version"));
    CHECK_FALSE(facts.contains("package.unrelated.version")); // not asked for
    CHECK(facts.find("package.podman.evr")->source == "packages:/usr/lib/sysimage/rpm");

    // Read-only: no side file, lock or journal left under the root.
    CHECK(test::snapshot(root) == before);

    SECTION("a configurable list")
    {
        rules::Facts custom;
        REQUIRE(test::run(k_packages_probe, root, custom, {"unrelated"}).state == rules::ProbeState::ok);
        CHECK(test::fact(custom, "package.unrelated.evr") == "1-1");
        CHECK_FALSE(custom.contains("package.podman.evr"));
    }
    SECTION("librpm state does not leak: a second query of another root sees only that root")
    {
        const auto other = dir.path() / "other";
        make_rpmdb(other, "linux-firmware=20260110-1.fc43");
        rules::Facts second;
        REQUIRE(test::run(k_packages_probe, other, second).state == rules::ProbeState::ok);
        CHECK(test::fact(second, "package.linux-firmware.version") == "20260110");
        CHECK_FALSE(second.contains("package.podman.evr"));
        rules::Facts again;
        REQUIRE(test::run(k_packages_probe, root, again).state == rules::ProbeState::ok);
        CHECK(test::fact(again, "package.linux-firmware.version") == "20251125");
    }
}

TEST_CASE("packages probe: rpmdb under /var/lib/rpm (older Fedora) is found too", "[probes][packages][rpm]")
{
    test::ScratchDir dir;
    REQUIRE(test::run_script("RPMDB_DBPATH=/var/lib/rpm " + make_rpmdb_script() + " " + test::quoted(dir.path()) +
                             " linux-firmware=20251111-1.fc42") == 0);
    rules::Facts facts;
    REQUIRE(test::run(k_packages_probe, dir.path(), facts).state == rules::ProbeState::ok);
    CHECK(test::fact(facts, "package.linux-firmware.evr") == "20251111-1.fc42");
}

TEST_CASE("packages probe: garbage rpmdb is a failed status, left untouched", "[probes][packages][rpm]")
{
    test::ScratchDir dir;
    const auto db = dir.path() / "usr/lib/sysimage/rpm/rpmdb.sqlite";
    std::string garbage(64 * 1024, '\0');
    for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>((i * 7919 + 13) & 0xff);
    test::write_file(db, garbage);
    const auto before = test::snapshot(dir.path());
    rules::Facts facts;
    auto status = test::run(k_packages_probe, dir.path(), facts);
    CHECK(status.state == rules::ProbeState::failed);
    CHECK_THAT(status.reason, Catch::Contains("Failed to open the RPM database") ||
                                  Catch::Contains("Failed to query the RPM database"));
    CHECK(facts.unknown_reason("package.linux-firmware.version"));
    CHECK(test::snapshot(dir.path()) == before);

    SECTION("a zero-byte rpmdb.sqlite is not a database either")
    {
        test::write_file(db, "");
        rules::Facts empty;
        auto s = test::run(k_packages_probe, dir.path(), empty);
        // SQLite treats an empty file as an empty database: no packages table, so no packages.
        CHECK(s.state != rules::ProbeState::ok);
        CHECK(std::filesystem::file_size(db) == 0);
    }
}

TEST_CASE("query_rpmdb: a missing database is an error and is not created", "[probes][packages][rpm]")
{
    test::ScratchDir dir;
    auto r = query_rpmdb(dir.path().string(), "/usr/lib/sysimage/rpm", {"linux-firmware"});
    REQUIRE_FALSE(r);
    CHECK_THAT(r.error().message, Catch::Contains("No RPM database"));
    CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("packages probe on the fixture hosts", "[probes][packages]")
{
    SECTION("strix-fedora43-good with its rpmdb")
    {
        test::ScratchDir dir;
        test::make_fixture_root("strix-fedora43-good", dir.path() / "root");
        rules::Facts facts;
        REQUIRE(test::run(k_packages_probe, dir.path() / "root", facts).state == rules::ProbeState::ok);
        CHECK(test::fact(facts, "package.amd-gpu-firmware.evr") == "20260110-1.fc43");
        CHECK(test::fact(facts, "package.kernel-core.version") == "6.18.9");
        CHECK(test::fact(facts, "package.toolbox.version") == "0.2");
    }
    SECTION("strix-fedora43-fw20251125-rocm with its rpmdb")
    {
        test::ScratchDir dir;
        test::make_fixture_root("strix-fedora43-fw20251125-rocm", dir.path() / "root");
        rules::Facts facts;
        REQUIRE(test::run(k_packages_probe, dir.path() / "root", facts).state == rules::ProbeState::ok);
        CHECK(test::fact(facts, "package.linux-firmware.version") == "20251125");
    }
    SECTION("strix-fedora43-good as committed (no rpmdb): not applicable, nothing created")
    {
        rules::Facts facts;
        const auto before = test::snapshot(test::fixture_host("strix-fedora43-good"));
        CHECK(test::run(k_packages_probe, test::fixture_host("strix-fedora43-good"), facts).state ==
              rules::ProbeState::not_applicable);
        CHECK(test::snapshot(test::fixture_host("strix-fedora43-good")) == before);
    }
    SECTION("debian12-nogpu: dpkg")
    {
        rules::Facts facts;
        REQUIRE(test::run(k_packages_probe, test::fixture_host("debian12-nogpu"), facts).state ==
                rules::ProbeState::ok);
        CHECK(test::fact(facts, "packages.manager") == "dpkg");
        CHECK(test::fact(facts, "package.firmware-amd-graphics.evr") == "20230210-5");
        CHECK(test::fact(facts, "package.podman.version") == "4.3.1+ds1");
        CHECK_FALSE(facts.contains("package.linux-firmware.version"));
        CHECK_FALSE(facts.contains("package.firmware-amd-graphics.installtime")); // no info/*.list in the fixture
    }
    SECTION("minimal: not applicable")
    {
        rules::Facts facts;
        CHECK(test::run(k_packages_probe, test::fixture_host("minimal"), facts).state ==
              rules::ProbeState::not_applicable);
        CHECK_FALSE(facts.contains("packages.manager"));
    }
}

TEST_CASE("packages probe: dpkg install time from info/*.list, junk status", "[probes][packages]")
{
    test::ScratchDir dir;
    std::filesystem::copy(test::fixture_host("debian12-nogpu"), dir.path(), std::filesystem::copy_options::recursive);
    const auto list = dir.path() / "var/lib/dpkg/info/mesa-vulkan-drivers:amd64.list";
    test::write_file(list, "/.\n/usr\n");
    std::filesystem::last_write_time(list, std::filesystem::file_time_type::clock::now()); // something real
    test::write_file(dir.path() / "var/lib/dpkg/info/firmware-amd-graphics.list", "/.\n");
    rules::Facts facts;
    REQUIRE(test::run(k_packages_probe, dir.path(), facts).state == rules::ProbeState::ok);
    CHECK(facts.contains("package.mesa-vulkan-drivers.installtime"));
    CHECK(facts.contains("package.firmware-amd-graphics.installtime"));

    test::write_file(dir.path() / "var/lib/dpkg/status", std::string("Package: x\0\xff\xfe", 13));
    rules::Facts junk;
    auto status = test::run(k_packages_probe, dir.path(), junk);
    CHECK(status.state == rules::ProbeState::failed);
    CHECK_THAT(status.reason, Catch::Contains("/var/lib/dpkg/status"));
}

TEST_CASE("packages probe: pacman local database", "[probes][packages]")
{
    test::ScratchDir dir;
    test::write_file(dir.path() / "var/lib/pacman/local/linux-firmware-amdgpu-1:20260309-1/desc",
                     "%NAME%\nlinux-firmware-amdgpu\n\n%VERSION%\n1:20260309-1\n\n%INSTALLDATE%\n1773532800\n\n");
    test::write_file(dir.path() / "var/lib/pacman/local/mesa-1:26.0.1-1/desc",
                     "%NAME%\nmesa\n\n%VERSION%\n1:26.0.1-1\n");
    test::write_file(dir.path() / "var/lib/pacman/local/podman-5.6.2-1/desc", std::string("\0\0\xff", 3));
    test::write_file(dir.path() / "var/lib/pacman/local/ALPM_DB_VERSION", "9\n");
    rules::Facts facts;
    auto status = test::run(k_packages_probe, dir.path(), facts);
    CHECK(status.state == rules::ProbeState::partial); // podman's desc is junk
    CHECK_THAT(status.reason, Catch::Contains("podman-5.6.2-1/desc"));
    CHECK(test::fact(facts, "packages.manager") == "pacman");
    CHECK(test::fact(facts, "package.linux-firmware-amdgpu.epoch") == "1");
    CHECK(test::fact(facts, "package.linux-firmware-amdgpu.evr") == "1:20260309-1");
    CHECK(test::fact(facts, "package.linux-firmware-amdgpu.installtime") == "1773532800");
    CHECK_FALSE(facts.contains("package.mesa.version")); // not in the default list
}
