#include "daemon/atomic_file.hpp"
#include "daemon/last_known_good.hpp"
#include "tests/unit/support/temp_dir.hpp"

#include "rules/facts_io.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sys/stat.h>
#include <unistd.h>

using namespace halo::app;
namespace fs = std::filesystem;

namespace {

// A fresh directory removed at the end of the test.
using halo::test::TempDir;

halo::rules::Facts sample()
{
    halo::rules::Facts facts;
    facts.set("kernel.release", "6.18.3-200.fc43.x86_64", "kernel:/proc/sys/kernel/osrelease");
    facts.set("package.linux-firmware.version", "20251111", "packages:rpmdb");
    facts.set_probe_status("kernel", {halo::rules::ProbeState::ok, "", 0.4});
    facts.snapshot.taken = "2026-01-12T09:00:00Z";
    return facts;
}

std::string read(const fs::path& p)
{
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), {}};
}

} // namespace

TEST_CASE("last known good: stored and loaded back with the time recorded", "[daemon][last_known_good]")
{
    TempDir dir;
    const fs::path state = dir.path / "state" / "halo-check";             // created on demand
    const auto when = std::chrono::system_clock::from_time_t(1768208043); // 2026-01-12T08:54:03Z
    REQUIRE(store_last_known_good(state, sample(), when).ok());

    auto good = load_last_known_good(state);
    REQUIRE(good.ok());
    CHECK(good->recorded == "2026-01-12T08:54:03Z");
    CHECK(good->path == last_known_good_path(state));
    CHECK(good->facts.get("kernel.release") == std::optional<std::string>("6.18.3-200.fc43.x86_64"));
    CHECK(good->facts.find("kernel.release")->source == "kernel:/proc/sys/kernel/osrelease");
    CHECK(good->facts.snapshot.taken == "2026-01-12T09:00:00Z");

    // It stays an ordinary facts file: check --facts and diff read it as is.
    auto plain = halo::rules::load_facts_file(last_known_good_path(state).string());
    REQUIRE(plain.ok());
    CHECK(plain->size() == 2);

    struct stat st {};
    REQUIRE(::stat(last_known_good_path(state).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600); // facts name the user's model paths and hosts
}

TEST_CASE("last known good: a second store replaces the first and leaves no temporary file",
          "[daemon][last_known_good]")
{
    TempDir dir;
    REQUIRE(store_last_known_good(dir.path, sample()).ok());
    auto newer = sample();
    newer.set("kernel.release", "6.18.9-200.fc43.x86_64");
    REQUIRE(store_last_known_good(dir.path, newer).ok());
    auto good = load_last_known_good(dir.path);
    REQUIRE(good.ok());
    CHECK(good->facts.get("kernel.release") == std::optional<std::string>("6.18.9-200.fc43.x86_64"));
    std::size_t files = 0;
    for (const auto& entry : fs::directory_iterator(dir.path)) {
        ++files;
        CHECK(entry.path().filename() == "last-known-good.toml");
    }
    CHECK(files == 1);
}

TEST_CASE("last known good: missing, corrupt and truncated files are errors naming the path",
          "[daemon][last_known_good]")
{
    TempDir dir;
    auto missing = load_last_known_good(dir.path);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().errno_value == ENOENT);
    CHECK_THAT(missing.error().message, Catch::Contains(last_known_good_path(dir.path).string()) &&
                                            Catch::Contains("No last known good facts recorded yet"));

    for (const std::string& garbage :
         {std::string("\x7f"
                      "ELF\x02\x01\x01\0\0\0",
                      10),
          std::string("[facts]\n\"kernel.release\" = \"6.18"), std::string("not toml at all = = ="), std::string()}) {
        {
            std::ofstream out(last_known_good_path(dir.path), std::ios::binary | std::ios::trunc);
            out << garbage;
        }
        auto bad = load_last_known_good(dir.path);
        REQUIRE_FALSE(bad.ok());
        CHECK_THAT(bad.error().message,
                   Catch::StartsWith(last_known_good_path(dir.path).string()) && Catch::Contains("delete it"));
    }
}

TEST_CASE("last known good: a file without the header line takes its time from the mtime", "[daemon][last_known_good]")
{
    TempDir dir;
    {
        std::ofstream out(last_known_good_path(dir.path));
        out << "[facts]\n\"kernel.release\" = \"6.18.9-200.fc43.x86_64\"\n";
    }
    auto good = load_last_known_good(dir.path);
    REQUIRE(good.ok());
    CHECK(good->recorded.size() == 20); // YYYY-MM-DDTHH:MM:SSZ
    CHECK(good->recorded.back() == 'Z');
}

TEST_CASE("atomic write: an unwritable directory is an error naming it, and the old file survives",
          "[daemon][last_known_good]")
{
    if (::geteuid() == 0) {
        // root writes through permissions: check the other failure instead, a directory in the way.
        TempDir dir;
        fs::create_directories(dir.path / "target.toml");
        auto r = write_file_atomically(dir.path / "target.toml", "x");
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.error().message, Catch::Contains("target.toml"));
        CHECK(fs::is_directory(dir.path / "target.toml"));
        std::size_t files = 0;
        for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path)) ++files;
        CHECK(files == 1); // the temporary file was removed
        return;
    }
    TempDir dir;
    REQUIRE(write_file_atomically(dir.path / "f", "old").ok());
    fs::permissions(dir.path, fs::perms::owner_read | fs::perms::owner_exec);
    auto r = write_file_atomically(dir.path / "f", "new");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains(dir.path.string()));
    CHECK(read(dir.path / "f") == "old");
}

TEST_CASE("state dir follows XDG, then HOME, the system service uses /var/lib", "[daemon][last_known_good]")
{
    CHECK(default_state_dir(false, std::string("/home/u/.state"), std::string("/home/u")) ==
          "/home/u/.state/halo-check");
    CHECK(default_state_dir(false, std::string("relative"), std::string("/home/u")) ==
          "/home/u/.local/state/halo-check");
    CHECK(default_state_dir(false, std::nullopt, std::string("/home/u")) == "/home/u/.local/state/halo-check");
    CHECK(default_state_dir(false, std::nullopt, std::nullopt).empty());
    CHECK(default_state_dir(true, std::string("/x"), std::string("/y")) == "/var/lib/halo-check");
    auto r = store_last_known_good({}, sample());
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("no state directory"));
}
