#pragma once
// engine probe: the inference engine the user runs. The command comes from `halo-check run --
// COMMAND…` (ProbeContext::engine_command) or from the `[engine]` table of the configuration
// (probes/engine_config.hpp), read from ProbeContext::config_path, else from the default path
// (probes/config_path.hpp: $XDG_CONFIG_HOME/halo-check/config.toml or
// ~/.config/halo-check/config.toml, else /etc/halo-check/config.toml), both through
// ProbeContext::config_host. From it: the container (and, from the containers probe's facts, its
// image and backend), llama-server's flags, whether the engine can start at all (the program
// found, the model readable and GGUF), and the model file's GGUF header (read without loading
// tensors; split parts are stat()ed for size).
// Reads: the config file (through the config host); the model file (header only), its split
// siblings and the engine program (stat, access) through the machine's Host, since they are the
// machine's files. Privileges: read access to the model file. Runs after the containers probe.
// Feeds engine.model-unreadable, engine.model-not-gguf, engine.binary-not-found and
// engine.container-missing. Introduced in 0.1.0.

#include "probes/probe.hpp"

#include <string>
#include <string_view>

namespace halo::probes {

extern const ProbeInfo k_engine_probe;

// rocm* / therock* -> "rocm", vulkan* -> "vulkan"; then the same on a llama-<tag> container name,
// then hints in the binary path; empty when nothing says.
std::string guess_backend(std::string_view image_tag, std::string_view container, std::string_view binary);

} // namespace halo::probes
