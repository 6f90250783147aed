#pragma once
// Which of the engine's environment variables become facts. One filter for every place the
// environment is read: [engine.env], the engine command (env NAME=…, podman exec -e, toolbox run
// --env) and the container's own configuration (podman's OCI spec). Values of other variables
// may be secrets, so they are never recorded. Pure.

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace halo::probes {

// Only the GPU runtime's and llama.cpp's own settings (HSA_*, HIP_*, ROCR_*, ROCM_*, HCC_*, AMD_*,
// GGML_*, RADV_*, MESA_*, VK_*, LLAMA_ARG_*), and never a name holding KEY, TOKEN, SECRET or
// PASSWORD: those values are secrets or may be.
bool env_name_recorded(std::string_view name);

// "NAME=value" -> (NAME, value); nullopt for a bare NAME or an empty name.
std::optional<std::pair<std::string, std::string>> split_env_assignment(std::string_view assignment);

} // namespace halo::probes
