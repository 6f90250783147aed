#include "daemon/checkd/journal_event.hpp"

#include "daemon/checkd/log_monitor.hpp"

#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <fmt/core.h>
#include <systemd/sd-journal.h>

#include <sys/uio.h>

#include <cerrno>

namespace halo::checkd {

std::string_view message_id(JournalEventKind kind) noexcept
{
    // Generated once with `journalctl --new-id128`; published in docs/journal.md. Never change.
    switch (kind) {
    case JournalEventKind::log_pattern: return "4664376ec99744f888801a1f9b36d5be";
    case JournalEventKind::gpu_reset: return "20508c22c1bb44c298d67d99901013fb";
    case JournalEventKind::verdict_changed: return "7b32afa89e5b4c72930aa4e21c9f81ae";
    case JournalEventKind::next_boot_changed: return "ceb1df9571b74748b43d1b1c60485666";
    case JournalEventKind::rules_reloaded: return "cd052f9d5e0f4bc9b3b9ab359310c981";
    case JournalEventKind::rules_rejected: return "b9c6765147824acf82ee28456b916fac";
    case JournalEventKind::engine_state: return "ea955e63b7c14e0eb9847d359b401870";
    case JournalEventKind::system_changed: return "8d7f0de94732404ea751a3aa476f7d44";
    case JournalEventKind::speed_regression: return "203254bef19a44048a5ced44496de556";
    case JournalEventKind::engine_api_failed: return "723bf6c3ed0f41b1a1c236c9db84d72d";
    }
    return "00000000000000000000000000000000";
}

std::string_view to_string(JournalEventKind kind) noexcept
{
    switch (kind) {
    case JournalEventKind::log_pattern: return "log-pattern";
    case JournalEventKind::gpu_reset: return "gpu-reset";
    case JournalEventKind::verdict_changed: return "verdict-changed";
    case JournalEventKind::next_boot_changed: return "next-boot-changed";
    case JournalEventKind::rules_reloaded: return "rules-reloaded";
    case JournalEventKind::rules_rejected: return "rules-rejected";
    case JournalEventKind::engine_state: return "engine-state";
    case JournalEventKind::system_changed: return "system-changed";
    case JournalEventKind::speed_regression: return "speed-regression";
    case JournalEventKind::engine_api_failed: return "engine-api-failed";
    }
    return "unknown";
}

bool valid_journal_field_name(std::string_view name) noexcept
{
    if (name.empty() || name.size() > 64 || name[0] == '_' || (name[0] >= '0' && name[0] <= '9')) return false;
    for (char c : name)
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

namespace {

std::string field_name(std::string_view raw)
{
    std::string out;
    for (char c : raw) {
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        out += ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) ? c : '_';
    }
    while (!out.empty() && (out[0] == '_' || (out[0] >= '0' && out[0] <= '9'))) out.erase(0, 1);
    if (out.size() > 64) out.resize(64);
    return out;
}

} // namespace

std::vector<std::string> journal_fields(const JournalRecord& record)
{
    std::vector<std::string> f;
    f.push_back(fmt::format("MESSAGE_ID={}", message_id(record.kind)));
    f.push_back("MESSAGE=" + record.message);
    f.emplace_back(fmt::format("PRIORITY={}", record.priority < 0 ? 0 : record.priority > 7 ? 7 : record.priority));
    f.emplace_back("SYSLOG_IDENTIFIER=halo-checkd");
    f.push_back(fmt::format("HALO_EVENT={}", to_string(record.kind)));
    if (!record.rule.empty()) f.push_back("HALO_RULE=" + record.rule);
    if (!record.verdict.empty()) f.push_back("HALO_VERDICT=" + record.verdict);
    if (record.count) f.push_back(fmt::format("HALO_COUNT={}", *record.count));
    for (const auto& [key, value] : record.extra) {
        std::string name = field_name(key);
        if (!valid_journal_field_name(name)) continue;
        f.push_back(name + "=" + value);
    }
    return f;
}

JournalRecord journal_record(const LogEvent& event)
{
    JournalRecord r;
    r.kind = event.gpu_reset ? JournalEventKind::gpu_reset : JournalEventKind::log_pattern;
    r.rule = event.pattern_id;
    r.verdict = std::string(rules::to_string(event.severity));
    r.count = event.count;
    if (event.gpu_reset) {
        r.priority = 2;
    } else {
        switch (event.severity) {
        case rules::Severity::broken: r.priority = 3; break;
        case rules::Severity::warning: r.priority = 4; break;
        case rules::Severity::info: r.priority = 6; break;
        }
    }
    r.message = event.count > 1 ? fmt::format("{} ({} {} lines)", event.title, event.count, to_string(event.source))
                                : event.title;
    r.extra = {{"HALO_SOURCE", std::string(to_string(event.source))},
               {"HALO_LINE", event.first_line},
               {"HALO_FIX", event.fix},
               {"HALO_FIRST_USEC", std::to_string(event.first_usec)},
               {"HALO_LAST_USEC", std::to_string(event.last_usec)}};
    return r;
}

int SystemJournalSink::send(const std::vector<std::string>& fields) noexcept
{
    try {
        std::vector<iovec> iov;
        iov.reserve(fields.size());
        for (const auto& f : fields) iov.push_back({const_cast<char*>(f.data()), f.size()});
        return sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
    } catch (...) {
        return -ENOMEM;
    }
}

int CaptureJournalSink::send(const std::vector<std::string>& fields) noexcept
{
    try {
        entries.push_back(fields);
        return 0;
    } catch (...) {
        return -ENOMEM;
    }
}

} // namespace halo::checkd
