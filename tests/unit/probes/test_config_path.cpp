#include "probes/config_path.hpp"
#include "tests/unit/support/temp_dir.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace halo::probes;
namespace fs = std::filesystem;

namespace {

using halo::test::TempDir;

void touch(const fs::path& file)
{
    fs::create_directories(file.parent_path());
    std::ofstream(file) << "[engine]\n";
}

} // namespace

TEST_CASE("config path: the user's file when it exists, else /etc", "[probes][config_path]")
{
    TempDir dir;
    Host host(dir.path);
    CHECK(default_config_path(host) == "/etc/halo-check/config.toml"); // nothing set, nothing there

    host.set_env("HOME", "/home/u");
    CHECK(default_config_path(host) == "/etc/halo-check/config.toml"); // the user has none
    touch(dir.path / "home/u/.config/halo-check/config.toml");
    CHECK(default_config_path(host) == "/home/u/.config/halo-check/config.toml");

    host.set_env("XDG_CONFIG_HOME", "/xdg");
    CHECK(default_config_path(host) == "/etc/halo-check/config.toml"); // $XDG_CONFIG_HOME wins over ~/.config
    touch(dir.path / "xdg/halo-check/config.toml");
    CHECK(default_config_path(host) == "/xdg/halo-check/config.toml");

    host.set_env("XDG_CONFIG_HOME", ""); // empty is unset (XDG base directory spec)
    CHECK(default_config_path(host) == "/home/u/.config/halo-check/config.toml");
}
