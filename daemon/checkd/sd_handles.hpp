#pragma once
// Owning handles for the C objects the daemon uses (libsystemd, libcurl, file descriptors).
// Every deleter is stateless, so each handle is a plain std::unique_ptr the size of a pointer.
// Event sources are released with sd_event_source_disable_unref: an unref alone would leave a
// source that some other reference keeps firing into a destroyed object.

#include "common/c_handle.hpp"
#include "common/fd.hpp"

#include <curl/curl.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <systemd/sd-journal.h>

namespace halo::checkd {

using SdEvent = CHandle<sd_event, sd_event_unref>;
using SdEventSource = CHandle<sd_event_source, sd_event_source_disable_unref>;
// flush_close_unref: queued replies go out before the connection closes.
using SdBus = CHandle<sd_bus, sd_bus_flush_close_unref>;
using SdBusMessage = CHandle<sd_bus_message, sd_bus_message_unref>;
using SdBusSlot = CHandle<sd_bus_slot, sd_bus_slot_unref>;
using SdJournal = CHandle<sd_journal, sd_journal_close>;
using CurlEasy = CHandle<CURL, curl_easy_cleanup>;
using CurlMulti = CHandle<CURLM, curl_multi_cleanup>;
using CurlSlist = CHandle<curl_slist, curl_slist_free_all>;

} // namespace halo::checkd
