// Watchers against real changes: an RPM installed into a real rpmdb, a BLS entry, a podman
// container created in real vfs storage, directories that appear later. Waits are bounded; the
// assertions are on what arrives, never on how fast.

#include "daemon/checkd/watchers.hpp"
#include "watch_test_support.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

using namespace halo;
using checkd::CategorySet;
using checkd::WatchBatch;
using checkd::WatchCategory;
using checkd::Watchers;
namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t k_quiet = 300'000;

std::string sh_quote(const std::string& s) { return "'" + s + "'"; }

int run(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()); }

std::string support(const std::string& script) { return std::string(HALO_SOURCE_DIR) + "/tests/support/" + script; }

CategorySet only(WatchCategory c)
{
    CategorySet s;
    s.add(c);
    return s;
}

struct Fixture {
    test::TempDir dir;
    fs::path root = dir.path() / "root";
    std::vector<WatchBatch> batches;
    checkd::WatchOptions options{k_quiet, 1'000'000};

    Fixture() { fs::create_directories(root); }

    probes::Host host() const
    {
        probes::Host h(root);
        h.set_env("HOME", "/home/user");
        return h;
    }
    Watchers::Callback callback()
    {
        return [this](const WatchBatch& b) { batches.push_back(b); };
    }
    // Runs `cmd` on a thread while the loop runs; then waits for the batches to settle: until
    // the command is done and `want` batches came, plus two quiet periods for stragglers.
    void while_running(test::EventLoop& loop, const std::string& cmd, std::size_t want, int expect_rc = 0)
    {
        std::atomic<bool> done{false};
        int rc = -1;
        std::thread t([&] {
            rc = run(cmd);
            done = true;
        });
        loop.run_until([&] { return done.load() && batches.size() >= want; }, 20'000'000);
        t.join();
        REQUIRE(rc == expect_rc);
        loop.run_for(2 * k_quiet);
    }
};

} // namespace

