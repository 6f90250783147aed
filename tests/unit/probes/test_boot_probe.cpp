// boot probe: BLS parsing and ordering, grubenv, next-boot choice, installed kernels, initramfs age
// against the firmware package (facts from the packages probe, incl. a real rpmdb), garbage.
#include "probes/boot_probe.hpp"
#include "probes/kernel_probe.hpp"
#include "probes/packages_probe.hpp"

#include "host_probe_support.hpp"

using namespace halo;
using namespace halo::probes;

namespace {

const std::string k_mid = "3f2a9c61d0b84e5f9a7c2b1e6d4f8a90";

BlsEntry entry(std::string id, std::string version, std::string sort_key = {}, std::string machine_id = {})
{
    BlsEntry e;
    e.id = std::move(id);
    e.version = std::move(version);
    e.sort_key = std::move(sort_key);
    e.machine_id = std::move(machine_id);
    e.kernel_image = "/vmlinuz";
    return e;
}

std::string grubenv_block(const std::string& body)
{
    std::string text = "# GRUB Environment Block\n" + body;
    text.resize(1024, '#');
    return text;
}

// The kernel, packages and boot probes in registry order over one Facts, as the runner does.
rules::Facts probe_boot(const std::filesystem::path& root)
{
    rules::Facts facts;
    test::run(k_kernel_probe, root, facts);
    test::run(k_packages_probe, root, facts);
    test::run(k_boot_probe, root, facts);
    return facts;
}

std::filesystem::path copy_host(const test::ScratchDir& dir, const std::string& name)
{
    auto root = dir.path() / "root";
    std::filesystem::copy(test::fixture_host(name), root,
                          std::filesystem::copy_options::recursive | std::filesystem::copy_options::copy_symlinks);
    return root;
}

} // namespace

TEST_CASE("parse_bls_entry: a Fedora 43 entry", "[probes][boot]")
{
    auto e = parse_bls_entry("title Fedora Linux (6.18.9-200.fc43.x86_64) 43 (Workstation Edition)\n"
                             "version 6.18.9-200.fc43.x86_64\n"
                             "linux /vmlinuz-6.18.9-200.fc43.x86_64\n"
                             "initrd /amd-ucode.img\n"
                             "initrd  /initramfs-6.18.9-200.fc43.x86_64.img\n"
                             "options root=UUID=5e1d ro rhgb quiet\n"
                             "# comment\n"
                             "grub_users $grub_users\n"
                             "grub_arg --unrestricted\n"
                             "grub_class fedora");
    REQUIRE(e);
    CHECK(e->title == "Fedora Linux (6.18.9-200.fc43.x86_64) 43 (Workstation Edition)");
    CHECK(e->version == "6.18.9-200.fc43.x86_64");
    CHECK(e->kernel_image == "/vmlinuz-6.18.9-200.fc43.x86_64");
    REQUIRE(e->initrd.size() == 2);
    CHECK(e->initrd[1] == "/initramfs-6.18.9-200.fc43.x86_64.img");
    CHECK(e->options == "root=UUID=5e1d ro rhgb quiet");
    CHECK_FALSE(parse_bls_entry(std::string("linux /x\0\xff", 10)));
}

TEST_CASE("sort_bls_entries: the Boot Loader Specification order", "[probes][boot]")
{
    std::vector<BlsEntry> v = {entry(k_mid + "-0-rescue", "0-rescue-" + k_mid),
                               entry(k_mid + "-6.18.9-200.fc43.x86_64", "6.18.9-200.fc43.x86_64"),
                               entry(k_mid + "-6.18.10-200.fc43.x86_64", "6.18.10-200.fc43.x86_64"),
                               entry(k_mid + "-6.18.3-200.fc43.x86_64", "6.18.3-200.fc43.x86_64")};
    sort_bls_entries(v);
    CHECK(v[0].version == "6.18.10-200.fc43.x86_64"); // version order, not string order
    CHECK(v[1].version == "6.18.9-200.fc43.x86_64");
    CHECK(v[2].version == "6.18.3-200.fc43.x86_64");
    CHECK(v[3].id == k_mid + "-0-rescue");

    // sort-key first (ascending), then machine-id (ascending), then version (descending).
    std::vector<BlsEntry> keyed = {entry("z", "1.0"), entry("b", "1.0", "fedora", "bbb"),
                                   entry("a", "2.0", "fedora", "bbb"), entry("c", "9.0", "fedora", "aaa"),
                                   entry("d", "9.0", "arch", "zzz")};
    sort_bls_entries(keyed);
    CHECK(keyed[0].id == "d");
    CHECK(keyed[1].id == "c");
    CHECK(keyed[2].id == "a");
    CHECK(keyed[3].id == "b");
    CHECK(keyed[4].id == "z"); // no sort-key: last
}

