#include "daemon/report_output.hpp"

#include "rules/views.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <sys/ioctl.h>
#include <unistd.h>

namespace halo::app {

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

std::string matched_text(const std::vector<std::pair<std::string, std::string>>& matched)
{
    std::string out;
    for (const auto& [key, value] : matched) {
        if (!out.empty()) out += ", ";
        out += fmt::format("{} = {}", key, value);
    }
    return out;
}

// "why a part is missing": the probe's reason when it did not report ok.
std::string missing(const rules::Facts& facts, std::string_view probe, std::string_view fallback)
{
    auto it = facts.probes().find(std::string(probe));
    if (it == facts.probes().end()) return std::string(fallback);
    const rules::ProbeStatus& st = it->second;
    if (st.state == rules::ProbeState::ok) return std::string(fallback);
    if (st.reason.empty()) return fmt::format("{} ({} probe: {})", fallback, probe, rules::to_string(st.state));
    return fmt::format("{} ({} probe {}: {})", fallback, probe, rules::to_string(st.state), st.reason);
}

std::string machine_summary(const rules::Facts& facts)
{
    std::string out = "\nmachine:\n";
    auto line = [&](std::string_view label, const std::string& text) {
        out += fmt::format("  {:<9} {}\n", label, text);
    };

    if (auto name = facts.get("host.os.name")) line("os", *name);
    else if (auto id = facts.get("host.os.id"))
        line("os", fmt::format("{} {}", *id, facts.get("host.os.version_id").value_or("")));
    else line("os", missing(facts, "os", "unknown"));

    if (auto release = facts.get("kernel.release")) {
        std::string text = *release;
        if (auto next = facts.get("kernel.next_boot.release"); next && *next != *release) {
            text += fmt::format(" (next boot: {})", *next);
        }
        line("kernel", text);
    } else {
        line("kernel", missing(facts, "kernel", "unknown"));
    }

    std::string gpus;
    for (const std::string& key : facts.keys_matching("gpu.*.pci.device")) {
        const std::string base = key.substr(0, key.size() - std::string_view(".pci.device").size());
        std::string text = fmt::format("{}:{} {}", facts.get(base + ".pci.vendor").value_or("?"),
                                       facts.get(key).value_or("?"), facts.get(base + ".driver").value_or(""));
        if (auto mes = facts.get(base + ".firmware.mes")) text += fmt::format(", MES {}", *mes);
        gpus += (gpus.empty() ? "" : "; ") + text;
    }
    line("gpu", gpus.empty() ? missing(facts, "drm", "none found") : gpus);

    std::string vulkan;
    for (const std::string& key : facts.keys_matching("vulkan.*.name")) {
        const std::string base = key.substr(0, key.size() - std::string_view(".name").size());
        vulkan += fmt::format("{}{} [{}]", vulkan.empty() ? "" : "; ", facts.get(key).value_or("?"),
                              facts.get(base + ".driver_id").value_or("?"));
    }
    if (facts.get("vulkan.software_only") == std::optional<std::string>("true")) vulkan += " — no GPU Vulkan driver";
    line("vulkan", vulkan.empty() ? missing(facts, "vulkan", "no devices") : vulkan);

    std::string rocm;
    for (const std::string& key : facts.keys_matching("rocm.agent.*.gfx_target")) {
        rocm += (rocm.empty() ? "" : ", ") + facts.get(key).value_or("?");
    }
    if (!rocm.empty()) {
        const auto access = facts.get("rocm.kfd.accessible");
        rocm = fmt::format("agents {}; /dev/kfd {}", rocm,
                           access == std::optional<std::string>("true") ? "accessible" : "NOT accessible");
    }
    line("rocm", rocm.empty() ? missing(facts, "kfd", "no KFD agents") : rocm);

    std::string firmware;
    for (std::string_view name : rules::firmware_packages()) {
        if (auto evr = facts.get(fmt::format("package.{}.evr", name))) {
            firmware += fmt::format("{}{} {}", firmware.empty() ? "" : ", ", name, *evr);
        }
    }
    line("firmware", firmware.empty() ? missing(facts, "packages", "no firmware package found") : firmware);

    const auto backend = facts.get("engine.backend");
    const auto binary = facts.get("engine.binary");
    if (backend || binary) {
        // A host-run llama-server has no container or image to tell the backend by: say so, and how
        // to state it, rather than "none configured".
        const auto container = facts.get("engine.container");
        const std::string where = container ? "in " + *container : std::string("on the host");
        std::string text = backend ? fmt::format("{} {}", *backend, where)
                                   : fmt::format("{} {}, backend unknown (state it: [engine] backend = \"vulkan\" or "
                                                 "\"rocm\")",
                                                 *binary, where);
        if (auto image = facts.get("engine.image")) text += fmt::format(" ({})", *image);
        if (auto model = facts.get("engine.model.name")) text += fmt::format(", model {}", *model);
        else if (auto path = facts.get("engine.model.path")) text += fmt::format(", model {}", *path);
        if (auto ctx = facts.get("engine.ctx_size")) text += fmt::format(", ctx {}", *ctx);
        line("engine", text);
    } else {
        line("engine", missing(facts, "engine", "none configured"));
    }
    return out;
}

std::string_view verdict_colour(Verdict v)
{
    switch (v) {
    case Verdict::broken: return "1;31";
    case Verdict::warning: return "1;33";
    case Verdict::unknown: return "1;35";
    case Verdict::ok: return "1;32";
    }
    return "1";
}

std::size_t visible_width(std::string_view s)
{
    std::size_t n = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\x1b') {
            while (i < s.size() && s[i] != 'm') ++i;
            continue;
        }
        // UTF-8 continuation bytes take no column.
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) ++n;
    }
    return n;
}

