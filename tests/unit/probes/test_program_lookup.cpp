#include "probes/program_lookup.hpp"
#include "tests/unit/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using halo::probes::find_program;
using halo::probes::Host;
using Outcome = halo::probes::ProgramLookup::Outcome;
namespace fs = std::filesystem;

namespace {

using halo::test::TempDir;

void program(const fs::path& file, bool executable)
{
    fs::create_directories(file.parent_path());
    std::ofstream(file) << "#!/bin/sh\n";
    fs::permissions(file, executable ? fs::perms::owner_all : fs::perms::owner_read | fs::perms::owner_write);
}

} // namespace

TEST_CASE("a path: found, missing, or there but not executable", "[probes][program_lookup]")
{
    TempDir dir;
    Host host(dir.path);
    program(dir.path / "opt/bin/llama-server", true);
    program(dir.path / "opt/bin/plain-file", false);
    fs::create_directories(dir.path / "opt/bin/a-directory");

    auto r = find_program(host, "/opt/bin/llama-server");
    CHECK(r.outcome == Outcome::found);
    CHECK(r.detail == "/opt/bin/llama-server");
    r = find_program(host, "/opt/bin/nope");
    CHECK(r.outcome == Outcome::missing);
    CHECK(r.detail == "'/opt/bin/nope' does not exist");
    CHECK(find_program(host, "/opt/bin/plain-file").outcome == Outcome::missing);
    CHECK(find_program(host, "/opt/bin/plain-file").detail ==
          "'/opt/bin/plain-file' exists but is not an executable file");
    CHECK(find_program(host, "/opt/bin/a-directory").outcome == Outcome::missing);
    CHECK(find_program(host, "").outcome == Outcome::missing);
    // Relative to a working directory: only the live machine has one.
    CHECK(find_program(host, "opt/bin/llama-server").outcome == Outcome::undecidable);
}

TEST_CASE("a bare name: searched in the host's $PATH, in order", "[probes][program_lookup]")
{
    TempDir dir;
    Host host(dir.path);
    CHECK(find_program(host, "llama-server").outcome == Outcome::undecidable); // a fixture has no $PATH
    CHECK_THAT(find_program(host, "llama-server").detail, Catch::Contains("no $PATH"));

    program(dir.path / "a/llama-server", false);
    program(dir.path / "b/llama-server", true);
    program(dir.path / "c/llama-server", true);
    host.set_env("PATH", "/a:/b:/c");
    auto r = find_program(host, "llama-server");
    CHECK(r.outcome == Outcome::found);
    CHECK(r.detail == "/b/llama-server"); // execvp skips the one it may not execute
    host.set_env("PATH", "/a:/nowhere");
    r = find_program(host, "llama-server");
    CHECK(r.outcome == Outcome::missing);
    CHECK(r.detail == "'llama-server' is on $PATH as '/a/llama-server', which is not an executable file");
    host.set_env("PATH", "/nowhere::/also-nowhere");
    r = find_program(host, "llama-server");
    CHECK(r.outcome == Outcome::missing); // the empty entry (working directory) is skipped on a fixture
    CHECK(r.detail == "'llama-server' is not in any directory of $PATH (/nowhere::/also-nowhere)");
    host.set_env("PATH", "");
    CHECK(find_program(host, "llama-server").outcome == Outcome::missing);
}

TEST_CASE("the live machine: the process's $PATH and working directory", "[probes][program_lookup]")
{
    TempDir dir;
    program(dir.path / "bin/halo-test-engine", true);
    Host live("/");
    CHECK(find_program(live, "sh").outcome == Outcome::found);
    CHECK(find_program(live, "halo-no-such-program-anywhere").outcome == Outcome::missing);

    live.set_env("PATH", (dir.path / "bin").string());
    CHECK(find_program(live, "halo-test-engine").detail == (dir.path / "bin/halo-test-engine").string());
    CHECK(find_program(live, (dir.path / "bin/halo-test-engine").string()).outcome == Outcome::found);

    const fs::path cwd = fs::current_path();
    fs::current_path(dir.path);
    const auto relative = find_program(live, "bin/halo-test-engine");
    live.set_env("PATH", ":/nowhere"); // the empty entry is the working directory, as for execvp
    const auto from_cwd = find_program(live, "halo-test-engine");
    fs::current_path(dir.path / "bin");
    const auto in_cwd = find_program(live, "halo-test-engine");
    fs::current_path(cwd);
    CHECK(relative.outcome == Outcome::found);
    CHECK(from_cwd.outcome == Outcome::missing);
    CHECK(in_cwd.outcome == Outcome::found);
    CHECK(in_cwd.detail == "./halo-test-engine");
}
