#pragma once
// containers/storage's own metadata, parsed from its text without touching a machine: what the
// containers probe (probes/containers_probe.hpp) reads, kept apart so tests and the fuzzer
// (fuzz/fuzz_containers_storage.cpp) reach every parser directly.
//   <driver>-images/images.json, <driver>-containers/containers.json, the image config
//   <driver>-images/<id>/=<base64 "sha256:<id>">, storage.conf, image references, RFC 3339 times,
//   and podman's libpod database (bolt_state.db or db.sql), scanned rather than queried.

#include "common/result.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace halo::probes {

// The most halo-check reads of images.json or containers.json. podman writes about 1 KiB an image
// or container, so real storages are kilobytes (hundreds of KiB for hundreds of images); a larger
// file is not podman's, and reading it would cost the probe memory and time for nothing. The parse
// keeps only the fields the probe uses (probes/json_fields.hpp).
inline constexpr std::size_t k_max_storage_json = 8u << 20;
// A workstation keeps tens of images, a busy one hundreds; each becomes about six facts that every
// re-check judges and state.json carries. More than this is refused rather than judged slowly.
inline constexpr std::size_t k_max_storage_entries = 1000;

// Why a storage file is not read: its path, its size and the cap, and what to do.
std::string storage_file_too_large(std::string_view path, std::uint64_t size);

struct StorageImage {
    std::string id;
    std::vector<std::string> names; // full references; empty = dangling
    std::string digest;
    std::string created; // RFC 3339, from images.json (the time it entered this storage)
};

struct StorageContainer {
    std::string id;
    std::vector<std::string> names;
    std::string image_id;
    std::string image_name; // the reference it was created from (metadata "image-name")
    std::string created;
};

Result<std::vector<StorageImage>> parse_storage_images(std::string_view json);
Result<std::vector<StorageContainer>> parse_storage_containers(std::string_view json);
// The "created" field of an OCI image config (what `podman images` reports as Created).
Result<std::string> parse_image_config_created(std::string_view json);

struct StorageConf {
    std::optional<std::string> driver;
    std::optional<std::string> graphroot;
    std::optional<std::string> rootless_storage_path;
};
Result<StorageConf> parse_storage_conf(std::string_view toml_text, const std::string& origin);

// "docker.io/kyuz0/amd-strix-halo-toolboxes:rocm-6.4.4_20260120T091500"
//   -> repository "docker.io/kyuz0/amd-strix-halo-toolboxes", tag "rocm-6.4.4_20260120T091500",
//      tag_base "rocm-6.4.4", build_time "2026-01-20T09:15:00Z" (the kyuz0 CI's immutable tags).
struct ImageReference {
    std::string repository;
    std::string tag;        // empty when the reference has none (digest-only)
    std::string tag_base;   // tag without an immutable _YYYYmmddTHHMMSS suffix
    std::string build_time; // that suffix as RFC 3339 UTC, empty when absent
    std::string digest;     // "sha256:…" when the reference is REPO@DIGEST
};
ImageReference parse_image_reference(std::string_view reference);

// RFC 3339 with any fraction and offset -> "YYYY-MM-DDTHH:MM:SSZ" (UTC); nullopt when malformed.
std::optional<std::string> normalise_rfc3339(std::string_view text);

// What podman's libpod database says per container id, found by scanning its file for the
// JSON documents libpod stores (bolt keeps each value contiguous; SQLite rows that spill into
// overflow pages are not found and stay unknown). A state seen with two different values
// (stale copies in freed pages) is dropped rather than guessed.
struct LibpodContainerInfo {
    std::optional<bool> toolbox; // label com.github.containers.toolbox=true
    std::optional<std::string> state;
    std::string created; // config "createdTime": what `podman ps` reports (storage's is later)
    // The spec's process environment (the image's Env plus `podman create -e`), which every
    // `podman exec`/`toolbox run` in the container starts from; only the names
    // env_name_recorded() accepts are kept, so no secret leaves the scan.
    std::map<std::string, std::string> env;
};
std::map<std::string, LibpodContainerInfo> scan_libpod_db(std::span<const std::byte> bytes);

// podman's ContainerStatus names: 1,2 -> "created", 3 "running", 4 "stopped", 5 "paused",
// 6 "exited", 7 "removing", 8 "stopping"; empty for anything else.
std::string_view libpod_state_name(long long state) noexcept;

// The image config's file name in <driver>-images/<id>/: "=" + base64("sha256:<id>").
std::string image_config_name(std::string_view image_id);

} // namespace halo::probes
