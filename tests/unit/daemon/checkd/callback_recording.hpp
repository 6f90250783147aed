#pragma once
// For tests of guarded callbacks: while a CallbackRecording lives, what guard_callback reports
// is kept in `reports` ("callback: what") instead of going to stderr.

#include "daemon/checkd/callback_guard.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace halo::test {

class CallbackRecording {
public:
    CallbackRecording()
    {
        reports().clear();
        checkd::set_callback_error_reporter(&record);
    }
    ~CallbackRecording() { checkd::set_callback_error_reporter(nullptr); }
    CallbackRecording(const CallbackRecording&) = delete;
    CallbackRecording& operator=(const CallbackRecording&) = delete;

    static std::vector<std::string>& reports()
    {
        static std::vector<std::string> kept;
        return kept;
    }

private:
    static void record(std::string_view callback, std::string_view what) noexcept
    {
        reports().push_back(std::string(callback) + ": " + std::string(what));
    }
};

} // namespace halo::test