TEST_CASE("parse_grubenv and find_grub_entry", "[probes][boot]")
{
    auto env = parse_grubenv(grubenv_block("saved_entry=abc-6.18.5\nboot_success=1\n"));
    REQUIRE(env);
    CHECK_FALSE(env->truncated);
    CHECK(env->values.at("saved_entry") == "abc-6.18.5");

    auto cut = parse_grubenv("# GRUB Environment Block\nboot_success=1\nsaved_entry=abc-6.1");
    REQUIRE(cut);
    CHECK(cut->truncated);
    CHECK_FALSE(cut->values.count("saved_entry")); // GRUB ignores a line cut short
    CHECK_FALSE(parse_grubenv("saved_entry=x\n"));
    CHECK_FALSE(parse_grubenv(""));

    std::vector<BlsEntry> v = {entry("a-6.18.5", "6.18.5"), entry("a-6.18.3", "6.18.3")};
    v[1].title = "Fedora Linux (6.18.3)";
    CHECK(find_grub_entry(v, "a-6.18.3") == &v[1]);
    CHECK(find_grub_entry(v, "Fedora Linux (6.18.3)") == &v[1]);
    CHECK(find_grub_entry(v, "1") == &v[1]);
    CHECK(find_grub_entry(v, "2") == nullptr);
    CHECK(find_grub_entry(v, "nope") == nullptr);
}

TEST_CASE("boot probe on the fixture hosts", "[probes][boot]")
{
    SECTION("strix-fedora43-good: next boot = running kernel, initramfs newer than the firmware")
    {
        test::ScratchDir dir;
        test::make_fixture_root("strix-fedora43-good", dir.path() / "root");
        auto facts = probe_boot(dir.path() / "root");
        INFO(facts.probes().at("boot").reason);
        CHECK(facts.probes().at("boot").state == rules::ProbeState::ok);
        CHECK(test::fact(facts, "kernel.next_boot.release") == "6.18.9-200.fc43.x86_64");
        CHECK(test::fact(facts, "kernel.next_boot.entry") == k_mid + "-6.18.9-200.fc43.x86_64.conf");
        CHECK(test::fact(facts, "kernel.next_boot.differs") == "false");
        CHECK(test::fact(facts, "kernel.installed") == "6.18.9-200.fc43.x86_64,6.18.6-200.fc43.x86_64");
        CHECK(test::fact(facts, "boot.initramfs.mtime") == "1777161700");
        CHECK(test::fact(facts, "boot.initramfs.older_than_firmware") == "false");
    }
    SECTION("strix-fedora43-fw20251125-rocm: firmware installed after the initramfs was built")
    {
        test::ScratchDir dir;
        test::make_fixture_root("strix-fedora43-fw20251125-rocm", dir.path() / "root");
        auto facts = probe_boot(dir.path() / "root");
        CHECK(facts.probes().at("boot").state == rules::ProbeState::ok);
        CHECK(test::fact(facts, "kernel.next_boot.release") == "6.18.5-200.fc43.x86_64");
        CHECK(test::fact(facts, "kernel.next_boot.differs") == "false");
        CHECK(test::fact(facts, "boot.initramfs.older_than_firmware") == "true");
    }
    SECTION("strix-fedora43-nextboot-broken: the next boot starts 6.18.5 while 6.18.3 runs")
    {
        test::ScratchDir dir;
        test::make_fixture_root("strix-fedora43-nextboot-broken", dir.path() / "root");
        auto facts = probe_boot(dir.path() / "root");
        CHECK(facts.probes().at("boot").state == rules::ProbeState::ok);
        CHECK(test::fact(facts, "kernel.release") == "6.18.3-200.fc43.x86_64");
        CHECK(test::fact(facts, "kernel.next_boot.release") == "6.18.5-200.fc43.x86_64");
        CHECK(test::fact(facts, "kernel.next_boot.differs") == "true");
        CHECK(test::fact(facts, "boot.initramfs.older_than_firmware") == "false");
    }
    SECTION("strix-fedora43-good as committed (no rpmdb): firmware age absent, the rest known")
    {
        rules::Facts facts = probe_boot(test::fixture_host("strix-fedora43-good"));
        CHECK(test::fact(facts, "kernel.next_boot.release") == "6.18.9-200.fc43.x86_64");
        CHECK(facts.contains("boot.initramfs.mtime"));
        CHECK_FALSE(facts.contains("boot.initramfs.older_than_firmware"));
    }
    SECTION("debian12-nogpu: no BLS, installed kernels from /boot, next boot unknown")
    {
        rules::Facts facts = probe_boot(test::fixture_host("debian12-nogpu"));
        auto status = facts.probes().at("boot");
        CHECK(status.state == rules::ProbeState::partial);
        CHECK_THAT(status.reason, Catch::Contains("/boot/loader/entries"));
        CHECK(test::fact(facts, "kernel.installed") == "6.1.0-18-amd64");
        CHECK(facts.unknown_reason("kernel.next_boot.release"));
        CHECK(facts.unknown_reason("boot.initramfs.older_than_firmware"));
    }
    SECTION("minimal: not applicable")
    {
        rules::Facts facts = probe_boot(test::fixture_host("minimal"));
        CHECK(facts.probes().at("boot").state == rules::ProbeState::not_applicable);
        CHECK_FALSE(facts.contains("kernel.installed"));
    }
}

