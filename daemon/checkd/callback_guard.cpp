#include "daemon/checkd/callback_guard.hpp"

#include <atomic>
#include <cstdio>

namespace halo::checkd {

namespace {

void report_to_stderr(std::string_view callback, std::string_view what) noexcept
{
    std::fprintf(stderr, "<3>halo-checkd: error: %.*s failed: %.*s\n", static_cast<int>(callback.size()),
                 callback.data(), static_cast<int>(what.size()), what.data());
}

std::atomic<CallbackErrorReporter> g_reporter{&report_to_stderr};

} // namespace

void set_callback_error_reporter(CallbackErrorReporter reporter) noexcept
{
    g_reporter.store(reporter ? reporter : &report_to_stderr);
}

void report_callback_error(std::string_view callback, std::string_view what) noexcept
{
    g_reporter.load()(callback, what);
}

} // namespace halo::checkd
