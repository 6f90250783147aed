#pragma once
// Structured journal entries for halo-checkd's events: the fields (MESSAGE_ID=, HALO_RULE=,
// HALO_VERDICT=, HALO_COUNT=, PRIORITY=, …) are built by a pure function so tests check them, and
// sent through a JournalSink so tests capture them (sd_journal_send silently drops entries where
// no journald runs). The MESSAGE_IDs and fields are documented in docs/journal.md.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace halo::checkd {

struct LogEvent;

// One kind of event = one fixed MESSAGE_ID (never change a published id).
enum class JournalEventKind {
    log_pattern,       // a [[log_pattern]] matched kernel or engine output
    gpu_reset,         // the GPU was reset / MES stopped responding
    verdict_changed,   // the verdict of the "now" view changed
    next_boot_changed, // the verdict of the "after reboot" view changed
    rules_reloaded,    // rules or config reloaded after a change
    rules_rejected,    // a reload failed; the last good set stays in use
    engine_state,      // the supervisor's engine state changed
    system_changed,    // the watchers saw packages/boot/containers/devices change
    speed_regression,  // the smoke tests' median speed fell below the regression threshold
    engine_api_failed, // an engine API check (Claude Code's requests) turned fail
};

// "3f4a…" (32 lowercase hex digits, no dashes), as journalctl MESSAGE_ID= matches it.
std::string_view message_id(JournalEventKind kind) noexcept;
std::string_view to_string(JournalEventKind kind) noexcept;

struct JournalRecord {
    JournalEventKind kind = JournalEventKind::log_pattern;
    std::string message;                // MESSAGE=, one human sentence
    int priority = 6;                   // PRIORITY= (syslog: 2 crit, 3 err, 4 warning, 5 notice, 6 info)
    std::string rule;                   // HALO_RULE= (rule or log pattern id), omitted when empty
    std::string verdict;                // HALO_VERDICT= ("ok", "warning", "broken", "unknown"), omitted when empty
    std::optional<std::uint64_t> count; // HALO_COUNT=
    // More fields; names are upper-cased and anything outside [A-Z0-9_] becomes '_', a leading
    // '_' (trusted fields are journald's own) is dropped.
    std::vector<std::pair<std::string, std::string>> extra;
};

// "KEY=value" strings in a fixed order: MESSAGE_ID, MESSAGE, PRIORITY, SYSLOG_IDENTIFIER,
// HALO_EVENT, then HALO_RULE, HALO_VERDICT, HALO_COUNT when set, then extra. Values may hold
// newlines (sd_journal_sendv sends them in the binary-safe form).
std::vector<std::string> journal_fields(const JournalRecord& record);

// The record for a (coalesced) log event: kind gpu_reset when the event is flagged so, else
// log_pattern; priority from the severity (broken → 3, warning → 4, info → 6; a GPU reset → 2);
// HALO_COUNT = lines coalesced; extra HALO_SOURCE, HALO_LINE (the first line), HALO_FIX,
// HALO_FIRST_USEC / HALO_LAST_USEC (realtime µs).
JournalRecord journal_record(const LogEvent& event);

// A valid journal field name: 1–64 chars of [A-Z0-9_], not starting with '_' or a digit.
bool valid_journal_field_name(std::string_view name) noexcept;

class JournalSink {
public:
    virtual ~JournalSink() = default;
    // Sends one entry; returns 0 or a negative errno. Never throws.
    virtual int send(const std::vector<std::string>& fields) noexcept = 0;
};

// The system journal through sd_journal_sendv.
class SystemJournalSink final : public JournalSink {
public:
    int send(const std::vector<std::string>& fields) noexcept override;
};

// Keeps the entries (tests, `--no-journal` dry runs).
class CaptureJournalSink final : public JournalSink {
public:
    int send(const std::vector<std::string>& fields) noexcept override;
    std::vector<std::vector<std::string>> entries;
};

} // namespace halo::checkd
