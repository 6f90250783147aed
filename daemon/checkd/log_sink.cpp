#include "daemon/checkd/log_sink.hpp"

#include "common/clock.hpp"
#include "common/write_all.hpp"
#include <fmt/core.h>
#include <nlohmann/json.hpp>
#include <systemd/sd-id128.h>

#include <fcntl.h>
#include <sys/uio.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <vector>

namespace halo::checkd {

namespace {

// A full or closed log is not worth dying for: what could not be written is dropped.
void write_log(int fd, std::string_view text) noexcept { (void)write_all(fd, text); }

std::string one_line(std::string_view s)
{
    std::string out(s);
    for (char& c : out) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    return out;
}

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

int letter_priority(char letter) noexcept
{
    switch (letter) {
    case 'E': return LOG_ERR;
    case 'W': return LOG_WARNING;
    case 'D': return LOG_DEBUG;
    default: return LOG_INFO;
    }
}

// --log-jsonl: {"type":"log","time":4384,"level":"error","msg":"…"}
int json_line_priority(std::string_view line)
{
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) return LOG_INFO;
    const auto level = j.find("level");
    if (level == j.end() || !level->is_string()) return LOG_INFO;
    const auto& name = level->get_ref<const std::string&>();
    if (name == "error") return LOG_ERR;
    if (name == "warn" || name == "warning") return LOG_WARNING;
    if (name == "debug") return LOG_DEBUG;
    return LOG_INFO;
}

} // namespace

int engine_line_priority(std::string_view line) noexcept
{
    if (line.starts_with("{\"type\":\"log\"")) {
        try {
            return json_line_priority(line);
        } catch (const std::exception&) {
            return LOG_INFO; // out of memory parsing one line: it is still worth logging
        }
    }
    // The elapsed time, "0.00.163.365 ", when there is one: digits with at least one dot.
    std::size_t i = 0;
    bool dot = false;
    for (; i < line.size() && (is_digit(line[i]) || (i > 0 && line[i] == '.')); ++i) {
        if (line[i] == '.') dot = true;
    }
    if (i > 0) {
        if (!dot || i >= line.size() || line[i] != ' ') return LOG_INFO;
        ++i;
    }
    const bool letter = i < line.size() && std::string_view("EWID").find(line[i]) != std::string_view::npos;
    const bool alone = i + 1 == line.size() || (i + 1 < line.size() && line[i + 1] == ' ');
    return letter && alone ? letter_priority(line[i]) : LOG_INFO;
}