TEST_CASE("boot probe: grubenv chooses, next_entry beats saved_entry, junk is ignored with a reason", "[probes][boot]")
{
    test::ScratchDir dir;
    const auto root = copy_host(dir, "strix-fedora43-nextboot-broken");
    const auto env = root / "boot/grub2/grubenv";

    test::write_file(env, grubenv_block("saved_entry=" + k_mid + "-6.18.3-200.fc43.x86_64\n"));
    auto saved = probe_boot(root);
    CHECK(test::fact(saved, "kernel.next_boot.release") == "6.18.3-200.fc43.x86_64");
    CHECK(test::fact(saved, "kernel.next_boot.differs") == "false");

    test::write_file(
        env, grubenv_block("saved_entry=" + k_mid + "-6.18.3-200.fc43.x86_64\nnext_entry=" + k_mid + "-0-rescue\n"));
    CHECK(test::fact(probe_boot(root), "kernel.next_boot.release") == "0-rescue-" + k_mid);

    test::write_file(env, grubenv_block("saved_entry=no-such-entry\n"));
    auto missing = probe_boot(root);
    CHECK(missing.probes().at("boot").state == rules::ProbeState::partial);
    CHECK_THAT(missing.probes().at("boot").reason, Catch::Contains("no-such-entry"));
    CHECK(test::fact(missing, "kernel.next_boot.release") == "6.18.5-200.fc43.x86_64"); // GRUB's fallback: first

    SECTION("truncated grubenv: the cut saved_entry is not used")
    {
        test::write_file(env, "# GRUB Environment Block\nsaved_entry=" + k_mid + "-6.18.3-200.fc4");
        auto facts = probe_boot(root);
        CHECK(facts.probes().at("boot").state == rules::ProbeState::partial);
        CHECK_THAT(facts.probes().at("boot").reason, Catch::Contains("truncated"));
        CHECK(test::fact(facts, "kernel.next_boot.release") == "6.18.5-200.fc43.x86_64");
    }
    SECTION("binary junk grubenv")
    {
        test::write_file(env, std::string("\x7f"
                                          "ELF\0\0\xff\xfe",
                                          8));
        auto facts = probe_boot(root);
        CHECK(facts.probes().at("boot").state == rules::ProbeState::partial);
        CHECK_THAT(facts.probes().at("boot").reason, Catch::Contains("signature"));
        CHECK(test::fact(facts, "kernel.next_boot.release") == "6.18.5-200.fc43.x86_64");
    }
    SECTION("grubenv on the EFI partition (older Fedora layout)")
    {
        std::filesystem::remove(env);
        test::write_file(root / "boot/efi/EFI/fedora/grubenv",
                         grubenv_block("saved_entry=" + k_mid + "-6.18.3-200.fc43.x86_64\n"));
        CHECK(test::fact(probe_boot(root), "kernel.next_boot.release") == "6.18.3-200.fc43.x86_64");
    }
}

