#include "daemon/watch_handles.hpp"

#include <systemd/sd-event.h>
#include <systemd/sd-journal.h>

namespace halo::daemon {

void SdEventDeleter::operator()(sd_event* e) const noexcept { sd_event_unref(e); }
void SdEventSourceDeleter::operator()(sd_event_source* s) const noexcept { sd_event_source_disable_unref(s); }
void SdJournalDeleter::operator()(sd_journal* j) const noexcept { sd_journal_close(j); }

} // namespace halo::daemon