TEST_CASE("watchers: real rpm install, BLS entry, podman create, late directories", "[daemon][watchers]")
{
    Fixture f;
    const std::string root = f.root.string();
    // A Fedora-like root: a real rpmdb, a BLS entries dir, podman vfs storage with one image.
    REQUIRE(run(support("make_rpmdb.sh") + " " + sh_quote(root) + " linux-firmware=20251111-1.fc43") == 0);
    const std::string rpm_file = (f.dir.path() / "linux-firmware-20251125-1.fc43.noarch.rpm").string();
    REQUIRE(run(support("make_rpm.sh") + " " + sh_quote(f.dir.str()) + " linux-firmware 20251125 1.fc43") == 0);
    fs::create_directories(f.root / "boot/loader/entries");
    test::write_text(f.root / "boot/loader/entries/aaaa-6.18.3-200.fc43.x86_64.conf",
                     "title Fedora\nversion 6.18.3-200.fc43.x86_64\n");
    const std::string podman = "podman --root " + sh_quote(root + "/var/lib/containers/storage") + " --runroot " +
                               sh_quote(f.dir.str() + "/run") + " --storage-driver vfs";
    fs::create_directories(f.dir.path() / "rootfs");
    test::write_text(f.dir.path() / "rootfs/hello", "hi\n");
    REQUIRE(run("tar -C " + sh_quote(f.dir.str() + "/rootfs") + " -cf " + sh_quote(f.dir.str() + "/rootfs.tar") +
                " .") == 0);
    REQUIRE(run(podman + " import " + sh_quote(f.dir.str() + "/rootfs.tar") +
                " docker.io/kyuz0/amd-strix-halo-toolboxes:rocm-7.2") == 0);

    test::EventLoop loop;
    Watchers w(f.host(), Watchers::default_paths(f.host()), f.callback(), f.options);
    REQUIRE(w.attach(loop.e).ok());
    CHECK(w.errors().empty());
    const auto paths = Watchers::default_paths(f.host());
    auto watched_for = [&](const std::string& p) {
        const auto dirs = w.watched_dirs();
        for (std::size_t i = 0; i < paths.size(); ++i)
            if (paths[i].path == p) return dirs[i];
        return std::string("(not a default path)");
    };
    CHECK(watched_for("/usr/lib/sysimage/rpm/rpmdb.sqlite") == "/usr/lib/sysimage/rpm");
    CHECK(watched_for("/boot/loader/entries") == "/boot/loader/entries");
    CHECK(watched_for("/dev/dri") == "/"); // nothing of /dev exists yet

    loop.run_for(3 * k_quiet);
    REQUIRE(f.batches.empty()); // arming reports nothing

    const std::string rpm = "rpm --root " + sh_quote(root) + " --dbpath /usr/lib/sysimage/rpm";
    SECTION("reading the rpmdb, as our own re-probe does, is not a change")
    {
        f.while_running(loop, rpm + " -qa", 0);
        CHECK(f.batches.empty());
    }
    SECTION("rpm -U: many writes, one packages batch")
    {
        f.while_running(loop, rpm + " -U --justdb --nodeps --noscripts " + sh_quote(rpm_file), 1);
        REQUIRE(f.batches.size() == 1);
        CHECK(f.batches[0].categories == only(WatchCategory::packages));
        CHECK_FALSE(f.batches[0].paths.empty());
        CHECK(f.batches[0].paths == std::vector<std::string>{"/usr/lib/sysimage/rpm/rpmdb.sqlite"});
        // The install happened for real.
        REQUIRE(run(rpm + " -q linux-firmware-20251125-1.fc43") == 0);
    }
    SECTION("a new BLS entry: one boot batch; an editor's swap file is not one")
    {
        f.while_running(loop, "touch " + sh_quote(root + "/boot/loader/entries/.aaaa.conf.swp"), 0);
        CHECK(f.batches.empty());
        f.while_running(loop,
                        "printf 'title Fedora\\nversion 6.18.5-200.fc43.x86_64\\n' > " +
                            sh_quote(root + "/boot/loader/entries/aaaa-6.18.5-200.fc43.x86_64.conf"),
                        1);
        REQUIRE(f.batches.size() == 1);
        CHECK(f.batches[0].categories == only(WatchCategory::boot));
        CHECK(f.batches[0].paths == std::vector<std::string>{"/boot/loader/entries/aaaa-6.18.5-200.fc43.x86_64.conf"});
    }
    SECTION("podman create in real storage: one containers batch")
    {
        f.while_running(
            loop, podman + " create --name llama-rocm-7.2 docker.io/kyuz0/amd-strix-halo-toolboxes:rocm-7.2 /bin/true",
            1);
        REQUIRE(f.batches.size() == 1);
        CHECK(f.batches[0].categories == only(WatchCategory::containers));
        CHECK(std::find(f.batches[0].paths.begin(), f.batches[0].paths.end(),
                        "/var/lib/containers/storage/vfs-containers/containers.json") != f.batches[0].paths.end());
    }
    SECTION("directories that appear later are picked up")
    {
        // /dev/dri/renderD128 appears with all its parents at once.
        f.while_running(
            loop, "mkdir -p " + sh_quote(root + "/dev/dri") + " && touch " + sh_quote(root + "/dev/dri/renderD128"), 1);
        REQUIRE(f.batches.size() == 1);
        CHECK(f.batches[0].categories == only(WatchCategory::devices));
        CHECK(watched_for("/dev/dri") == "/dev/dri");
        // Now armed inside: a second node is noticed, a non-render node is not.
        f.batches.clear();
        f.while_running(loop, "touch " + sh_quote(root + "/dev/dri/card0"), 0);
        CHECK(f.batches.empty());
        f.while_running(loop, "touch " + sh_quote(root + "/dev/dri/renderD129"), 1);
        REQUIRE(f.batches.size() == 1);
        CHECK(f.batches[0].paths == std::vector<std::string>{"/dev/dri/renderD129"});

        // A user rules dir made later (mkdir -p of several levels), then a rules file in it.
        f.batches.clear();
        f.while_running(loop, "mkdir -p " + sh_quote(root + "/home/user/.config/halo-check/rules.d"), 1);
        REQUIRE(f.batches.size() == 1);
        CHECK(f.batches[0].categories == only(WatchCategory::rules));
        f.batches.clear();
        f.while_running(loop, "echo '# local' > " + sh_quote(root + "/home/user/.config/halo-check/rules.d/local.toml"),
                        1);
        REQUIRE(f.batches.size() == 1);
        CHECK(f.batches[0].paths == std::vector<std::string>{"/home/user/.config/halo-check/rules.d/local.toml"});

        // The watched directory is removed and made again: still watched.
        f.batches.clear();
        f.while_running(loop, "rm -rf " + sh_quote(root + "/boot/loader/entries"), 1);
        REQUIRE(f.batches.size() == 1);
        f.batches.clear();
        f.while_running(loop,
                        "mkdir -p " + sh_quote(root + "/boot/loader/entries") + " && touch " +
                            sh_quote(root + "/boot/loader/entries/b.conf"),
                        1);
        REQUIRE(f.batches.size() == 1);
        CHECK(f.batches[0].categories == only(WatchCategory::boot));
        CHECK(watched_for("/boot/loader/entries") == "/boot/loader/entries");
    }
    CHECK(w.errors().empty());
}

