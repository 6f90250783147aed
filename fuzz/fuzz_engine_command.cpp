// libFuzzer entry point: the engine command parser. The input is split on NUL bytes into argv.
// -max_len: a command line (ARG_MAX is larger, but no engine command is).
// fuzz-max-len: 65536
#include "probes/engine_command.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::vector<std::string> argv(1);
    for (std::size_t i = 0; i < size; ++i) {
        if (data[i] == 0) argv.emplace_back();
        else argv.back().push_back(static_cast<char>(data[i]));
    }
    if (auto parsed = halo::probes::parse_engine_command(argv)) (void)halo::probes::engine_command_facts(*parsed);
    return 0;
}
