#include "daemon/report_output.hpp"

#include "rules/views.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <optional>
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

} // namespace halo::app
