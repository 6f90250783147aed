#include "daemon/report_output.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <unistd.h>

namespace halo::daemon {

namespace {

using rules::Severity;
using rules::Verdict;

struct Paint {
    bool on;
    std::string operator()(std::string_view code, std::string_view text) const
    {
        return on ? fmt::format("\x1b[{}m{}\x1b[0m", code, text) : std::string(text);
    }
};

std::string_view severity_colour(Severity s)
{
    return s == Severity::broken ? "1;31" : (s == Severity::warning ? "1;33" : "1;36");
}

std::string upper(std::string_view s)
{
    std::string out(s);
    for (char& c : out) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
    return out;
}

// Continuation lines of a multi-line text, indented under the label.
std::string indent(std::string_view text, std::string_view pad)
{
    std::string out;
    for (char c : text) {
        out += c;
        if (c == '\n') out += pad;
    }
    while (!out.empty() && (out.back() == ' ' || out.back() == '\n')) out.pop_back();
    return out;
}

std::string matched_text(const std::vector<std::pair<std::string, std::string>>& matched)
{
    std::string out;
    for (const auto& [key, value] : matched) {
        if (!out.empty()) out += ", ";
        out += fmt::format("{} = {}", key, value);
    }
    return out;
}

} // namespace

bool want_colour(int fd)
{
    const char* no_colour = std::getenv("NO_COLOR");
    if (no_colour && *no_colour) return false;
    const char* term = std::getenv("TERM");
    if (term && std::string_view(term) == "dumb") return false;
    return ::isatty(fd) == 1;
}

std::string format_report_text(const rules::Report& report, const rules::Facts& facts, const OutputStyle& style)
{
    const Paint paint{style.colour};
    std::size_t broken = 0, warnings = 0, infos = 0;
    for (const auto& f : report.findings) {
        if (f.rule->severity == Severity::broken) ++broken;
        else if (f.rule->severity == Severity::warning) ++warnings;
        else ++infos;
    }
    const std::string_view verdict_colour = report.verdict == Verdict::broken    ? "1;31"
                                            : report.verdict == Verdict::warning ? "1;33"
                                                                                 : "1;32";
    std::string out = fmt::format("halo-check: {} — {} broken, {} warning{}, {} info, {} undecided; known-good: {}\n",
                                  paint(verdict_colour, upper(rules::to_string(report.verdict))), broken, warnings,
                                  warnings == 1 ? "" : "s", infos, report.undecided.size(),
                                  report.known_good ? report.known_good->id : "none");

    for (const rules::Finding& f : report.findings) {
        const rules::Rule& r = *f.rule;
        out += fmt::format("\n{} {}\n  {}\n", paint(severity_colour(r.severity), upper(rules::to_string(r.severity))),
                           paint("1", r.id), r.title);
        out += fmt::format("  because: {}\n", matched_text(f.matched));
        if (!r.explain.empty()) out += fmt::format("  why:     {}\n", indent(r.explain, "           "));
        if (!r.fix.empty()) out += fmt::format("  fix:     {}\n", indent(r.fix, "           "));
        for (const std::string& link : r.links) out += fmt::format("  see:     {}\n", link);
    }
    for (const rules::Undecided& u : report.undecided) {
        const rules::Rule& r = *u.rule;
        out += fmt::format("\n{} {} (would be {})\n  {}\n", paint("1;35", "UNDECIDED"), paint("1", r.id),
                           rules::to_string(r.severity), r.title);
        for (const auto& [key, reason] : u.unknown) out += fmt::format("  unknown: {} ({})\n", key, reason);
        if (!u.matched.empty()) out += fmt::format("  holds:   {}\n", matched_text(u.matched));
    }
    if (report.known_good) {
        out += fmt::format("\n{} {}\n  {}\n", paint("1;32", "KNOWN-GOOD"), report.known_good->id, report.known_good->title);
    } else if (report.untested) {
        out += fmt::format("\n{} no known-good combination matches this machine (--strict)\n", paint("1;33", "UNTESTED"));
    }
    bool header = false;
    for (const auto& [name, status] : facts.probes()) {
        const bool interesting = status.state == rules::ProbeState::failed || status.state == rules::ProbeState::partial;
        if (!style.verbose && !interesting) continue;
        if (!header) {
            out += "\nprobes:\n";
            header = true;
        }
        out += fmt::format("  {:<11} {}{}\n", name, rules::to_string(status.state),
                           status.reason.empty() ? "" : ": " + status.reason);
    }
    return out;
}

std::string format_report_json(const rules::Report& report, const rules::Facts& facts)
{
    using json = nlohmann::ordered_json;
    json root;
    root["verdict"] = std::string(rules::to_string(report.verdict));
    root["exit_code"] = static_cast<int>(report.exit_code);
    root["findings"] = json::array();
    for (const rules::Finding& f : report.findings) {
        json matched = json::object();
        for (const auto& [key, value] : f.matched) matched[key] = value;
        root["findings"].push_back({{"id", f.rule->id},
                                    {"severity", std::string(rules::to_string(f.rule->severity))},
                                    {"title", f.rule->title},
                                    {"matched", matched},
                                    {"explain", f.rule->explain},
                                    {"fix", f.rule->fix},
                                    {"links", f.rule->links},
                                    {"since", f.rule->since}});
    }
    root["undecided"] = json::array();
    for (const rules::Undecided& u : report.undecided) {
        json unknown = json::object();
        for (const auto& [key, reason] : u.unknown) unknown[key] = reason;
        root["undecided"].push_back({{"id", u.rule->id},
                                     {"severity", std::string(rules::to_string(u.rule->severity))},
                                     {"title", u.rule->title},
                                     {"unknown", unknown}});
    }
    root["known_good"] = report.known_good ? json(report.known_good->id) : json(nullptr);
    root["untested"] = report.untested;
    json probes = json::object();
    for (const auto& [name, status] : facts.probes()) {
        probes[name] = {{"status", std::string(rules::to_string(status.state))}, {"reason", status.reason}};
    }
    root["probes"] = probes;
    return root.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

} // namespace halo::daemon