// Where a continuation of `line` starts: under the text after "  label:   ", else two past the
// line's indentation.
std::size_t hanging_indent(std::string_view line)
{
    const std::size_t lead = line.find_first_not_of(' ');
    if (lead == std::string_view::npos) return 0;
    const std::size_t colon = line.find(": ", lead);
    const std::size_t space = line.find(' ', lead);
    if (colon != std::string_view::npos && colon < 12 && colon <= space) {
        const std::size_t text = line.find_first_not_of(' ', colon + 1);
        if (text != std::string_view::npos) return text;
    }
    return lead + 2;
}

void wrap_line(std::string_view line, std::size_t width, std::string& out)
{
    if (visible_width(line) <= width) {
        out += line;
        return;
    }
    std::size_t split = hanging_indent(line);
    if (visible_width(line.substr(0, split)) > width / 2) split = line.find_first_not_of(' ');
    const std::string_view prefix = line.substr(0, split);
    const std::size_t indent = visible_width(prefix);
    std::string current(prefix);
    std::size_t used = indent;
    bool empty = true;
    std::string_view rest = line.substr(split);
    while (!rest.empty()) {
        const std::size_t space = rest.find(' ');
        const std::string_view word = rest.substr(0, space);
        rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
        if (word.empty()) continue;
        const std::size_t w = visible_width(word);
        if (!empty && used + 1 + w > width) {
            out += current + '\n';
            current.assign(indent, ' ');
            used = indent;
            empty = true;
        }
        if (!empty) {
            current += ' ';
            ++used;
        }
        current += word;
        used += w;
        empty = false;
    }
    out += current;
}

} // namespace

std::string wrap_text(std::string_view text, std::size_t width);

