#pragma once
// Sends what guarded C callbacks catch (callback_guard.hpp) to the daemon's log: LOG_ERR, the
// callback's name in the message and in HALO_CALLBACK=. Installed for as long as the object lives,
// so the reporter never outlives the sink it writes to, even when the Manager's constructor throws
// after installing it.

namespace halo::checkd {

class LogSink;

class CallbackErrorsToLog {
public:
    explicit CallbackErrorsToLog(LogSink& sink) noexcept;
    ~CallbackErrorsToLog();
    CallbackErrorsToLog(const CallbackErrorsToLog&) = delete;
    CallbackErrorsToLog& operator=(const CallbackErrorsToLog&) = delete;
};

} // namespace halo::checkd