TEST_CASE("watchers: an endless stream still triggers at the max delay, categories merge", "[daemon][watchers]")
{
    Fixture f;
    fs::create_directories(f.root / "etc/halo-check");
    fs::create_directories(f.root / "var/lib/dpkg");
    test::EventLoop loop;
    std::vector<checkd::WatchPath> paths = {
        {"/etc/halo-check/config.toml", WatchCategory::config, checkd::WatchTrigger::content, {}},
        {"/var/lib/dpkg/status", WatchCategory::packages, checkd::WatchTrigger::content, {}},
    };
    Watchers w(f.host(), paths, f.callback(), f.options);
    REQUIRE(w.attach(loop.e).ok());
    // dpkg's way: write status-new, rename over status. Together with a config edit: one batch.
    f.while_running(loop,
                    "cd " + sh_quote(f.root.string()) +
                        " && echo a > var/lib/dpkg/status-new && mv var/lib/dpkg/status-new var/lib/dpkg/status"
                        " && echo x > etc/halo-check/config.toml",
                    1);
    REQUIRE(f.batches.size() == 1);
    CHECK(f.batches[0].categories.str() == "config,packages");
    CHECK(f.batches[0].categories.size() == 2);

    // A write every 50 ms for 3 s never leaves a quiet period; max delay 1 s still delivers.
    f.batches.clear();
    f.while_running(loop,
                    "for i in $(seq 60); do echo $i > " + sh_quote(f.root.string() + "/etc/halo-check/config.toml") +
                        "; sleep 0.05; done",
                    2);
    CHECK(f.batches.size() >= 2);
    for (const auto& b : f.batches) CHECK(b.categories == only(WatchCategory::config));
}

TEST_CASE("watchers: default paths and bad roots", "[daemon][watchers]")
{
    probes::Host h("/nonexistent-root-for-halo-tests");
    h.set_env("HOME", "/home/u");
    const auto paths = Watchers::default_paths(h);
    auto has = [&](const std::string& p, WatchCategory c) {
        return std::any_of(paths.begin(), paths.end(), [&](const auto& w) { return w.path == p && w.category == c; });
    };
    CHECK(has("/usr/lib/sysimage/rpm/rpmdb.sqlite", WatchCategory::packages));
    CHECK(has("/var/lib/dpkg/status", WatchCategory::packages));
    CHECK(has("/var/lib/pacman/local", WatchCategory::packages));
    CHECK(has("/boot/loader/entries", WatchCategory::boot));
    CHECK(has("/usr/lib/modules", WatchCategory::boot));
    CHECK(has("/dev/kfd", WatchCategory::devices));
    CHECK(has("/var/lib/containers/storage/overlay-containers/containers.json", WatchCategory::containers));
    CHECK(has("/home/u/.local/share/containers/storage/overlay-images/images.json", WatchCategory::containers));
    CHECK(has("/home/u/.config/halo-check/rules.d", WatchCategory::rules));
    CHECK(has("/etc/halo-check/config.toml", WatchCategory::config));

    // A root that does not exist: every watch fails with a reason, nothing crashes.
    test::EventLoop loop;
    std::vector<WatchBatch> batches;
    Watchers w(h, paths, [&](const WatchBatch& b) { batches.push_back(b); });
    REQUIRE(w.attach(loop.e).ok());
    CHECK_FALSE(w.errors().empty());
    CHECK_THAT(w.errors()[0], Catch::Contains("/nonexistent-root-for-halo-tests"));
    loop.run_for(100'000);
    CHECK(batches.empty());
}

TEST_CASE("watchers: a directory made while its watch is being armed is watched inside", "[daemon][watchers]")
{
    // `halo-check update` makes <state>/feed with its parents in microseconds. A directory made
    // between the walk that chose what to watch and the watch itself sends its creation event
    // to nobody; the files written in it later must still be noticed. The arm hook makes it in
    // exactly that gap.
    test::TempDir dir;
    const fs::path target = dir.path() / "state" / "feed";
    std::vector<WatchBatch> batches;
    test::EventLoop loop;
    Watchers w(probes::Host("/"),
               {{target.string(), WatchCategory::knowledge, checkd::WatchTrigger::content, "current"}},
               [&](const WatchBatch& b) { batches.push_back(b); }, {1'000, 100'000});
    std::vector<std::string> armed;
    std::string made_in; // the directory whose watch the hook races
    SECTION("the target made while its parent's watch is added")
    {
        fs::create_directories(target.parent_path());
        made_in = target.parent_path().string();
    }
    SECTION("the target and its parent made while the grandparent's watch is added") { made_in = dir.str(); }
    w.set_arm_hook([&](const std::string& d) {
        armed.push_back(d);
        if (armed.size() == 1) {
            REQUIRE(d == made_in);
            fs::create_directories(target);
        }
    });
    REQUIRE(w.attach(loop.e).ok());
    CHECK(w.watched_dirs() == std::vector<std::string>{target.string()});
    CHECK(armed == std::vector<std::string>{made_in, target.string()});
    // Its appearance is a change.
    REQUIRE(loop.run_until([&] { return !batches.empty(); }, 2'000'000));
    CHECK(batches[0].paths == std::vector<std::string>{target.string()});

    batches.clear();
    test::write_text(target / "current.tmp", "6\n");
    fs::rename(target / "current.tmp", target / "current");
    REQUIRE(loop.run_until([&] { return !batches.empty(); }, 2'000'000));
    CHECK(batches[0].categories == only(WatchCategory::knowledge));
    CHECK(batches[0].paths == std::vector<std::string>{(target / "current").string()});
    CHECK(w.errors().empty());
}
