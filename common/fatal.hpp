#pragma once
// The one exception type: "cannot continue" (bad usage, unreadable config). Caught once in main.

#include <stdexcept>
#include <string>

namespace halo {

// Exit codes follow the monitoring-plugin convention.
enum class ExitCode : int { ok = 0, warning = 1, broken = 2, unknown = 3 };

class Fatal : public std::runtime_error {
public:
    explicit Fatal(const std::string& message, ExitCode code = ExitCode::unknown)
        : std::runtime_error(message), m_code(code)
    {}
    ExitCode code() const noexcept { return m_code; }

private:
    ExitCode m_code;
};

} // namespace halo