LogSink::LogSink(std::optional<std::string> export_path) : m_export_path(std::move(export_path))
{
    // systemd sets JOURNAL_STREAM=dev:inode when stderr is a journal stream; only then is
    // sd_journal_send the same destination as stderr, with fields on top.
    const char* js = std::getenv("JOURNAL_STREAM");
    m_journal_stderr = js && *js;
    if (m_export_path) {
        m_export.reset(::open(m_export_path->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
        if (!m_export) {
            write_log(STDERR_FILENO, fmt::format("<4>halo-checkd: Failed to open journal export file '{}': {}; "
                                                 "entries go to stderr only\n",
                                                 *m_export_path, std::strerror(errno)));
        }
    }
    sd_id128_t boot{};
    if (sd_id128_get_boot(&boot) >= 0) {
        char s[SD_ID128_STRING_MAX];
        m_boot_id = sd_id128_to_string(boot, s);
    }
}

void LogSink::export_entry(std::string_view identifier, int priority, std::string_view message,
                           const std::map<std::string, std::string>& fields)
{
    if (!m_export) return;
    std::string entry = fmt::format("__REALTIME_TIMESTAMP={}\n__MONOTONIC_TIMESTAMP={}\n", clock_usec(CLOCK_REALTIME),
                                    clock_usec(CLOCK_MONOTONIC));
    if (!m_boot_id.empty()) entry += fmt::format("_BOOT_ID={}\n", m_boot_id);
    entry += fmt::format("_PID={}\nSYSLOG_IDENTIFIER={}\nPRIORITY={}\nMESSAGE={}\n", getpid(), identifier, priority,
                         one_line(message));
    for (const auto& [k, v] : fields) entry += fmt::format("{}={}\n", k, one_line(v));
    entry += "\n";
    write_log(m_export.get(), entry);
}

void LogSink::daemon(int priority, std::string_view message, const std::map<std::string, std::string>& fields)
{
    export_entry("halo-checkd", priority, message, fields);
    if (m_journal_stderr) {
        std::vector<std::string> strings;
        strings.push_back(fmt::format("MESSAGE={}", message));
        strings.push_back(fmt::format("PRIORITY={}", priority));
        strings.emplace_back("SYSLOG_IDENTIFIER=halo-checkd");
        for (const auto& [k, v] : fields) strings.push_back(fmt::format("{}={}", k, v));
        std::vector<iovec> iov;
        iov.reserve(strings.size());
        for (std::string& s : strings) iov.push_back({s.data(), s.size()});
        if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0) return;
    }
    write_log(STDERR_FILENO, fmt::format("<{}>{}\n", priority, one_line(message)));
}

void LogSink::record(const JournalRecord& record)
{
    const std::vector<std::string> fields = journal_fields(record);
    if (m_export) {
        std::string entry = fmt::format("__REALTIME_TIMESTAMP={}\n__MONOTONIC_TIMESTAMP={}\n",
                                        clock_usec(CLOCK_REALTIME), clock_usec(CLOCK_MONOTONIC));
        if (!m_boot_id.empty()) entry += fmt::format("_BOOT_ID={}\n", m_boot_id);
        entry += fmt::format("_PID={}\n", getpid());
        for (const std::string& f : fields) {
            const std::size_t eq = f.find('=');
            if (eq == std::string::npos) continue;
            const std::string_view value = std::string_view(f).substr(eq + 1);
            if (value.find('\n') == std::string_view::npos) {
                entry += f + '\n';
                continue;
            }
            entry.append(f, 0, eq);
            entry += '\n';
            std::uint64_t size = value.size();
            for (int i = 0; i < 8; ++i) entry += static_cast<char>((size >> (8 * i)) & 0xff);
            entry += value;
            entry += '\n';
        }
        entry += '\n';
        write_log(m_export.get(), entry);
    }
    if (m_journal_stderr) {
        std::vector<std::string> strings = fields;
        std::vector<iovec> iov;
        iov.reserve(strings.size());
        for (std::string& f : strings) iov.push_back({f.data(), f.size()});
        if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0) return;
    }
    write_log(STDERR_FILENO, record_line(record));
}

std::string record_line(const JournalRecord& record)
{
    const bool named = record.rule.empty() || record.message.find(record.rule) != std::string::npos;
    return fmt::format("<{}>{}{}\n", record.priority, one_line(record.message), named ? "" : " [" + record.rule + "]");
}

void LogSink::open_engine_stream(const std::string& identifier)
{
    m_engine_identifier = identifier;
    m_stream.reset();
    // level_prefix: each line we write starts with its own "<N>" priority.
    const int fd = sd_journal_stream_fd(identifier.c_str(), LOG_INFO, 1);
    if (fd >= 0) {
        m_stream.reset(fd);
        // A stalled journald must not stall the event loop: drop lines instead.
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
}

void LogSink::engine_line(std::string_view line)
{
    const int priority = engine_line_priority(line);
    export_entry(m_engine_identifier, priority, line, {});
    if (m_stream) {
        std::string text = fmt::format("<{}>{}\n", priority, line);
        const ssize_t n = ::write(m_stream.get(), text.data(), text.size());
        if (n >= 0 || errno == EAGAIN) return;
        m_stream.reset(); // journald went away: fall back to stderr
    }
    write_log(STDERR_FILENO, fmt::format("<{}>{}: {}\n", priority, m_engine_identifier, one_line(line)));
}

} // namespace halo::checkd
