#pragma once
// RAII owners for the sd-event and sd-journal handles the log monitor and the watchers hold.
// The C structs are only forward-declared so daemon headers stay free of <systemd/…>; the
// deleters are defined out of line in watch_handles.cpp. (To be folded into the shared
// daemon/sd_handles.hpp.)

#include <memory>

struct sd_event;
struct sd_event_source;
struct sd_journal;

namespace halo::daemon {

struct SdEventDeleter {
    void operator()(sd_event* e) const noexcept;
};
// Disables before unref, so a callback can never fire into a destroyed C++ object.
struct SdEventSourceDeleter {
    void operator()(sd_event_source* s) const noexcept;
};
struct SdJournalDeleter {
    void operator()(sd_journal* j) const noexcept;
};

using SdEventPtr = std::unique_ptr<sd_event, SdEventDeleter>;
using SdEventSourcePtr = std::unique_ptr<sd_event_source, SdEventSourceDeleter>;
using SdJournalPtr = std::unique_ptr<sd_journal, SdJournalDeleter>;

} // namespace halo::daemon
