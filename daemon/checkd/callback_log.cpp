#include "daemon/checkd/callback_log.hpp"

#include "daemon/checkd/callback_guard.hpp"
#include "daemon/checkd/log_sink.hpp"

#include <fmt/core.h>

#include <syslog.h>

#include <cstdio>
#include <exception>
#include <string>

namespace halo::checkd {

namespace {

// The reporter is a plain function pointer (it must be noexcept and stateless), so the sink it
// writes to is reached through this.
LogSink* g_sink = nullptr;

void report_to_stderr(std::string_view callback, std::string_view what, const char* why_not_logged) noexcept
{
    std::fprintf(stderr, "<3>halo-checkd: error: %.*s failed: %.*s (%s)\n", static_cast<int>(callback.size()),
                 callback.data(), static_cast<int>(what.size()), what.data(), why_not_logged);
}

void report_to_log(std::string_view callback, std::string_view what) noexcept
{
    LogSink* sink = g_sink;
    if (!sink) {
        report_to_stderr(callback, what, "no daemon log");
        return;
    }
    // Formatting and logging allocate; a report that cannot be logged still reaches stderr.
    try {
        sink->daemon(LOG_ERR, fmt::format("{} failed: {}", callback, what), {{"HALO_CALLBACK", std::string(callback)}});
    } catch (const std::exception& e) {
        report_to_stderr(callback, what, e.what());
    } catch (...) {
        report_to_stderr(callback, what, "logging it failed");
    }
}

} // namespace

CallbackErrorsToLog::CallbackErrorsToLog(LogSink& sink) noexcept
{
    g_sink = &sink;
    set_callback_error_reporter(&report_to_log);
}

CallbackErrorsToLog::~CallbackErrorsToLog()
{
    set_callback_error_reporter(nullptr);
    g_sink = nullptr;
}

} // namespace halo::checkd
