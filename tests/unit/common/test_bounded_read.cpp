#include "common/bounded_read.hpp"
#include "tests/unit/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

using namespace halo;
using halo::test::TempDir;

TEST_CASE("bounded reads return a regular file whole and refuse FIFOs, devices, links and big files",
          "[common][bounded_read]")
{
    TempDir dir;
    const std::string file = (dir.path / "state.json").string();
    std::ofstream(file) << "{\"a\": 1}\n";
    auto ok = read_bounded_file(file, 100);
    REQUIRE(ok.ok());
    CHECK(*ok == "{\"a\": 1}\n");

    auto big = read_bounded_file(file, 4);
    REQUIRE_FALSE(big.ok());
    CHECK(big.error().errno_value == EFBIG);
    CHECK_THAT(big.error().message, Catch::Contains(file));

    auto missing = read_bounded_file((dir.path / "none").string(), 100);
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().errno_value == ENOENT);

    // A FIFO with no writer: a blocking open would never return.
    const std::string fifo = (dir.path / "fifo").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto f = read_bounded_file(fifo, 100);
    REQUIRE_FALSE(f.ok());
    CHECK_THAT(f.error().message, Catch::Contains("not a regular file"));

    auto zero = read_bounded_file("/dev/zero", 100);
    REQUIRE_FALSE(zero.ok());
    CHECK_THAT(zero.error().message, Catch::Contains("not a regular file"));

    const std::string link = (dir.path / "link").string();
    std::filesystem::create_symlink(file, link);
    auto l = read_bounded_file(link, 100);
    REQUIRE_FALSE(l.ok());
    CHECK(l.error().errno_value == ELOOP);
    CHECK_THAT(l.error().message, Catch::Contains("symbolic link"));
}

TEST_CASE("bounded reads of a file an admin names follow its links, and still refuse FIFOs and devices",
          "[common][bounded_read]")
{
    TempDir dir;
    const std::string file = (dir.path / "config.toml").string();
    std::ofstream(file) << "x = 1\n";
    const std::string link = (dir.path / "link.toml").string();
    std::filesystem::create_symlink(file, link);
    auto followed = read_bounded_file(link, 100, Links::follow, "config");
    REQUIRE(followed.ok());
    CHECK(*followed == "x = 1\n");

    const std::string zero = (dir.path / "zero.toml").string();
    std::filesystem::create_symlink("/dev/zero", zero);
    auto z = read_bounded_file(zero, 100, Links::follow, "config");
    REQUIRE_FALSE(z.ok());
    CHECK(z.error().message == "Failed to read config '" + zero +
                                   "': not a regular file (a FIFO, a device or a directory); replace it with one");

    const std::string fifo = (dir.path / "fifo.toml").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto f = read_bounded_file(fifo, 100, Links::follow, "rules file");
    REQUIRE_FALSE(f.ok());
    CHECK_THAT(f.error().message, Catch::StartsWith("Failed to read rules file '" + fifo + "': not a regular file"));
}