TEST_CASE("boot probe: broken entries are skipped with the reason", "[probes][boot]")
{
    test::ScratchDir dir;
    const auto root = copy_host(dir, "strix-fedora43-good");
    const auto entries = root / "boot/loader/entries";
    // Newer than everything, but without a kernel: must not become the next boot.
    test::write_file(entries / (k_mid + "-6.19.0-100.fc43.x86_64.conf"),
                     "title Fedora Linux (6.19.0)\nversion 6.19.0-100.fc43.x86_64\ninitrd /initramfs-6.19.0.img\n");
    test::write_file(entries / (k_mid + "-6.20.0-1.fc43.x86_64.conf"), std::string("linux /v\0\xff\xfe", 11));
    test::write_file(entries / "README", "not an entry\n");
    auto facts = probe_boot(root);
    auto status = facts.probes().at("boot");
    CHECK(status.state == rules::ProbeState::partial);
    CHECK_THAT(status.reason, Catch::Contains("6.19.0-100.fc43.x86_64.conf' has no 'linux' line"));
    CHECK_THAT(status.reason, Catch::Contains("6.20.0-1.fc43.x86_64.conf"));
    CHECK(test::fact(facts, "kernel.next_boot.release") == "6.18.9-200.fc43.x86_64");

    SECTION("only broken entries: next boot unknown, installed kernels still listed")
    {
        for (const auto& e : std::filesystem::directory_iterator(entries))
            if (e.path().string().find("-6.1") != std::string::npos &&
                e.path().string().find("6.19") == std::string::npos &&
                e.path().string().find("6.20") == std::string::npos)
                std::filesystem::remove(e.path());
        std::filesystem::remove(entries / (k_mid + "-0-rescue.conf"));
        auto only_broken = probe_boot(root);
        CHECK(only_broken.probes().at("boot").state == rules::ProbeState::partial);
        CHECK(only_broken.unknown_reason("kernel.next_boot.release"));
        CHECK(test::fact(only_broken, "kernel.installed") == "6.18.9-200.fc43.x86_64,6.18.6-200.fc43.x86_64");
    }
}

TEST_CASE("boot probe: initramfs age against already-collected firmware facts", "[probes][boot]")
{
    test::ScratchDir dir;
    const auto root = copy_host(dir, "strix-fedora43-good");
    const auto initramfs = root / "boot/initramfs-6.18.9-200.fc43.x86_64.img";
    const auto set_mtime = [&](std::int64_t unix_seconds) {
        const auto since_epoch =
            std::chrono::seconds(unix_seconds) -
            std::chrono::duration_cast<std::chrono::seconds>(
                std::chrono::file_clock::to_sys(std::filesystem::file_time_type{}).time_since_epoch());
        std::filesystem::last_write_time(initramfs, std::filesystem::file_time_type(since_epoch));
    };
    set_mtime(1768000000);
    auto run_with = [&](const std::map<std::string, std::string>& preset) {
        rules::Facts facts;
        for (auto& [k, v] : preset) facts.set(k, v, "test");
        facts.set_probe_status("packages", {});
        test::run(k_boot_probe, root, facts);
        return facts;
    };
    auto older = run_with({{"package.amd-gpu-firmware.installtime", "1768000001"}});
    CHECK(test::fact(older, "boot.initramfs.mtime") == "1768000000");
    CHECK(test::fact(older, "boot.initramfs.older_than_firmware") == "true");
    // The newest of the firmware packages counts.
    CHECK(test::fact(run_with({{"package.linux-firmware.installtime", "1767000000"},
                               {"package.amd-gpu-firmware.installtime", "1769000000"}}),
                     "boot.initramfs.older_than_firmware") == "true");
    CHECK(test::fact(run_with({{"package.firmware-amd-graphics.installtime", "1768000000"}}),
                     "boot.initramfs.older_than_firmware") == "false");

    SECTION("packages probe failed: unknown, with its reason")
    {
        rules::Facts facts;
        facts.mark_unknown("package.*", "packages: Failed to open the RPM database");
        facts.set_probe_status("packages", {rules::ProbeState::failed, "x", 0});
        test::run(k_boot_probe, root, facts);
        REQUIRE(facts.unknown_reason("boot.initramfs.older_than_firmware"));
        CHECK_THAT(*facts.unknown_reason("boot.initramfs.older_than_firmware"), Catch::Contains("RPM database"));
    }
    SECTION("initramfs missing: unknown with the reason")
    {
        for (const auto& e : std::filesystem::directory_iterator(root / "boot"))
            if (e.path().filename().string().starts_with("initramfs-6.18.9")) std::filesystem::remove(e.path());
        auto facts = run_with({});
        CHECK(facts.probes().at("boot").state == rules::ProbeState::partial);
        CHECK(facts.unknown_reason("boot.initramfs.mtime"));
    }
}

TEST_CASE("boot probe writes nothing under the root", "[probes][boot]")
{
    const auto root = test::fixture_host("strix-fedora43-nextboot-broken");
    const auto before = test::snapshot(root);
    probe_boot(root);
    CHECK(test::snapshot(root) == before);
}