namespace {

struct Counts {
    std::size_t broken = 0, warnings = 0, infos = 0;
};

Counts count(const rules::Report& report)
{
    Counts c;
    for (const auto& f : report.findings) {
        if (f.rule->severity == Severity::broken) ++c.broken;
        else if (f.rule->severity == Severity::warning) ++c.warnings;
        else ++c.infos;
    }
    return c;
}

// The counts that explain the verdict, and only those that are not zero.
std::string explanation(const rules::Report& report, std::string_view unknown_reason)
{
    const Counts c = count(report);
    std::vector<std::string> parts;
    if (!unknown_reason.empty()) parts.emplace_back(unknown_reason);
    if (c.broken) parts.push_back(fmt::format("{} broken", c.broken));
    if (c.warnings) parts.push_back(fmt::format("{} warning{}", c.warnings, c.warnings == 1 ? "" : "s"));
    if (c.infos) parts.push_back(fmt::format("{} info", c.infos));
    if (!report.undecided.empty()) parts.push_back(fmt::format("{} undecided", report.undecided.size()));
    if (report.untested) parts.emplace_back("untested: no known-good combination matches (--strict)");
    if (!report.not_checked.empty()) {
        parts.push_back(fmt::format("{} not checked (--only/--skip)", report.not_checked.size()));
    }
    if (parts.empty()) parts.emplace_back("no rule matched");
    std::string out;
    for (const std::string& p : parts) out += (out.empty() ? "" : ", ") + p;
    return out;
}

std::string headline(const rules::Report& report, std::string_view unknown_reason, const Paint& paint)
{
    return fmt::format("halo-check: {} — {}; known-good: {}\n",
                       paint(verdict_colour(report.verdict), upper(rules::to_string(report.verdict))),
                       explanation(report, unknown_reason), report.known_good ? report.known_good->id : "none");
}

// "BROKEN — firmware.mes-0x83-rocm (+2)" for one backend's report.
std::string backend_summary(const rules::BackendVerdict& backend, const Paint& paint)
{
    const rules::Report& report = backend.report;
    std::vector<std::string> ids;
    for (const rules::Finding& f : report.findings) {
        if (f.rule->severity != Severity::info) ids.push_back(f.rule->id);
    }
    if (ids.empty()) {
        for (const rules::Undecided& u : report.undecided) ids.push_back(u.rule->id + " undecided");
    }
    if (ids.empty() && !backend.unknown_reason.empty()) ids.push_back(backend.unknown_reason);
    std::string out = paint(verdict_colour(report.verdict), upper(rules::to_string(report.verdict)));
    if (!ids.empty()) out += " — " + ids.front();
    if (ids.size() > 1) out += fmt::format(" (+{})", ids.size() - 1);
    if (report.known_good) out += fmt::format("; known-good: {}", report.known_good->id);
    return out;
}

std::string render(const rules::Report& report, const rules::Facts& facts, const OutputStyle& style,
                   const rules::Judgement* judgement)
{
    const Paint paint{style.colour};
    const std::string unknown_reason = judgement ? judgement->unknown_reason : std::string();
    const std::string first = headline(report, unknown_reason, paint);
    std::string out = first;
    if (judgement && !judgement->backends.empty()) {
        for (const rules::BackendVerdict& b : judgement->backends) {
            out += fmt::format("  {:<7} {}\n", rules::backend_label(b.backend) + ":", backend_summary(b, paint));
        }
        out += fmt::format("  (no engine configured: the verdict is the best backend's, {})\n",
                           rules::backend_label(judgement->backend.value_or("?")));
    }
    if (judgement && judgement->no_gpu) {
        out += "  (a machine without one cannot run the stack; --no-gpu-ok judges it on its other rules)\n";
    }
    if (!style.knowledge.empty()) out += fmt::format("  knowledge: {}\n", style.knowledge);

    const bool details = !style.short_form || style.verbose;
    for (const rules::Finding& f : report.findings) {
        const rules::Rule& r = *f.rule;
        out += fmt::format("\n{} {}\n  {}\n", paint(severity_colour(r.severity), upper(rules::to_string(r.severity))),
                           paint("1", r.id), r.title);
        out += fmt::format("  because: {}\n", matched_text(f.matched));
        if (details && !r.explain.empty())
            out += fmt::format("  why:     {}\n", indent_continuations(r.explain, "           "));
        if (!r.fix.empty()) out += fmt::format("  fix:     {}\n", indent_continuations(r.fix, "           "));
        if (details) {
            for (const std::string& link : r.links) out += fmt::format("  see:     {}\n", link);
        }
    }
    if (!details && !report.undecided.empty()) {
        // One line a rule, then each reason once: twenty rules often wait on one failed probe.
        out += "\n";
        std::vector<std::string> reasons;
        for (const rules::Undecided& u : report.undecided) {
            std::string keys;
            for (const auto& [key, reason] : u.unknown) {
                keys += (keys.empty() ? "" : ", ") + key;
                if (std::find(reasons.begin(), reasons.end(), reason) == reasons.end()) reasons.push_back(reason);
            }
            out += fmt::format("{} {} (would be {}): {} unknown\n", paint("1;35", "UNDECIDED"), paint("1", u.rule->id),
                               rules::to_string(u.rule->severity), keys);
        }
        for (const std::string& reason : reasons) out += fmt::format("  unknown because: {}\n", reason);
    }
    for (const rules::Undecided& u : report.undecided) {
        const rules::Rule& r = *u.rule;
        if (!details) continue;
        out += fmt::format("\n{} {} (would be {})\n  {}\n", paint("1;35", "UNDECIDED"), paint("1", r.id),
                           rules::to_string(r.severity), r.title);
        for (const auto& [key, reason] : u.unknown) out += fmt::format("  unknown: {} ({})\n", key, reason);
        if (!u.matched.empty()) out += fmt::format("  holds:   {}\n", matched_text(u.matched));
    }
    if (style.verbose && !report.not_checked.empty()) {
        std::string ids;
        for (const rules::Undecided& u : report.not_checked) ids += (ids.empty() ? "" : ", ") + u.rule->id;
        out += fmt::format("\n{} (their probes were not run): {}\n", paint("1", "NOT CHECKED"), ids);
    }
    if (report.known_good) {
        out += fmt::format("\n{} {}\n  {}\n", paint("1;32", "KNOWN-GOOD"), report.known_good->id,
                           report.known_good->title);
    } else if (report.untested) {
        out +=
            fmt::format("\n{} no known-good combination matches this machine (--strict)\n", paint("1;33", "UNTESTED"));
    }
    if (!facts.empty() || !facts.probes().empty()) out += machine_summary(facts);
    bool header = false;
    for (const auto& [name, status] : facts.probes()) {
        const bool interesting =
            status.state == rules::ProbeState::failed || status.state == rules::ProbeState::partial;
        if (!style.verbose && !interesting) continue;
        if (!header) {
            out += "\nprobes:\n";
            header = true;
        }
        out += fmt::format("  {:<11} {}{}\n", name, rules::to_string(status.state),
                           status.reason.empty() ? "" : ": " + status.reason);
    }
    if (style.width) out = wrap_text(out, style.width);
    // A report taller than the screen ends with its verdict again, where the reader is.
    if (style.height && static_cast<std::size_t>(std::count(out.begin(), out.end(), '\n')) > style.height) {
        out += "\n" + (style.width ? wrap_text(first, style.width) : first);
    }
    return out;
}
} // namespace

