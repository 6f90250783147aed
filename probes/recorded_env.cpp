#include "probes/recorded_env.hpp"

#include <initializer_list>

namespace halo::probes {

bool env_name_recorded(std::string_view name)
{
    for (std::string_view secret : {"KEY", "TOKEN", "SECRET", "PASSWORD"}) {
        if (name.find(secret) != std::string_view::npos) return false;
    }
    for (std::string_view prefix :
         {"HSA_", "HIP_", "ROCR_", "ROCM_", "HCC_", "AMD_", "GGML_", "RADV_", "MESA_", "VK_", "LLAMA_ARG_"}) {
        if (name.starts_with(prefix) && name.size() > prefix.size()) return true;
    }
    return false;
}

std::optional<std::pair<std::string, std::string>> split_env_assignment(std::string_view assignment)
{
    const auto eq = assignment.find('=');
    if (eq == std::string_view::npos || eq == 0) return std::nullopt;
    return std::pair(std::string(assignment.substr(0, eq)), std::string(assignment.substr(eq + 1)));
}

} // namespace halo::probes
