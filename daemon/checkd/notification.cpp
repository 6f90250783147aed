#include "daemon/checkd/notification.hpp"

#include <fmt/core.h>

#include <algorithm>

namespace halo::checkd {

std::string escape_markup(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        default: out += c;
        }
    }
    return out;
}

bool passes(const NotifyPolicy& policy, const Notification& n, bool topic_shown)
{
    if (!policy.enabled) return false;
    return topic_shown || n.severity >= policy.min_severity;
}

namespace {

std::string backend_name(std::string_view backend)
{
    if (backend == "rocm") return "ROCm";
    if (backend == "vulkan") return "Vulkan";
    if (backend == "cpu") return "CPU";
    return std::string(backend);
}

// "your ROCm engine (llama-rocm-7.1.1)", "your inference engine"
std::string engine_phrase(const NotificationInput& in)
{
    std::string text = "your ";
    text += in.backend.empty() ? "inference" : backend_name(in.backend);
    text += " engine";
    if (!in.engine.empty()) text += " (" + in.engine + ")";
    return text;
}

std::string engine_name(const NotificationInput& in)
{
    return in.engine.empty() ? std::string("The inference engine") : in.engine;
}

// A kernel release without its architecture suffix, which says nothing to the reader.
std::string short_kernel(std::string_view release)
{
    for (std::string_view arch : {".x86_64", ".aarch64"}) {
        if (release.size() > arch.size() && release.substr(release.size() - arch.size()) == arch)
            return std::string(release.substr(0, release.size() - arch.size()));
    }
    return std::string(release);
}

// The first sentence of a rule's fix: the notification has room for the gist, "Show details"
// and `halo-check explain` have the rest.
std::string first_sentence(std::string_view text)
{
    while (!text.empty() && (text.front() == ' ' || text.front() == '\n')) text.remove_prefix(1);
    std::size_t end = text.find('\n');
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(0, end);
    if (auto dot = line.find(". "); dot != std::string_view::npos) line = line.substr(0, dot + 1);
    return std::string(line);
}

std::string uppercase_first(std::string text)
{
    if (!text.empty() && text[0] >= 'a' && text[0] <= 'z') text[0] = static_cast<char>(text[0] - 'a' + 'A');
    return text;
}

std::string diff_section(const NotificationInput& in)
{
    if (!in.diff) return {};
    const std::string when = in.last_known_good_recorded.empty() ? "" : " (" + in.last_known_good_recorded + ")";
    if (in.diff->empty()) return fmt::format("\n\nNothing changed since it last worked{}.", when);
    std::string text = fmt::format("\n\nChanged since it last worked{}:", when);
    const auto ordered = rules::changes_by_relevance(*in.diff);
    std::size_t shown = 0;
    for (const rules::FactChange* c : ordered) {
        if (shown == k_max_diff_lines) break;
        text += "\n" + rules::format_change(*c);
        ++shown;
    }
    for (const rules::ProbeChange& p : in.diff->probes) {
        if (shown == k_max_diff_lines) break;
        text += "\n" + rules::format_probe_change(p);
        ++shown;
    }
    const std::size_t total = in.diff->changes.size() + in.diff->probes.size();
    if (total > shown) text += fmt::format("\n… and {} more: halo-check diff", total - shown);
    return text;
}

std::string also_section(const NotificationInput& in)
{
    if (in.causes.size() <= 1) return {};
    std::string text = "\nAlso:";
    for (std::size_t i = 1; i < in.causes.size() && i <= 3; ++i) {
        const bool is_new =
            std::find(in.new_rule_ids.begin(), in.new_rule_ids.end(), in.causes[i].rule_id) != in.new_rule_ids.end();
        text += "\n• " + in.causes[i].title + (is_new ? " (new)" : "");
    }
    if (in.causes.size() > 4) text += fmt::format("\n• … {} more: halo-check check", in.causes.size() - 4);
    return text;
}

void set_level(Notification& n, rules::Severity severity)
{
    n.severity = severity;
    n.urgency = severity == rules::Severity::broken    ? Urgency::critical
                : severity == rules::Severity::warning ? Urgency::normal
                                                       : Urgency::low;
}

rules::Severity severity_of(rules::Verdict verdict)
{
    switch (verdict) {
    case rules::Verdict::broken: return rules::Severity::broken;
    case rules::Verdict::warning:
    case rules::Verdict::unknown: return rules::Severity::warning;
    case rules::Verdict::ok: return rules::Severity::info;
    }
    return rules::Severity::warning;
}

void compose_verdict(const NotificationInput& in, Notification& n)
{
    n.topic = k_topic_verdict_now;
    set_level(n, severity_of(in.verdict));
    const std::string engine = uppercase_first(engine_phrase(in).substr(5)); // drop "your "
    switch (in.verdict) {
    case rules::Verdict::ok:
        n.summary = fmt::format("{}: checks pass again", engine);
        n.body = in.previous ? fmt::format("The problems reported before are gone (verdict ok, was {}).",
                                           rules::to_string(*in.previous))
                             : std::string("Every check passes (verdict ok).");
        return;
    case rules::Verdict::unknown:
        n.summary = fmt::format("{}: could not be checked", engine);
        n.body = in.detail.empty() ? std::string("Some checks could not decide; run: halo-check check") : in.detail;
        break;
    case rules::Verdict::warning:
    case rules::Verdict::broken: {
        const char* what = in.verdict == rules::Verdict::broken ? "broken" : "warning";
        if (in.causes.empty()) {
            n.summary = fmt::format("{}: {}", engine, what);
            n.body = "Run: halo-check check";
            break;
        }
        const bool only_new = in.previous == in.verdict && !in.new_rule_ids.empty();
        n.summary =
            fmt::format("{} {}{}: {}", engine, what, only_new ? ", and a new problem" : "", in.causes.front().title);
        n.body = "Fix: " + first_sentence(in.causes.front().fix) + also_section(in);
        break;
    }
    }
    n.body += diff_section(in);
}

void compose_after_reboot(const NotificationInput& in, Notification& n)
{
    n.topic = k_topic_verdict_next_boot;
    set_level(n, severity_of(in.verdict));
    const bool new_kernel = !in.kernel_next.empty() && in.kernel_next != in.kernel_now;
    if (in.verdict == rules::Verdict::ok) {
        n.summary = "Rebooting is safe again";
        n.body = new_kernel ? fmt::format("After a reboot, kernel {} passes every check.", short_kernel(in.kernel_next))
                            : std::string("After a reboot, the machine passes every check.");
        return;
    }
    const bool broken = in.verdict == rules::Verdict::broken;
    n.summary = broken ? fmt::format("Rebooting now will break {}", engine_phrase(in))
                       : fmt::format("After a reboot, {} needs attention", engine_phrase(in));
    const Cause* cause = in.causes.empty() ? nullptr : &in.causes.front();
    std::string why =
        new_kernel ? fmt::format("Kernel {} will start", short_kernel(in.kernel_next)) : std::string("After a reboot");
    if (cause) {
        why += (new_kernel ? ". " : ": ") + cause->title;
        if (why.back() != '.') why += '.';
    } else {
        why += ".";
    }
    // The fix is the rule's own, and only the rule's: what to do about a kernel or firmware is
    // knowledge, and it lives in the rules, dated and sourced.
    n.body = why;
    if (cause && !cause->fix.empty()) {
        n.body += "\nFix: " + first_sentence(cause->fix);
        if (n.body.back() != '.') n.body += '.';
    }
    n.body += also_section(in);
    n.body += diff_section(in);
}

} // namespace