bool want_colour(int fd, std::string_view mode)
{
    if (mode == "always") return true;
    if (mode == "never") return false;
    const char* no_colour = std::getenv("NO_COLOR");
    if (no_colour && *no_colour) return false;
    const char* term = std::getenv("TERM");
    if (term && std::string_view(term) == "dumb") return false;
    return ::isatty(fd) == 1;
}

TerminalSize terminal_size(int fd)
{
    TerminalSize size;
    if (::isatty(fd) != 1) return size;
    winsize ws{};
    if (::ioctl(fd, TIOCGWINSZ, &ws) == 0) size = {ws.ws_col, ws.ws_row};
    auto from_env = [](const char* name, std::size_t fallback) {
        const char* v = std::getenv(name);
        if (!v || !*v) return fallback;
        char* end = nullptr;
        const unsigned long n = std::strtoul(v, &end, 10);
        return (*end == '\0' && n > 0) ? static_cast<std::size_t>(n) : fallback;
    };
    if (size.columns == 0) size.columns = from_env("COLUMNS", 80);
    if (size.rows == 0) size.rows = from_env("LINES", 24);
    return size;
}

std::string wrap_text(std::string_view text, std::size_t width)
{
    if (width < 20) return std::string(text);
    std::string out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t nl = text.find('\n', pos);
        if (nl == std::string_view::npos) nl = text.size();
        wrap_line(text.substr(pos, nl - pos), width, out);
        if (nl < text.size()) out += '\n';
        pos = nl + 1;
    }
    return out;
}

std::string format_report_text(const rules::Report& report, const rules::Facts& facts, const OutputStyle& style)
{
    return render(report, facts, style, nullptr);
}

std::string format_judgement_text(const rules::Judgement& judgement, const rules::Facts& facts,
                                  const OutputStyle& style)
{
    return render(judgement.report, facts, style, &judgement);
}

std::string format_oneline(const rules::Judgement& judgement)
{
    const rules::Report& r = judgement.report;
    std::string out = upper(rules::to_string(r.verdict));
    std::vector<std::string> ids;
    for (const rules::Finding& f : r.findings) {
        if (f.rule->severity != Severity::info) ids.push_back(f.rule->id);
    }
    if (ids.empty() && r.verdict == Verdict::unknown) {
        if (!judgement.unknown_reason.empty()) {
            out += " " + judgement.unknown_reason.substr(0, judgement.unknown_reason.find(" ("));
            return out.substr(0, out.find(';')) + "\n";
        }
        for (const rules::Undecided& u : r.undecided) ids.push_back(u.rule->id);
    }
    if (!ids.empty()) out += " " + ids.front();
    if (ids.size() > 1) out += fmt::format(" (+{})", ids.size() - 1);
    return out + "\n";
}

nlohmann::ordered_json json_envelope(std::string_view knowledge_date)
{
    nlohmann::ordered_json root;
    root["schema_version"] = k_json_schema_version;
    root["halo_check_version"] = HALO_VERSION;
    root["knowledge_date"] = std::string(knowledge_date);
    return root;
}

