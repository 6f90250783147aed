#include "probes/containers_probe.hpp"

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

struct TempDir {
    fs::path path;
    TempDir()
    {
        std::string tmpl = (fs::temp_directory_path() / "halo-ctr-XXXXXX").string();
        path = ::mkdtemp(tmpl.data());
    }
    ~TempDir() { fs::remove_all(path); }
};

void write(const fs::path& file, std::string_view text)
{
    fs::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << text;
}

} // namespace

TEST_CASE("image references and kyuz0 immutable tags", "[probes][containers]")
{
    auto r = parse_image_reference("docker.io/kyuz0/amd-strix-halo-toolboxes:rocm-6.4.4_20260120T091500");
    CHECK(r.repository == "docker.io/kyuz0/amd-strix-halo-toolboxes");
    CHECK(r.tag == "rocm-6.4.4_20260120T091500");
    CHECK(r.tag_base == "rocm-6.4.4");
    CHECK(r.build_time == "2026-01-20T09:15:00Z");

    r = parse_image_reference("docker.io/kyuz0/amd-strix-halo-toolboxes:vulkan-radv");
    CHECK(r.tag == "vulkan-radv");
    CHECK(r.tag_base == "vulkan-radv");
    CHECK(r.build_time.empty());

    r = parse_image_reference("localhost:5000/llama@sha256:abcd");
    CHECK(r.repository == "localhost:5000/llama");
    CHECK(r.tag.empty());
    CHECK(r.digest == "sha256:abcd");

    // Looks like a build suffix but is no valid time: kept as part of the tag.
    r = parse_image_reference("repo:rocm-7.2_20261399T999999");
    CHECK(r.tag_base == "rocm-7.2_20261399T999999");
    CHECK(r.build_time.empty());
}

TEST_CASE("RFC 3339 normalisation", "[probes][containers]")
{
    CHECK(normalise_rfc3339("2026-11-27T09:35:41.789503131Z") == std::optional<std::string>("2026-11-27T09:35:41Z"));
    CHECK(normalise_rfc3339("2026-01-20T10:15:00+01:00") == std::optional<std::string>("2026-01-20T09:15:00Z"));
    CHECK(normalise_rfc3339("2025-12-31T23:30:00-01:00") == std::optional<std::string>("2026-01-01T00:30:00Z"));
    CHECK_FALSE(normalise_rfc3339("yesterday"));
    CHECK_FALSE(normalise_rfc3339("2026-13-01T00:00:00Z"));
    CHECK_FALSE(normalise_rfc3339("2026-01-01T00:00:00"));
    CHECK_FALSE(normalise_rfc3339("2026-01-01T00:00:00.Z"));
}

TEST_CASE("storage metadata parsers refuse garbage with a reason", "[probes][containers]")
{
    CHECK_THAT(parse_storage_containers(R"([{"id":"abc","names":["x"],)").error().message,
               Catch::Contains("containers.json is not valid JSON"));
    CHECK_THAT(parse_storage_containers(R"({"id":"abc"})").error().message, Catch::Contains("not a JSON array"));
    CHECK_THAT(parse_storage_containers(R"([{"names":["x"]}])").error().message, Catch::Contains("without an id"));
    CHECK_THAT(parse_storage_images("\x01\x02garbage").error().message, Catch::Contains("images.json is not valid JSON"));
    CHECK_THAT(parse_storage_images("[1,2]").error().message, Catch::Contains("not an object"));
    auto ok = parse_storage_containers(R"([{"id":"c1","names":["llama-rocm-7.2"],"image":"i1","metadata":"not json","created":"2026-01-25T18:21:02Z"}])");
    REQUIRE(ok.ok());
    CHECK(ok->at(0).image_name.empty());
    CHECK_FALSE(parse_image_config_created("{}").ok());
}

TEST_CASE("storage.conf graphroot and driver", "[probes][containers]")
{
    auto conf = parse_storage_conf("[storage]\ndriver = \"overlay\"\ngraphroot = \"/srv/containers\"\n"
                                   "rootless_storage_path = \"$HOME/.local/share/containers/storage\"\n",
                                   "storage.conf");
    REQUIRE(conf.ok());
    CHECK(conf->driver == std::optional<std::string>("overlay"));
    CHECK(conf->graphroot == std::optional<std::string>("/srv/containers"));
    auto bad = parse_storage_conf("[storage\n", "/etc/containers/storage.conf");
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.error().message, Catch::StartsWith("/etc/containers/storage.conf:1:"));
}

TEST_CASE("libpod database scan: labels, state, stale copies", "[probes][containers]")
{
    const std::string junk("\x00\x01\x02\x10page\x00", 9);
    std::string db = junk;
    db += R"({"spec":{"ociVersion":"1.0.2-dev","process":{"args":["toolbox","init-container"]}},"id":"aaa","name":"llama-vulkan-radv","createdTime":"2026-01-25T18:21:02.98Z","labels":{"com.github.containers.toolbox":"true"}})";
    db += junk;
    db += R"({"spec":{"ociVersion":"1.0.2-dev"},"id":"bbb","name":"plain","labels":{"x":"y"}})";
    db += junk;
    db += R"({"state":3,"runDir":"/run/user/1000/containers/overlay-containers/aaa/userdata","startedTime":"2026-01-25T18:21:03Z"})";
    db += junk;
    db += R"({"state":1,"runDir":"/run/user/1000/containers/overlay-containers/bbb/userdata"})";
    db += junk;
    db += R"({"state":6,"runDir":"/run/user/1000/containers/overlay-containers/bbb/userdata"})"; // stale copy
    db += junk;
    db += R"({"spec":{"ociVersion":"1.0.2-dev","process":)" + junk + R"("id":"ccc"})"; // split over pages
    auto info = scan_libpod_db(std::as_bytes(std::span(db.data(), db.size())));
    CHECK(info["aaa"].toolbox == std::optional<bool>(true));
    CHECK(info["aaa"].state == std::optional<std::string>("running"));
    CHECK(info["aaa"].created == "2026-01-25T18:21:02.98Z");
    CHECK(info["bbb"].toolbox == std::optional<bool>(false));
    CHECK_FALSE(info["bbb"].state); // two different states: not guessed
    CHECK_FALSE(info["ccc"].toolbox);
    CHECK(libpod_state_name(1) == "created");
    CHECK(libpod_state_name(99).empty());
}

TEST_CASE("fixture host: refreshed vulkan-radv leaves a dangling image", "[probes][containers]")
{
    Host host(k_hosts + "strix-fedora43-good");
    auto r = run(host);
    CHECK(r.status.state == halo::rules::ProbeState::ok);
    const auto& f = r.facts;
    CHECK(f.get("container.llama-vulkan-radv.image") == std::optional<std::string>("docker.io/kyuz0/amd-strix-halo-toolboxes:vulkan-radv"));
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
    CHECK(r.facts.get("container.llama-rocm-7.1.1.image.created") == std::optional<std::string>("2025-12-20T11:42:07Z"));
    CHECK(r.facts.get("image.1.reference")
          == std::optional<std::string>("docker.io/kyuz0/amd-strix-halo-toolboxes:rocm-7.1.1_20251220T114207"));
}

TEST_CASE("no storage: not applicable; truncated containers.json: failed", "[probes][containers]")
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
