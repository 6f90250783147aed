#pragma once
// Owning handles for the C objects the daemon uses (libsystemd, libcurl, file descriptors).
// Every deleter is stateless, so each handle is a plain std::unique_ptr the size of a pointer.
// Event sources are released with sd_event_source_disable_unref: an unref alone would leave a
// source that some other reference keeps firing into a destroyed object.

#include "probes/fd.hpp"

#include <curl/curl.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include <memory>
#include <utility>

namespace halo::daemon {

struct SdEventDeleter {
    void operator()(sd_event* e) const noexcept { sd_event_unref(e); }
};
struct SdEventSourceDeleter {
    void operator()(sd_event_source* s) const noexcept { sd_event_source_disable_unref(s); }
};
struct SdBusDeleter {
    // flush_close_unref: queued replies go out before the connection closes.
    void operator()(sd_bus* b) const noexcept { sd_bus_flush_close_unref(b); }
};
struct SdBusMessageDeleter {
    void operator()(sd_bus_message* m) const noexcept { sd_bus_message_unref(m); }
};
struct SdBusSlotDeleter {
    void operator()(sd_bus_slot* s) const noexcept { sd_bus_slot_unref(s); }
};
struct SdJournalDeleter {
    void operator()(sd_journal* j) const noexcept { sd_journal_close(j); }
};
struct CurlEasyDeleter {
    void operator()(CURL* c) const noexcept { curl_easy_cleanup(c); }
};
struct CurlMultiDeleter {
    void operator()(CURLM* m) const noexcept { curl_multi_cleanup(m); }
};
struct CurlSlistDeleter {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};

using SdEvent = std::unique_ptr<sd_event, SdEventDeleter>;
using SdEventSource = std::unique_ptr<sd_event_source, SdEventSourceDeleter>;
using SdBus = std::unique_ptr<sd_bus, SdBusDeleter>;
using SdBusMessage = std::unique_ptr<sd_bus_message, SdBusMessageDeleter>;
using SdBusSlot = std::unique_ptr<sd_bus_slot, SdBusSlotDeleter>;
using SdJournal = std::unique_ptr<sd_journal, SdJournalDeleter>;
using CurlEasy = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlMulti = std::unique_ptr<CURLM, CurlMultiDeleter>;
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

using Fd = probes::Fd;

} // namespace halo::daemon
