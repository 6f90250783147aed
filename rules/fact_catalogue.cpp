#include "rules/fact_catalogue.hpp"

#include "rules/facts.hpp"

// Interim table; the full catalogue (every key in docs/facts.md) replaces it.

namespace halo::rules {

namespace {

constexpr CatalogueEntry k_catalogue[] = {
    {"host.os.id", "os", "fedora", "ID= of os-release"},
    {"kernel.release", "kernel", "6.18.5-200.fc43.x86_64", "running kernel (uname -r)"},
    {"kernel.cmdline.*", "kernel", "32505856", "one kernel command-line parameter"},
    {"package.*.version", "packages", "20251125", "installed package version"},
    {"gpu.*.firmware.*", "drm", "0x00000080", "loaded firmware version per ucode"},
    {"engine.backend", "engine", "rocm", "rocm, vulkan or cpu"},
    {"engine.image.tag", "engine", "rocm-7.1.1", "the engine container's image tag"},
    {"engine.ctx_size", "engine", "65536", "llama-server -c"},
};

} // namespace

std::span<const CatalogueEntry> fact_catalogue()
{
    return k_catalogue;
}

bool in_catalogue(std::string_view key)
{
    for (const CatalogueEntry& e : k_catalogue)
        if (key_matches(e.pattern, key) || key_matches(key, e.pattern)) return true;
    return false;
}

} // namespace halo::rules
