#include "probes/recorded_env.hpp"

#include <catch2/catch.hpp>

using halo::probes::env_name_recorded;
using halo::probes::split_env_assignment;

TEST_CASE("only GPU-runtime and llama.cpp variables are recorded, never a secret", "[probes][recorded_env]")
{
    for (const char* name : {"HSA_OVERRIDE_GFX_VERSION", "HIP_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "ROCM_PATH",
                             "HCC_AMDGPU_TARGET", "AMD_LOG_LEVEL", "GGML_VK_VISIBLE_DEVICES", "RADV_PERFTEST",
                             "MESA_VK_DEVICE_SELECT", "VK_ICD_FILENAMES", "LLAMA_ARG_CTX_SIZE"}) {
        INFO(name);
        CHECK(env_name_recorded(name));
    }
    for (const char* name : {"HSA_", "PATH", "HOME", "LD_PRELOAD", "HF_TOKEN", "LLAMA_API_KEY", "LLAMA_ARG_API_KEY",
                             "LLAMA_ARG_API_KEY_FILE", "LLAMA_ARG_HF_TOKEN", "AMD_KEYRING", "OPENAI_API_KEY",
                             "HIP_TOKEN", "ROCM_PASSWORD", "MESA_SECRET_DIR", "hsa_override"}) {
        INFO(name);
        CHECK_FALSE(env_name_recorded(name));
    }
}

TEST_CASE("NAME=value assignments", "[probes][recorded_env]")
{
    using P = std::pair<std::string, std::string>;
    CHECK(split_env_assignment("HSA_ENABLE_SDMA=0") == P{"HSA_ENABLE_SDMA", "0"});
    CHECK(split_env_assignment("A=b=c") == P{"A", "b=c"});
    CHECK(split_env_assignment("A=") == P{"A", ""});
    CHECK_FALSE(split_env_assignment("A"));
    CHECK_FALSE(split_env_assignment("=x"));
}
