#include "probes/containers_storage.hpp"

#include <catch2/catch.hpp>

#include <cstddef>
#include <span>
#include <string>

using namespace halo::probes;

TEST_CASE("image references and kyuz0 immutable tags", "[probes][containers_storage]")
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

TEST_CASE("RFC 3339 normalisation", "[probes][containers_storage]")
{
    CHECK(normalise_rfc3339("2026-11-27T09:35:41.789503131Z") == std::optional<std::string>("2026-11-27T09:35:41Z"));
    CHECK(normalise_rfc3339("2026-01-20T10:15:00+01:00") == std::optional<std::string>("2026-01-20T09:15:00Z"));
    CHECK(normalise_rfc3339("2025-12-31T23:30:00-01:00") == std::optional<std::string>("2026-01-01T00:30:00Z"));
    CHECK_FALSE(normalise_rfc3339("yesterday"));
    CHECK_FALSE(normalise_rfc3339("2026-13-01T00:00:00Z"));
    CHECK_FALSE(normalise_rfc3339("2026-01-01T00:00:00"));
    CHECK_FALSE(normalise_rfc3339("2026-01-01T00:00:00.Z"));
}

TEST_CASE("storage metadata parsers refuse garbage with a reason", "[probes][containers_storage]")
{
    CHECK_THAT(parse_storage_containers(R"([{"id":"abc","names":["x"],)").error().message,
               Catch::Contains("containers.json is not valid JSON"));
    CHECK_THAT(parse_storage_containers(R"({"id":"abc"})").error().message, Catch::Contains("not a JSON array"));
    CHECK_THAT(parse_storage_containers(R"([{"names":["x"]}])").error().message, Catch::Contains("without an id"));
    CHECK_THAT(parse_storage_images("\x01\x02garbage").error().message,
               Catch::Contains("images.json is not valid JSON"));
    CHECK_THAT(parse_storage_images("[1,2]").error().message, Catch::Contains("not an object"));
    auto ok = parse_storage_containers(
        R"([{"id":"c1","names":["llama-rocm-7.2"],"image":"i1","metadata":"not json","created":"2026-01-25T18:21:02Z"}])");
    REQUIRE(ok.ok());
    CHECK(ok->at(0).image_name.empty());
    CHECK_FALSE(parse_image_config_created("{}").ok());
}

TEST_CASE("storage.conf graphroot and driver", "[probes][containers_storage]")
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

TEST_CASE("libpod database scan: labels, state, stale copies", "[probes][containers_storage]")
{
    const std::string junk("\x00\x01\x02\x10page\x00", 9);
    std::string db = junk;
    db +=
        R"({"spec":{"ociVersion":"1.0.2-dev","process":{"args":["toolbox","init-container"]}},"id":"aaa","name":"llama-vulkan-radv","createdTime":"2026-01-25T18:21:02.98Z","labels":{"com.github.containers.toolbox":"true"}})";
    db += junk;
    db += R"({"spec":{"ociVersion":"1.0.2-dev"},"id":"bbb","name":"plain","labels":{"x":"y"}})";
    db += junk;
    db +=
        R"({"state":3,"runDir":"/run/user/1000/containers/overlay-containers/aaa/userdata","startedTime":"2026-01-25T18:21:03Z"})";
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

    // The spec's environment: the recorded names only.
    const std::string with_env =
        R"({"spec":{"ociVersion":"1.0.2-dev","process":{"env":["PATH=/usr/bin","HSA_ENABLE_SDMA=0",)"
        R"("LLAMA_ARG_HF_TOKEN=hf_x","AMD_LOG_LEVEL=","bare","=x"]}},"id":"ddd"})";
    auto env = scan_libpod_db(std::as_bytes(std::span(with_env.data(), with_env.size())))["ddd"].env;
    CHECK(env == std::map<std::string, std::string>{{"HSA_ENABLE_SDMA", "0"}, {"AMD_LOG_LEVEL", ""}});
    CHECK(info["aaa"].env.empty());
}

TEST_CASE("image config file name: '=' and base64 of the digest", "[probes][containers_storage]")
{
    // Padding for each length of the last group, and one name podman wrote (a fixture host's).
    CHECK(image_config_name("a") == "=c2hhMjU2OmE=");
    CHECK(image_config_name("ab") == "=c2hhMjU2OmFi");
    CHECK(image_config_name("abc") == "=c2hhMjU2OmFiYw==");
    CHECK(image_config_name("1711285e39ce67c6b42bb2fc53970027d7cb7fecf4ce767733932132884507ea") ==
          "=c2hhMjU2OjE3MTEyODVlMzljZTY3YzZiNDJiYjJmYzUzOTcwMDI3ZDdjYjdmZWNmNGNlNzY3NzMzOTMyMTMyODg0NTA3ZWE=");
}

TEST_CASE("storage metadata parsers bound nesting and entries", "[probes][containers_storage]")
{
    CHECK_THAT(parse_storage_images(std::string(1u << 20, '[')).error().message,
               Catch::Equals("images.json holds an entry that is not an object"));
    CHECK_THAT(parse_storage_images(R"([{"id":"a","names":)" + std::string(1u << 20, '[')).error().message,
               Catch::Equals("images.json is nested deeper than 32 levels"));
    std::string many = "[";
    for (std::size_t i = 0; i <= k_max_storage_entries; ++i) many += R"({"id":"a"},)";
    many.back() = ']';
    CHECK_THAT(parse_storage_containers(many).error().message,
               Catch::Equals("containers.json holds more than 1000 entries"));
    many.erase(many.rfind(','));
    many += ']';
    CHECK(parse_storage_images(many)->size() == k_max_storage_entries);
    // libpod's metadata string is parsed the same bounded way; broken, it only leaves the name out.
    auto meta = parse_storage_containers(R"([{"id":"c","metadata":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}])");
    REQUIRE(meta.ok());
    CHECK(meta->at(0).image_name.empty());
    auto named = parse_storage_containers(R"([{"id":"c","metadata":"{\"image-name\":\"docker.io/x:1\"}"}])");
    REQUIRE(named.ok());
    CHECK(named->at(0).image_name == "docker.io/x:1");
}

TEST_CASE("a storage file over the cap: the reason names it, its size, the cap and what to do",
          "[probes][containers_storage]")
{
    const std::string why =
        storage_file_too_large("/home/u/.local/share/containers/storage/overlay-images/images.json", 60u << 20);
    CHECK_THAT(why, Catch::StartsWith("'/home/u/.local/share/containers/storage/overlay-images/images.json' is "
                                      "60.0 MiB, more than the 8 MiB halo-check reads"));
    CHECK_THAT(why, Catch::Contains("podman system check"));
}
