#include "probes/containers_probe.hpp"
#include "tests/unit/support/temp_dir.hpp"

#include "probes/host.hpp"
#include "probes/probe.hpp"
#include "rules/facts.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

using namespace halo::probes;
namespace fs = std::filesystem;

namespace {

const std::string k_hosts = std::string(HALO_TEST_DATA) + "/hosts/";

struct Run {
    halo::rules::Facts facts;
    halo::rules::ProbeStatus status;
};

Run run(const Host& host)
{
    Run r;
    ProbeContext context{host, std::chrono::milliseconds(5000), {}, {}, {}};
    FactSink sink(r.facts, "containers");
    r.status = k_containers_probe.collect(context, sink);
    return r;
}

using halo::test::TempDir;

void write(const fs::path& file, std::string_view text)
{
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
}

} // namespace

TEST_CASE("fixture host: refreshed vulkan-radv leaves a dangling image", "[probes][containers]")
{
    Host host(k_hosts + "strix-fedora43-good");
    auto r = run(host);
    CHECK(r.status.state == halo::rules::ProbeState::ok);
    const auto& f = r.facts;
    CHECK(f.get("container.llama-vulkan-radv.image") ==
          std::optional<std::string>("docker.io/kyuz0/amd-strix-halo-toolboxes:vulkan-radv"));
    CHECK(f.get("container.llama-vulkan-radv.image.tag") == std::optional<std::string>("vulkan-radv"));
    CHECK(f.get("container.llama-vulkan-radv.image.created") == std::optional<std::string>("2026-04-26T03:12:44Z"));
    CHECK(f.get("container.llama-vulkan-radv.image.dangling") == std::optional<std::string>("false"));
    CHECK(f.get("container.llama-vulkan-radv.storage") == std::optional<std::string>("user"));
    CHECK(f.get("container.llama-rocm-7.2.image.tag") == std::optional<std::string>("rocm-7.2"));
    CHECK(f.get("image.2.reference") == std::optional<std::string>("<none>"));
    CHECK(f.get("image.2.dangling") == std::optional<std::string>("true"));
    CHECK_FALSE(f.contains("image.3.id"));
    // No libpod database in the fixture: unknown, not false.
    CHECK_FALSE(f.contains("container.llama-vulkan-radv.toolbox"));
    CHECK(f.unknown_reason("container.llama-vulkan-radv.toolbox"));
}

TEST_CASE("fixture host: rocm-7.1.1 created 2025-12-20 with its immutable tag", "[probes][containers]")
{
    auto r = run(Host(k_hosts + "strix-fedora43-nextboot-broken"));
    CHECK(r.status.state == halo::rules::ProbeState::ok);
    CHECK(r.facts.get("container.llama-rocm-7.1.1.image.created") ==
          std::optional<std::string>("2025-12-20T11:42:07Z"));
    CHECK(r.facts.get("image.1.reference") ==
          std::optional<std::string>("docker.io/kyuz0/amd-strix-halo-toolboxes:rocm-7.1.1_20251220T114207"));
}

TEST_CASE("no storage: not applicable, truncated containers.json: failed", "[probes][containers]")
{
    TempDir dir;
    auto none = run(Host(dir.path));
    CHECK(none.status.state == halo::rules::ProbeState::not_applicable);
    CHECK(none.facts.empty());

    fs::copy(k_hosts + "strix-fedora43-good/home", dir.path / "home", fs::copy_options::recursive);
    const auto file = dir.path / "home/user/.local/share/containers/storage/overlay-containers/containers.json";
    std::string text;
    {
        std::ifstream in(file);
        text.assign(std::istreambuf_iterator<char>(in), {});
    }
    for (std::size_t cut : {std::size_t{0}, std::size_t{1}, text.size() / 2, text.size() - 1}) {
        write(file, text.substr(0, cut));
        auto r = run(Host(dir.path));
        INFO("cut at " << cut);
        CHECK(r.status.state == halo::rules::ProbeState::failed);
        CHECK_THAT(r.status.reason, Catch::Contains("containers.json") && Catch::Contains("not valid JSON"));
        CHECK(r.facts.keys_matching("container.*").empty());
    }
}

TEST_CASE("storage.conf through CONTAINERS_STORAGE_CONF picks graphroot and driver", "[probes][containers]")
{
    TempDir dir;
    fs::create_directories(dir.path / "srv");
    fs::copy(k_hosts + "strix-fedora43-good/home/user/.local/share/containers/storage", dir.path / "srv/store",
             fs::copy_options::recursive);
    write(dir.path / "etc/custom.conf", "[storage]\ndriver = \"overlay\"\ngraphroot = \"/srv/store\"\n");
    Host host(dir.path);
    host.set_env("CONTAINERS_STORAGE_CONF", "/etc/custom.conf");
    auto r = run(host);
    CHECK(r.status.state == halo::rules::ProbeState::ok);
    CHECK(r.facts.get("containers.storage.user") == std::optional<std::string>("/srv/store (overlay)"));
    CHECK(r.facts.contains("container.llama-vulkan-radv.id"));

    // A driver that does not match the files: nothing found there.
    write(dir.path / "etc/custom.conf", "[storage]\ndriver = \"vfs\"\ngraphroot = \"/srv/store\"\n");
    CHECK(run(host).status.state == halo::rules::ProbeState::not_applicable);

    write(dir.path / "etc/custom.conf", "[storage\n");
    auto bad = run(host);
    CHECK_THAT(bad.status.reason, Catch::Contains("custom.conf"));
}

TEST_CASE("root storage from /etc/containers/storage.conf", "[probes][containers]")
{
    TempDir dir;
    fs::create_directories(dir.path / "var/lib/containers");
    fs::copy(k_hosts + "strix-fedora43-fw20251125-rocm/home/user/.local/share/containers/storage",
             dir.path / "var/lib/containers/storage", fs::copy_options::recursive);
    write(dir.path / "etc/containers/storage.conf", "[storage]\ndriver = \"overlay\"\n");
    auto r = run(Host(dir.path));
    CHECK(r.status.state == halo::rules::ProbeState::ok);
    CHECK(r.facts.get("container.llama-rocm-7.2.storage") == std::optional<std::string>("root"));
    CHECK(r.facts.get("image.0.storage") == std::optional<std::string>("root"));
}

TEST_CASE("an images.json over the cap is not read: failed, its images and containers unknown, the file named",
          "[probes][containers]")
{
    TempDir dir;
    fs::copy(k_hosts + "strix-fedora43-good/home", dir.path / "home", fs::copy_options::recursive);
    const auto file = dir.path / "home/user/.local/share/containers/storage/overlay-images/images.json";
    // Sparse: 60 MiB on paper, nothing on disk; the probe must not read a byte of it.
    fs::resize_file(file, 60u << 20);
    auto r = run(Host(dir.path));
    CHECK(r.status.state == halo::rules::ProbeState::failed);
    CHECK_THAT(r.status.reason, Catch::Contains("/home/user/.local/share/containers/storage/overlay-images/"
                                                "images.json' is 60.0 MiB, more than the 8 MiB") &&
                                    Catch::Contains("podman system check"));
    CHECK(r.facts.keys_matching("container.*").empty());
    CHECK(r.facts.keys_matching("image.*").empty());
    CHECK(r.facts.unknown_reason("image.0.id"));
    CHECK(r.facts.unknown_reason("container.llama-vulkan-radv.id"));
}