namespace {

nlohmann::ordered_json findings_json(const rules::Report& report)
{
    using json = nlohmann::ordered_json;
    json list = json::array();
    for (const rules::Finding& f : report.findings) {
        json matched = json::object();
        for (const auto& [key, value] : f.matched) matched[key] = value;
        list.push_back({{"id", f.rule->id},
                        {"severity", std::string(rules::to_string(f.rule->severity))},
                        {"title", f.rule->title},
                        {"matched", matched},
                        {"explain", f.rule->explain},
                        {"fix", f.rule->fix},
                        {"links", f.rule->links},
                        {"since", f.rule->since},
                        {"file", f.rule->where.file},
                        {"line", f.rule->where.line}});
    }
    return list;
}

nlohmann::ordered_json undecided_json(const std::vector<rules::Undecided>& list)
{
    using json = nlohmann::ordered_json;
    json out = json::array();
    for (const rules::Undecided& u : list) {
        json unknown = json::object();
        for (const auto& [key, reason] : u.unknown) unknown[key] = reason;
        out.push_back({{"id", u.rule->id},
                       {"severity", std::string(rules::to_string(u.rule->severity))},
                       {"title", u.rule->title},
                       {"unknown", unknown}});
    }
    return out;
}

void report_fields(nlohmann::ordered_json& root, const rules::Report& report, const rules::Facts& facts)
{
    using json = nlohmann::ordered_json;
    root["verdict"] = std::string(rules::to_string(report.verdict));
    root["exit_code"] = static_cast<int>(report.exit_code);
    root["findings"] = findings_json(report);
    root["undecided"] = undecided_json(report.undecided);
    root["not_checked"] = undecided_json(report.not_checked);
    root["known_good"] = report.known_good ? json(report.known_good->id) : json(nullptr);
    root["untested"] = report.untested;
    json probes = json::object();
    for (const auto& [name, status] : facts.probes()) {
        probes[name] = {{"status", std::string(rules::to_string(status.state))}, {"reason", status.reason}};
    }
    root["probes"] = probes;
}

std::string dump(const nlohmann::ordered_json& root)
{
    return root.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

} // namespace

nlohmann::ordered_json diagnostic_json(std::string_view level, std::string_view message)
{
    using json = nlohmann::ordered_json;
    json out{{"level", std::string(level)},
             {"file", nullptr},
             {"line", nullptr},
             {"column", nullptr},
             {"message", std::string(message)}};
    auto digits = [&](std::size_t from, std::size_t& end) {
        end = from;
        while (end < message.size() && message[end] >= '0' && message[end] <= '9') ++end;
        return end > from;
    };
    // The first ":LINE:COL: " in the message ends the file name (a path may hold ':' itself).
    for (std::size_t colon = message.find(':'); colon != std::string_view::npos; colon = message.find(':', colon + 1)) {
        std::size_t line_end = 0, col_end = 0;
        if (!digits(colon + 1, line_end) || line_end >= message.size() || message[line_end] != ':') continue;
        if (!digits(line_end + 1, col_end) || message.substr(col_end, 2) != ": ") continue;
        out["file"] = std::string(message.substr(0, colon));
        out["line"] = std::stoi(std::string(message.substr(colon + 1, line_end - colon - 1)));
        out["column"] = std::stoi(std::string(message.substr(line_end + 1, col_end - line_end - 1)));
        out["message"] = std::string(message.substr(col_end + 2));
        break;
    }
    return out;
}

std::string format_judgement_json(const rules::Judgement& judgement, const rules::Facts& facts,
                                  std::string_view knowledge_date)
{
    using json = nlohmann::ordered_json;
    json root = json_envelope(knowledge_date);
    report_fields(root, judgement.report, facts);
    root["unknown_reason"] = judgement.unknown_reason.empty() ? json(nullptr) : json(judgement.unknown_reason);
    root["backend"] = judgement.backend ? json(*judgement.backend) : json(nullptr);
    root["backends"] = json::array();
    for (const rules::BackendVerdict& b : judgement.backends) {
        json ids = json::array();
        for (const rules::Finding& f : b.report.findings) ids.push_back(f.rule->id);
        root["backends"].push_back(
            {{"backend", b.backend},
             {"verdict", std::string(rules::to_string(b.report.verdict))},
             {"findings", ids},
             {"known_good", b.report.known_good ? json(b.report.known_good->id) : json(nullptr)}});
    }
    return dump(root);
}

std::string indent_continuations(std::string_view text, std::string_view pad)
{
    std::string out;
    for (char c : text) {
        out += c;
        if (c == '\n') out += pad;
    }
    while (!out.empty() && (out.back() == ' ' || out.back() == '\n')) out.pop_back();
    return out;
}

} // namespace halo::app
