#pragma once
// LogMonitor: follows the kernel messages of the current boot in the journal (sd-journal driven
// by the sd-event loop: sd_journal_get_fd/get_events/process) and the engine's own output lines
// (fed by the supervisor), matches them against the rules' [[log_pattern]] entries, and reports
// coalesced LogEvents through a callback.
//
// Matching: patterns are tried in rule order and the first whose source fits, whose regex
// matches and whose `when` conditions all hold on the current facts wins; so an attributed entry
// (with `when`) placed before the generic one names the known cause ("MES 0x83 hang"). A line is
// matched on its first `max_line_bytes` only, so std::regex stays bounded on hostile input.
//
// Coalescing: the first match of a pattern opens a window of `coalesce_window_usec` (by the
// lines' own timestamps); later matches of that pattern inside the window only count. The event
// is delivered when the window closes (a timer on the loop, or a later line of that pattern past
// the window, or flush()), carrying the count and the first/last timestamps. While the journal
// backlog is still being read (bounded batches per loop iteration, so the loop stays responsive
// during a flood) windows are not closed by the timer.
//
// Reads: the journal (`journalctl -k -b` equivalent): local journal, or explicit files, or a
// directory; `_TRANSPORT=kernel` and `_BOOT_ID=<boot>`. Nothing else is touched.
// Introduced in 0.1.0.

#include "common/result.hpp"
#include "daemon/checkd/sd_handles.hpp"
#include "rules/facts.hpp"
#include "rules/rule.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace halo::checkd {

enum class LogOrigin { kernel, engine };
std::string_view to_string(LogOrigin origin) noexcept;

struct LogEvent {
    std::string pattern_id;
    rules::Severity severity = rules::Severity::warning;
    std::string title;
    std::string fix;
    std::string first_line;       // the first matching line (capped at max_line_bytes)
    std::uint64_t count = 0;      // matching lines coalesced into this event
    std::uint64_t first_usec = 0; // CLOCK_REALTIME µs of the first and last line
    std::uint64_t last_usec = 0;
    LogOrigin source = LogOrigin::kernel;
    bool attributed = false; // the pattern has `when` conditions and they held
    bool gpu_reset = false;  // a GPU reset / MES hang: the engine should be marked unhealthy
};

// True for the kernel lines that mean the GPU is being reset under running programs
// ("amdgpu: GPU reset begin", "MES failed to respond", "MES might be in unrecoverable state").
bool is_gpu_reset_line(std::string_view line) noexcept;

struct LogMonitorOptions {
    enum class Journal { none, local, files, directory };
    Journal journal = Journal::local;
    std::vector<std::string> journal_paths; // files (Journal::files) or one directory
    // Where to start: empty = the tail (only entries written from now on); "head" = every entry
    // (tests, one-shot scans); otherwise a cursor from cursor(): resume after that entry.
    std::string start_cursor;
    // Boot whose kernel messages to follow: empty = the current boot (sd_id128_get_boot);
    // "any" = no _BOOT_ID match.
    std::string boot_id;
    std::uint64_t coalesce_window_usec = 5'000'000;
    std::size_t max_line_bytes = 4096;
    std::size_t batch_entries = 64; // journal entries read per loop iteration (bounds its latency)
};

class LogMonitor {
public:
    using Callback = std::function<void(const LogEvent&)>;

    // Copies the log patterns of `rules`; `facts` attribute lines to known causes.
    LogMonitor(const rules::RuleSet& rules, rules::Facts facts, Callback on_event, LogMonitorOptions options = {});
    ~LogMonitor();
    LogMonitor(const LogMonitor&) = delete;
    LogMonitor& operator=(const LogMonitor&) = delete;

    // Opens the journal (unless Journal::none) and adds its sources to `event`. Without attach(),
    // feed_line()/flush() still work (no timer: windows close on flush() or on a later line).
    Result<void> attach(sd_event* event);

    // On reload or re-probe. Open windows keep what they were opened with.
    void set_rules(const rules::RuleSet& rules);
    void set_facts(rules::Facts facts);

    // One line of the engine's stdout/stderr (without the newline); `realtime_usec` 0 = now.
    void feed_engine_line(std::string_view line, std::uint64_t realtime_usec = 0) noexcept;
    // Any line; what the journal path uses for each entry.
    void feed_line(LogOrigin origin, std::string_view line, std::uint64_t realtime_usec) noexcept;

    // Delivers every open window now (shutdown, one-shot scans, tests).
    void flush() noexcept;

    // The matching pattern for one line, first match wins (pure apart from the cached `when`
    // results); nullptr when none.
    const rules::LogPattern* match(LogOrigin origin, std::string_view line);

    // The cursor of the last journal entry read ("" before any): persist it to resume.
    const std::string& cursor() const noexcept { return m_cursor; }
    std::uint64_t lines_seen() const noexcept { return m_lines_seen; }
    std::uint64_t journal_entries_read() const noexcept { return m_entries_read; }
    // True while a journal backlog is still being read in batches.
    bool catching_up() const noexcept { return m_backlog; }
    // Errors met inside loop callbacks (journal read failures, callback exceptions), latest last,
    // at most 16; the daemon logs them.
    const std::vector<std::string>& errors() const noexcept { return m_errors; }

private:
    struct Window {
        LogEvent event;
        std::uint64_t deadline_mono = 0; // loop time (CLOCK_MONOTONIC µs) to deliver at
    };

    static int on_journal_io(sd_event_source* s, int fd, std::uint32_t revents, void* userdata) noexcept;
    static int on_journal_timer(sd_event_source* s, std::uint64_t usec, void* userdata) noexcept;
    static int on_drain(sd_event_source* s, void* userdata) noexcept;
    static int on_window_timer(sd_event_source* s, std::uint64_t usec, void* userdata) noexcept;

    Result<void> open_journal();
    void process_journal();
    void drain_journal();
    void arm_journal_timer();
    void arm_window_timer();
    void close_due_windows();
    void deliver(Window& window) noexcept;
    void note_error(std::string message) noexcept;
    // The recovery of the journal callbacks: the error noted, the journal's timer armed again.
    void journal_failed(std::string_view verb, std::string_view what);
    std::uint64_t now_mono() const noexcept;

    std::vector<rules::LogPattern> m_patterns;
    rules::Facts m_facts;
    Callback m_on_event;
    LogMonitorOptions m_options;

    sd_event* m_event = nullptr;
    SdJournal m_journal;
    SdEventSource m_journal_io;
    SdEventSource m_journal_timer;
    SdEventSource m_drain;
    SdEventSource m_window_timer;

    std::map<std::string, Window, std::less<>> m_windows; // by pattern id
    std::string m_cursor;
    std::uint64_t m_lines_seen = 0;
    std::uint64_t m_entries_read = 0;
    bool m_backlog = false;
    std::vector<std::string> m_errors;
};

} // namespace halo::checkd
