// libFuzzer entry point: podman storage metadata (containers.json / images.json / image config),
// storage.conf, image references, RFC 3339 times and the libpod database scan.
// -max_len: podman's images.json grows with every image.
// fuzz-max-len: 1048576
#include "probes/containers_storage.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)halo::probes::parse_storage_containers(text);
    (void)halo::probes::parse_storage_images(text);
    (void)halo::probes::parse_image_config_created(text);
    (void)halo::probes::parse_image_reference(text);
    (void)halo::probes::normalise_rfc3339(text);
    (void)halo::probes::scan_libpod_db(std::as_bytes(std::span(data, size)));
    return 0;
}