NotificationInput describe(NotificationKind kind, const rules::Facts& facts, const rules::Report& report)
{
    NotificationInput in;
    in.kind = kind;
    in.verdict = report.verdict;
    in.engine = facts.get("engine.container").value_or(facts.get("engine.alias").value_or(""));
    in.backend = facts.get("engine.backend").value_or("");
    in.kernel_now = facts.get("kernel.release").value_or("");
    in.kernel_next = facts.get("kernel.next_boot.release").value_or("");
    for (const rules::Finding& f : report.findings) {
        if (!f.rule || f.rule->severity == rules::Severity::info) continue;
        Cause cause{f.rule->id, f.rule->severity, f.rule->title, f.rule->fix, {}};
        for (const auto& [key, value] : f.matched) cause.matched_keys.push_back(key);
        in.causes.push_back(std::move(cause));
    }
    return in;
}

Notification compose_notification(const NotificationInput& input)
{
    // What is new is told first: the headline, the fix, then the rest under "Also".
    NotificationInput in = input;
    std::stable_partition(in.causes.begin(), in.causes.end(), [&](const Cause& c) {
        return std::find(in.new_rule_ids.begin(), in.new_rule_ids.end(), c.rule_id) != in.new_rule_ids.end();
    });
    Notification n;
    n.details_path = in.details_path;
    switch (in.kind) {
    case NotificationKind::verdict_changed:
        compose_verdict(in, n);
        // The verdict changed because the knowledge did, not the machine: say so first.
        if (!in.knowledge.empty())
            n.body = fmt::format("new knowledge: {}\n{}", in.knowledge.substr(in.knowledge.find(": ") + 2), n.body);
        break;
    case NotificationKind::broken_after_reboot: compose_after_reboot(in, n); break;
    case NotificationKind::engine_given_up:
        n.topic = k_topic_engine;
        set_level(n, rules::Severity::broken);
        n.summary = fmt::format("{} stopped: it failed too often, no more restarts", engine_name(in));
        n.body = in.detail.empty() ? std::string("It kept failing after restarts.") : in.detail;
        n.body += "\nFix: " + (in.fix.empty() ? std::string("remove the cause, then run: halo-check restart")
                                              : first_sentence(in.fix));
        n.body += diff_section(in);
        break;
    case NotificationKind::gpu_reset:
        n.topic = k_topic_gpu;
        set_level(n, in.event_severity);
        n.summary = in.engine.empty() ? std::string("The GPU was reset")
                                      : fmt::format("The GPU was reset while {} was running", in.engine);
        n.body = in.detail.empty() ? std::string("The kernel log reports a GPU reset.") : in.detail;
        if (!in.fix.empty()) n.body += "\nFix: " + first_sentence(in.fix);
        n.body += diff_section(in);
        break;
    case NotificationKind::log_event:
        n.topic = k_topic_gpu; // one topic for the logs: a later event replaces an earlier one
        set_level(n, in.event_severity);
        n.summary = in.detail.empty() ? std::string("A known failure appeared in the logs") : in.detail;
        if (!in.engine.empty()) n.summary += fmt::format(" ({})", in.engine);
        n.body = "Seen in the kernel log or the engine's output.";
        if (!in.fix.empty()) n.body += "\nFix: " + first_sentence(in.fix);
        n.body += diff_section(in);
        break;
    case NotificationKind::engine_ready_again:
        n.topic = k_topic_engine;
        set_level(n, rules::Severity::info);
        n.summary = fmt::format("{} is ready again", engine_name(in));
        n.body = in.detail.empty() ? std::string("It answers and generates again after the failure.") : in.detail;
        break;
    case NotificationKind::speed_regression:
        n.topic = k_topic_speed;
        set_level(n, rules::Severity::warning);
        n.summary = fmt::format("{} got slower", engine_name(in));
        n.body = in.detail;
        n.body += "\nMeasure it: halo-check bench; compare with a saved run: halo-check bench --compare FILE";
        n.body += diff_section(in);
        break;
    case NotificationKind::api_check_failed:
        n.topic = k_topic_api;
        set_level(n, rules::Severity::broken);
        n.summary = fmt::format("Claude Code will not work with {}", engine_name(in));
        n.body = in.detail;
        if (!in.fix.empty()) n.body += "\nFix: " + in.fix;
        n.body += "\nCheck it again: halo-check engine-check";
        break;
    }
    return n;
}

} // namespace halo::checkd
