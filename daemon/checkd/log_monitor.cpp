#include "daemon/checkd/log_monitor.hpp"

#include "common/clock.hpp"
#include "daemon/checkd/callback_guard.hpp"
#include "rules/log_match.hpp"

#include "rules/condition.hpp"

#include <fmt/core.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>
#include <systemd/sd-journal.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <limits>
#include <regex>
#include <utility>

namespace halo::checkd {

namespace {

constexpr std::uint64_t k_usec_infinity = std::numeric_limits<std::uint64_t>::max();
constexpr std::size_t k_max_errors = 16;

bool contains(std::string_view haystack, std::string_view needle) noexcept
{
    return haystack.find(needle) != std::string_view::npos;
}

std::string errno_text(int negative_errno) { return std::strerror(-negative_errno); }

} // namespace

std::string_view to_string(LogOrigin origin) noexcept { return origin == LogOrigin::kernel ? "kernel" : "engine"; }

bool is_gpu_reset_line(std::string_view line) noexcept
{
    return contains(line, "GPU reset begin") || contains(line, "MES failed to respond") ||
           contains(line, "MES might be in unrecoverable state");
}

LogMonitor::LogMonitor(const rules::RuleSet& rules, rules::Facts facts, Callback on_event, LogMonitorOptions options)
    : m_facts(std::move(facts)), m_on_event(std::move(on_event)), m_options(std::move(options))
{
    set_rules(rules);
}

LogMonitor::~LogMonitor() = default;

void LogMonitor::set_rules(const rules::RuleSet& rules) { m_patterns = rules.log_patterns; }

void LogMonitor::set_facts(rules::Facts facts) { m_facts = std::move(facts); }

const rules::LogPattern* LogMonitor::match(LogOrigin origin, std::string_view line)
{
    const auto wanted = origin == LogOrigin::kernel ? rules::LogSource::kernel : rules::LogSource::engine;
    return rules::match_log_line(m_patterns, wanted, line.substr(0, m_options.max_line_bytes), m_facts);
}

void LogMonitor::feed_engine_line(std::string_view line, std::uint64_t realtime_usec) noexcept
{
    feed_line(LogOrigin::engine, line, realtime_usec);
}

void LogMonitor::feed_line(LogOrigin origin, std::string_view line, std::uint64_t realtime_usec) noexcept
{
    try {
        ++m_lines_seen;
        if (realtime_usec == 0) realtime_usec = clock_usec(CLOCK_REALTIME);
        line = line.substr(0, m_options.max_line_bytes);
        const auto wanted = origin == LogOrigin::kernel ? rules::LogSource::kernel : rules::LogSource::engine;
        const std::optional<rules::LogMatch> m = rules::explain_log_line(m_patterns, wanted, line, m_facts);
        if (!m) return;
        const rules::LogPattern* p = m->pattern;
        const bool reset = (origin == LogOrigin::kernel && is_gpu_reset_line(line)) || p->id == "log.gpu-reset";

        auto it = m_windows.find(p->id);
        if (it != m_windows.end() && realtime_usec >= it->second.event.first_usec + m_options.coalesce_window_usec) {
            Window done = std::move(it->second);
            m_windows.erase(it);
            deliver(done);
            it = m_windows.end();
        }
        if (it != m_windows.end()) {
            auto& e = it->second.event;
            ++e.count;
            e.last_usec = std::max(e.last_usec, realtime_usec);
            e.gpu_reset = e.gpu_reset || reset;
            return;
        }
        Window w;
        w.event.pattern_id = p->id;
        w.event.severity = p->severity;
        w.event.title = m->title; // the first line's: a window's later lines only count
        w.event.fix = p->fix;
        w.event.first_line = std::string(line);
        w.event.count = 1;
        w.event.first_usec = w.event.last_usec = realtime_usec;
        w.event.source = origin;
        w.event.attributed = !p->when.empty();
        w.event.gpu_reset = reset;
        w.deadline_mono = now_mono() + m_options.coalesce_window_usec;
        m_windows.emplace(p->id, std::move(w));
        arm_window_timer();
    } catch (const std::exception& e) {
        note_error(fmt::format("Failed to match a log line: {}", e.what()));
    }
}

void LogMonitor::flush() noexcept
{
    while (!m_windows.empty()) {
        Window w = std::move(m_windows.begin()->second);
        m_windows.erase(m_windows.begin());
        deliver(w);
    }
    arm_window_timer();
}

void LogMonitor::deliver(Window& window) noexcept
{
    if (!m_on_event) return;
    try {
        m_on_event(window.event);
    } catch (const std::exception& e) {
        note_error(fmt::format("Log event handler for '{}' failed: {}", window.event.pattern_id, e.what()));
    } catch (...) {
        note_error(fmt::format("Log event handler for '{}' failed", window.event.pattern_id));
    }
}

void LogMonitor::note_error(std::string message) noexcept
{
    try {
        if (m_errors.size() >= k_max_errors) m_errors.erase(m_errors.begin());
        m_errors.push_back(std::move(message));
    } catch (...) {
        // No room to keep it for errors(): it goes to the daemon's log at once instead.
        report_callback_error("log_monitor", message);
    }
}

std::uint64_t LogMonitor::now_mono() const noexcept
{
    std::uint64_t t = 0;
    if (m_event && sd_event_now(m_event, CLOCK_MONOTONIC, &t) >= 0) return t;
    return clock_usec(CLOCK_MONOTONIC);
}

// ---- windows on the loop ----

void LogMonitor::arm_window_timer()
{
    if (!m_event) return;
    if (m_windows.empty()) {
        if (m_window_timer) sd_event_source_set_enabled(m_window_timer.get(), SD_EVENT_OFF);
        return;
    }
    std::uint64_t deadline = k_usec_infinity;
    for (const auto& [id, w] : m_windows) deadline = std::min(deadline, w.deadline_mono);
    if (m_backlog) deadline = std::max(deadline, now_mono() + 10'000); // re-check once caught up
    if (!m_window_timer) {
        sd_event_source* s = nullptr;
        int r = sd_event_add_time(m_event, &s, CLOCK_MONOTONIC, deadline, 1000, on_window_timer, this);
        if (r < 0) {
            note_error(fmt::format("Failed to add the log window timer: {}", errno_text(r)));
            return;
        }
        m_window_timer.reset(s);
        sd_event_source_set_description(s, "log-window");
    } else {
        sd_event_source_set_time(m_window_timer.get(), deadline);
    }
    sd_event_source_set_enabled(m_window_timer.get(), SD_EVENT_ONESHOT);
}

void LogMonitor::close_due_windows()
{
    if (!m_backlog) {
        const std::uint64_t now = now_mono();
        std::vector<std::string> due;
        for (const auto& [id, w] : m_windows)
            if (w.deadline_mono <= now) due.push_back(id);
        for (const auto& id : due) {
            auto it = m_windows.find(id);
            if (it == m_windows.end()) continue;
            Window w = std::move(it->second);
            m_windows.erase(it);
            deliver(w);
        }
    }
    arm_window_timer();
}

int LogMonitor::on_window_timer(sd_event_source*, std::uint64_t, void* userdata) noexcept
{
    auto* self = static_cast<LogMonitor*>(userdata);
    // Windows left open stay whole: the next line of their pattern or flush() delivers them.
    return guard_callback(
        "log_monitor.on_window_timer", 0, [self] { self->close_due_windows(); },
        [self](std::string_view what) { self->note_error(fmt::format("Failed to close log windows: {}", what)); });
}

// ---- the journal ----

Result<void> LogMonitor::attach(sd_event* event)
{
    m_event = event;
    sd_event_source* s = nullptr;
    int r = sd_event_add_defer(event, &s, on_drain, this);
    if (r < 0) return Error{fmt::format("Failed to add the journal drain source: {}", errno_text(r)), -r};
    m_drain.reset(s);
    sd_event_source_set_description(s, "journal-drain");
    // A flood is read in batches at idle priority: everything else on the loop goes first.
    sd_event_source_set_priority(s, SD_EVENT_PRIORITY_IDLE);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    if (m_options.journal != LogMonitorOptions::Journal::none) {
        HALO_TRY(open_journal());
        m_backlog = true; // "head" or an older cursor may leave entries to read: drain once
        sd_event_source_set_enabled(m_drain.get(), SD_EVENT_ONESHOT);
    }
    arm_window_timer();
    return {};
}

Result<void> LogMonitor::open_journal()
{
    sd_journal* j = nullptr;
    int r = 0;
    std::string what;
    switch (m_options.journal) {
    case LogMonitorOptions::Journal::local:
        what = "the local journal";
        r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        break;
    case LogMonitorOptions::Journal::files: {
        if (m_options.journal_paths.empty()) return Error{"No journal files given"};
        std::vector<const char*> paths;
        for (const auto& p : m_options.journal_paths) paths.push_back(p.c_str());
        paths.push_back(nullptr);
        what = fmt::format("journal file '{}'", m_options.journal_paths.front());
        r = sd_journal_open_files(&j, paths.data(), 0);
        break;
    }
    case LogMonitorOptions::Journal::directory:
        if (m_options.journal_paths.size() != 1) return Error{"Exactly one journal directory must be given"};
        what = fmt::format("journal directory '{}'", m_options.journal_paths.front());
        r = sd_journal_open_directory(&j, m_options.journal_paths.front().c_str(), 0);
        break;
    case LogMonitorOptions::Journal::none: return {};
    }
    if (r < 0) return Error{fmt::format("Failed to open {}: {}", what, errno_text(r)), -r};
    m_journal.reset(j);

    // MESSAGE= prefix plus the line cap: longer fields may come back truncated, which is the point.
    (void)sd_journal_set_data_threshold(j, m_options.max_line_bytes + 8);

    std::string boot = m_options.boot_id;
    if (boot.empty()) {
        sd_id128_t id;
        r = sd_id128_get_boot(&id);
        if (r < 0) return Error{fmt::format("Failed to read the boot id: {}", errno_text(r)), -r};
        char text[SD_ID128_STRING_MAX];
        boot = sd_id128_to_string(id, text);
    }
    r = sd_journal_add_match(j, "_TRANSPORT=kernel", 0);
    if (r >= 0 && boot != "any") {
        r = sd_journal_add_conjunction(j);
        const std::string m = "_BOOT_ID=" + boot;
        if (r >= 0) r = sd_journal_add_match(j, m.data(), m.size());
    }
    if (r < 0) return Error{fmt::format("Failed to add journal matches: {}", errno_text(r)), -r};

    // The fd must exist before reading, so files appearing later are noticed.
    const int fd = sd_journal_get_fd(j);
    if (fd < 0) return Error{fmt::format("Failed to watch {}: {}", what, errno_text(fd)), -fd};
    const int events = sd_journal_get_events(j);
    if (events < 0) return Error{fmt::format("Failed to watch {}: {}", what, errno_text(events)), -events};

    if (m_options.start_cursor == "head") {
        r = sd_journal_seek_head(j);
    } else if (!m_options.start_cursor.empty()) {
        r = sd_journal_seek_cursor(j, m_options.start_cursor.c_str());
        if (r >= 0 && sd_journal_next(j) > 0 && sd_journal_test_cursor(j, m_options.start_cursor.c_str()) <= 0)
            (void)sd_journal_previous(j); // the cursor's entry is gone: read from the one found
    } else {
        r = sd_journal_seek_tail(j);
        if (r >= 0) (void)sd_journal_previous(j); // stand on the last entry: next() yields only new ones
    }
    if (r < 0) return Error{fmt::format("Failed to seek in {}: {}", what, errno_text(r)), -r};

    sd_event_source* s = nullptr;
    r = sd_event_add_io(m_event, &s, fd, static_cast<std::uint32_t>(events), on_journal_io, this);
    if (r < 0) return Error{fmt::format("Failed to add {} to the event loop: {}", what, errno_text(r)), -r};
    m_journal_io.reset(s);
    sd_event_source_set_description(s, "journal");
    arm_journal_timer();
    return {};
}

void LogMonitor::arm_journal_timer()
{
    if (!m_journal) return;
    std::uint64_t t = k_usec_infinity;
    if (sd_journal_get_timeout(m_journal.get(), &t) < 0 || t == k_usec_infinity) {
        if (m_journal_timer) sd_event_source_set_enabled(m_journal_timer.get(), SD_EVENT_OFF);
        return;
    }
    if (!m_journal_timer) {
        sd_event_source* s = nullptr;
        if (sd_event_add_time(m_event, &s, CLOCK_MONOTONIC, t, 1000, on_journal_timer, this) < 0) return;
        m_journal_timer.reset(s);
    } else {
        sd_event_source_set_time(m_journal_timer.get(), t);
    }
    sd_event_source_set_enabled(m_journal_timer.get(), SD_EVENT_ONESHOT);
}

void LogMonitor::process_journal()
{
    const int r = sd_journal_process(m_journal.get());
    if (r < 0) note_error(fmt::format("Failed to process journal changes: {}", errno_text(r)));
    drain_journal();
    arm_journal_timer();
}

void LogMonitor::drain_journal()
{
    if (!m_journal) return;
    sd_journal* j = m_journal.get();
    std::size_t n = 0;
    bool more = false;
    for (; n < m_options.batch_entries; ++n) {
        const int r = sd_journal_next(j);
        if (r < 0) {
            note_error(fmt::format("Failed to read the journal: {}", errno_text(r)));
            break;
        }
        if (r == 0) break;
        ++m_entries_read;
        const void* data = nullptr;
        std::size_t len = 0;
        if (sd_journal_get_data(j, "MESSAGE", &data, &len) < 0 || len < 8) continue;
        std::string_view message(static_cast<const char*>(data) + 8, len - 8);
        std::uint64_t usec = 0;
        (void)sd_journal_get_realtime_usec(j, &usec);
        feed_line(LogOrigin::kernel, message, usec == 0 ? 1 : usec);
    }
    more = n == m_options.batch_entries;
    if (n > 0) {
        char* c = nullptr;
        if (sd_journal_get_cursor(j, &c) >= 0 && c) {
            m_cursor = c;
            std::free(c);
        }
    }
    m_backlog = more;
    if (more) {
        sd_event_source_set_enabled(m_drain.get(), SD_EVENT_ONESHOT);
    } else if (!m_windows.empty()) {
        arm_window_timer(); // caught up: due windows close now
    }
}

// The journal keeps its read position: entries not read now are read at its next wakeup or
// drain, so a failure costs latency, not lines.
int LogMonitor::on_journal_io(sd_event_source*, int, std::uint32_t, void* userdata) noexcept
{
    auto* self = static_cast<LogMonitor*>(userdata);
    return guard_callback(
        "log_monitor.on_journal_io", 0, [self] { self->process_journal(); },
        [self](std::string_view what) { self->journal_failed("follow", what); });
}

int LogMonitor::on_journal_timer(sd_event_source*, std::uint64_t, void* userdata) noexcept
{
    auto* self = static_cast<LogMonitor*>(userdata);
    return guard_callback(
        "log_monitor.on_journal_timer", 0, [self] { self->process_journal(); },
        [self](std::string_view what) { self->journal_failed("follow", what); });
}

int LogMonitor::on_drain(sd_event_source*, void* userdata) noexcept
{
    auto* self = static_cast<LogMonitor*>(userdata);
    return guard_callback(
        "log_monitor.on_drain", 0, [self] { self->drain_journal(); },
        [self](std::string_view what) { self->journal_failed("read", what); });
}

void LogMonitor::journal_failed(std::string_view verb, std::string_view what)
{
    note_error(fmt::format("Failed to {} the journal: {}", verb, what));
    // The timer may not have been re-armed on the way out: sd-journal's next deadline still counts.
    arm_journal_timer();
}

} // namespace halo::checkd
