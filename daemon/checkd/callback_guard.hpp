#pragma once
// The one way into our code from a C library's callback (sd-event, sd-bus, libcurl). An
// exception must not cross the C frames above it, and must not vanish either: guard_callback
// catches it, reports it with the callback's name to the daemon's log (the reporter the manager
// installs), runs the caller's recovery step so the state stays consistent, and returns the
// caller's error value to the loop. A recovery step that takes a std::string_view is given the
// exception's message, so the state it records can say what went wrong.
//
//   return guard_callback("supervisor.on_child", 0, [&] { self->on_exit(*si); return 0; },
//                         [&](std::string_view what) { self->fail_internally("on_child", what); });

#include <exception>
#include <string_view>
#include <type_traits>

namespace halo::checkd {

// Where guarded callbacks report what they caught. Never throws; the default writes a
// journal-prefixed line to stderr.
using CallbackErrorReporter = void (*)(std::string_view callback, std::string_view what) noexcept;
void set_callback_error_reporter(CallbackErrorReporter reporter) noexcept;
void report_callback_error(std::string_view callback, std::string_view what) noexcept;

struct NoRecovery {
    void operator()() const noexcept {}
};

namespace detail {

template <typename R, typename Recover>
R recover_from(std::string_view name, std::string_view what, R on_error, Recover& recover) noexcept
{
    report_callback_error(name, what);
    try {
        if constexpr (std::is_invocable_v<Recover&, std::string_view>) recover(what);
        else recover();
    } catch (...) {
        report_callback_error(name, "its recovery step failed too");
    }
    return on_error;
}

} // namespace detail

template <typename R, typename Body, typename Recover = NoRecovery>
R guard_callback(std::string_view name, R on_error, Body&& body, Recover&& recover = {}) noexcept
{
    try {
        if constexpr (std::is_void_v<std::invoke_result_t<Body>>) {
            body();
            return R{};
        } else {
            return body();
        }
    } catch (const std::exception& e) {
        // Recovered inside the handler: the message lives only as long as the exception.
        return detail::recover_from(name, e.what(), on_error, recover);
    } catch (...) {
        return detail::recover_from(name, "an exception of unknown type", on_error, recover);
    }
}

} // namespace halo::checkd
