#include "daemon/atomic_file.hpp"
#include "tests/unit/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace halo::app;
namespace fs = std::filesystem;

namespace {

using halo::test::read_text;

using halo::test::TempDir;

} // namespace

TEST_CASE("atomic writes, synced or not, create and replace with the mode and leave no temporary file",
          "[daemon][atomic_file]")
{
    for (Durability d : {Durability::synced, Durability::unsynced}) {
        TempDir dir;
        const fs::path file = dir.path / "halo_check.prom";
        REQUIRE(write_file_atomically(file, "first\n", 0640, d).ok());
        CHECK(read_text(file) == "first\n");
        REQUIRE(write_file_atomically(file, "second, longer\n", 0644, d).ok());
        CHECK(read_text(file) == "second, longer\n");
        struct stat st {};
        REQUIRE(::stat(file.c_str(), &st) == 0);
        CHECK((st.st_mode & 0777) == 0644);
        CHECK(dir.entries() == 1);
    }
}

TEST_CASE("an unsynced write does not swap a directory into place", "[daemon][atomic_file]")
{
    TempDir dir;
    fs::create_directory(dir.path / "taken");
    auto r = write_file_atomically(dir.path / "taken", "x", 0644, Durability::unsynced);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message, Catch::Contains("Failed to replace '" + (dir.path / "taken").string() + "'"));
    CHECK(fs::is_directory(dir.path / "taken"));
    CHECK(dir.entries() == 1);
}

TEST_CASE("a write into a missing directory names it", "[daemon][atomic_file]")
{
    TempDir dir;
    auto r = write_file_atomically(dir.path / "no" / "x.prom", "x", 0644, Durability::unsynced);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.error().message,
               Catch::Contains("Failed to create a temporary file in '" + (dir.path / "no").string()));
}
