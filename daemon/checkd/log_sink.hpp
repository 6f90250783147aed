#pragma once
// Where the daemon's own messages and the engine's output lines go.
//  - Daemon messages: with structured fields through sd_journal_send when systemd connected our
//    stderr to the journal ($JOURNAL_STREAM set), otherwise to stderr with the sd-daemon level
//    prefix ("<4>…"), which journald also understands.
//  - Engine lines: to a journal stream (sd_journal_stream_fd) with the engine's name as
//    SYSLOG_IDENTIFIER and the priority engine_line_priority() reads off the line; when there is
//    no journald (containers, CI), to stderr as "<N>NAME: line".
//  - Optionally every entry also goes, in the Journal Export Format, to a file
//    (--journal-export FILE); systemd-journal-remote turns it into a .journal file that
//    journalctl reads. That is how the tests prove the fields without a running journald.

#include "daemon/checkd/journal_event.hpp"
#include "daemon/checkd/sd_handles.hpp"

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace halo::checkd {

// The journal priority of one line of llama-server's output, from the level letter llama.cpp's
// log puts after the elapsed time ("0.00.163.365 E srv …": E err, W warning, I info, D debug;
// also without the time, --no-log-timestamps) or from the "level" of a --log-jsonl line. A line
// without a level (usage text, a wrapper's message) is info.
int engine_line_priority(std::string_view line) noexcept;

// A record as one stderr line, "<PRIORITY>message [rule]": the rule is added only when the
// message does not name it already ("Verdict now broken (was ok): engine.model-unreadable").
std::string record_line(const JournalRecord& record);

class LogSink {
public:
    explicit LogSink(std::optional<std::string> export_path = std::nullopt);

    // `fields`: extra journal fields, upper-case names ("HALO_ENGINE_STATE" → "ready").
    void daemon(int priority, std::string_view message, const std::map<std::string, std::string>& fields = {});
    // A structured event (docs/journal.md): to the journal with its fields, to stderr as one
    // line, and to the export file (multi-line values in the format's binary-safe form).
    void record(const JournalRecord& record);
    // Opens the engine's journal stream for a new process (identifier = the engine's name).
    void open_engine_stream(const std::string& identifier);
    void engine_line(std::string_view line);
    bool engine_stream_is_journal() const { return m_stream.valid(); }

private:
    void export_entry(std::string_view identifier, int priority, std::string_view message,
                      const std::map<std::string, std::string>& fields);

    std::optional<std::string> m_export_path;
    Fd m_export;
    Fd m_stream;
    std::string m_engine_identifier = "engine";
    bool m_journal_stderr = false;
    std::string m_boot_id;
};

} // namespace halo::checkd
