#include "daemon/redacted_command.hpp"

#include <algorithm>

namespace halo::app {

namespace {

constexpr std::string_view k_secret_flags[] = {"--api-key", "--hf-token", "-hft"};

bool is_secret_flag(std::string_view arg)
{
    return std::find(std::begin(k_secret_flags), std::end(k_secret_flags), arg) != std::end(k_secret_flags);
}

} // namespace

std::vector<std::string> redacted_command(std::span<const std::string> argv)
{
    std::vector<std::string> out;
    out.reserve(argv.size());
    bool value_next = false;
    for (const std::string& arg : argv) {
        if (value_next) {
            out.emplace_back(k_redacted);
            value_next = false;
            continue;
        }
        const std::size_t eq = arg.find('=');
        if (eq != std::string::npos && is_secret_flag(std::string_view(arg).substr(0, eq))) {
            out.push_back(arg.substr(0, eq + 1) + std::string(k_redacted));
            continue;
        }
        value_next = is_secret_flag(arg);
        out.push_back(arg);
    }
    return out;
}

} // namespace halo::app
