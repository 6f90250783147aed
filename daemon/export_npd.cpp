#include "daemon/export_npd.hpp"

#include <fmt/core.h>

namespace halo::app {

namespace {

// At most `bytes` bytes, never ending inside a UTF-8 sequence, with no line break.
std::string cut(std::string text, std::size_t bytes)
{
    for (char& c : text)
        if (c == '\n' || c == '\r') c = ' ';
    if (text.size() <= bytes) return text;
    std::size_t end = bytes;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text.resize(end);
    return text;
}

std::string upper(std::string_view s)
{
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

} // namespace

NpdResult format_npd(const rules::Report& report, rules::FailOn fail_on, bool next_boot)
{
    NpdResult r;
    switch (report.verdict) {
    case rules::Verdict::ok: r.exit_code = 0; break;
    case rules::Verdict::warning: r.exit_code = fail_on == rules::FailOn::warning ? 1 : 0; break;
    case rules::Verdict::broken: r.exit_code = 1; break;
    case rules::Verdict::unknown: r.exit_code = 3; break;
    }
    const char* view = next_boot ? " after reboot" : "";
    std::string first;
    std::size_t more = 0;
    for (const rules::Finding& f : report.findings) {
        if (!f.rule || f.rule->severity == rules::Severity::info) continue;
        if (first.empty()) first = f.rule->id;
        else ++more;
    }
    if (first.empty()) {
        for (const rules::Undecided& u : report.undecided) {
            if (!u.rule) continue;
            if (first.empty()) first = u.rule->id + " undecided";
            else ++more;
        }
    }
    std::string text = fmt::format("{}{}", upper(rules::to_string(report.verdict)), view);
    if (!first.empty()) text += ": " + first;
    if (more > 0) text += fmt::format(" (+{} more)", more);
    r.message = cut(std::move(text), k_npd_message_bytes);
    return r;
}

} // namespace halo::app
