#include "daemon/checkd/export_files.hpp"
#include "tests/unit/support/temp_dir.hpp"

#include "tests/unit/daemon/export_fixture.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace halo;
namespace fs = std::filesystem;
using Catch::Contains;

namespace {

using halo::test::read_text;

using halo::test::TempDir;

} // namespace

TEST_CASE("[export] writes the textfile and the NFD file, the expiry twice the interval away", "[checkd][export]")
{
    const test::ExportFixture f;
    TempDir dir;
    app::ExportConfig config;
    config.textfile = (dir.path / "halo_check.prom").string();
    config.nfd = (dir.path / "halo-check").string();
    config.interval = std::chrono::minutes(5);
    const std::vector<std::string> errors = checkd::write_export_files(config, f.input(), 1796000000);
    CHECK(errors.empty());
    CHECK_THAT(read_text(*config.textfile), Contains("halo_check_verdict{view=\"now\"} 2\n"));
    CHECK(read_text(*config.nfd).starts_with("# +expiry-time=2026-11-30T01:03:20Z\n")); // 1796000000 + 600
    CHECK(std::distance(fs::directory_iterator(dir.path), {}) == 2);

    // An engine transition rewrites the textfile only.
    fs::remove(*config.nfd);
    CHECK(checkd::write_export_files(config, f.input(), 1796000000, false).empty());
    CHECK(fs::exists(*config.textfile));
    CHECK_FALSE(fs::exists(*config.nfd));
}

TEST_CASE("[export] names each file it could not write and what stays", "[checkd][export]")
{
    const test::ExportFixture f;
    TempDir dir;
    app::ExportConfig config;
    config.textfile = (dir.path / "missing" / "halo_check.prom").string();
    config.nfd = (dir.path / "missing" / "halo-check").string();
    const std::vector<std::string> errors = checkd::write_export_files(config, f.input(), 0);
    REQUIRE(errors.size() == 2);
    CHECK_THAT(errors[0], Contains((dir.path / "missing").string()));
    CHECK_THAT(errors[0], Contains("the Prometheus textfile keeps its last content"));
    CHECK_THAT(errors[1], Contains("the NFD labels expire unless a later write succeeds"));
    CHECK(checkd::write_export_files(app::ExportConfig{}, f.input(), 0).empty());
}
