#pragma once
// What a desktop notification says, built from facts, a report and the diff against the last
// known good configuration. Pure: no bus, no clock, so every text is tested as data.
//
// Title says what happened, body says why and the fix, then what changed since the machine last
// worked. One topic is one notification on the desktop: a later notification with the same topic
// replaces the earlier one (replaces_id) instead of stacking.

#include "rules/evaluate.hpp"
#include "rules/facts.hpp"
#include "rules/facts_diff.hpp"
#include "rules/rule.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace halo::checkd {

enum class Urgency : std::uint8_t { low = 0, normal = 1, critical = 2 }; // the spec's byte values

struct Action {
    std::string key;   // "default" is what a click on the notification invokes
    std::string label; // shown on a button
};

struct Notification {
    std::string topic;   // one topic = one notification on the desktop
    std::string summary; // plain text (the spec allows no markup here)
    std::string body;    // plain text; the Notifier escapes it where the server parses markup
    Urgency urgency = Urgency::normal;
    rules::Severity severity = rules::Severity::warning; // for [notify] min_severity
    std::string icon;            // empty: dialog-error / dialog-warning / dialog-information by urgency
    std::string details_path;    // a report file "Show details" opens; empty: no action
    std::vector<Action> actions; // more actions; sent only when the server supports actions
};

// Topics the daemon uses; a later notification of a topic replaces the earlier one.
inline constexpr std::string_view k_topic_verdict_now = "verdict.now";
inline constexpr std::string_view k_topic_verdict_next_boot = "verdict.next_boot";
inline constexpr std::string_view k_topic_engine = "engine";      // given up, ready again
inline constexpr std::string_view k_topic_gpu = "gpu";            // GPU reset and other log events
inline constexpr std::string_view k_topic_speed = "engine.speed"; // the engine got slower
inline constexpr std::string_view k_topic_api = "engine.api";     // an engine API check failed

// `& < >` as entities: servers that announce body-markup (dunst, GNOME, KDE) parse the body as
// a subset of HTML, and a bare `<` makes dunst drop the markup parse or swallow text.
std::string escape_markup(std::string_view text);

// [notify] in config.toml, as the daemon's config parser reads it.
struct NotifyPolicy {
    bool enabled = true;
    rules::Severity min_severity = rules::Severity::warning;
};
// True when `n` passes the policy. `topic_shown`: a notification of this topic is on screen,
// so an update (even a calmer one, "ready again") must replace it or it would stay stale.
bool passes(const NotifyPolicy& policy, const Notification& n, bool topic_shown);

enum class NotificationKind {
    verdict_changed,     // the "now" view's verdict changed
    broken_after_reboot, // the "after reboot" view turned broken
    engine_given_up,     // too many restarts; waiting for a change or `halo-check restart`
    gpu_reset,           // the kernel log reported a GPU reset or an MES hang
    log_event,           // another known failure in the kernel log or the engine's output
    engine_ready_again,  // the engine is ready after a failure
    speed_regression,    // the smoke tests' speed fell below the regression threshold
    api_check_failed,    // an engine API check turned fail (detail: which and why; fix: the judge's)
};

// One finding, as a person reads it.
struct Cause {
    std::string rule_id;
    rules::Severity severity = rules::Severity::warning;
    std::string title;
    std::string fix;
    std::vector<std::string> matched_keys; // the facts that made the rule match
};

struct NotificationInput {
    NotificationKind kind = NotificationKind::verdict_changed;
    rules::Verdict verdict = rules::Verdict::ok; // the view's verdict (verdict_changed, after reboot)
    std::optional<rules::Verdict> previous;      // the verdict before, when known
    std::vector<Cause> causes;                   // most severe first
    std::string engine;                          // the engine's container or name: "llama-rocm-7.1.1"
    std::string backend;                         // "rocm", "vulkan", "cpu"
    std::string kernel_now;                      // kernel.release
    std::string kernel_next;                     // kernel.next_boot.release
    std::vector<std::string> new_rule_ids;       // findings new since the last report: told first
    // given up: why; GPU reset / log event: the matched log pattern's title; speed regression:
    // the figures and what changed ("Generation 4.5 t/s, was 18.0 t/s, since …")
    std::string detail;
    std::string fix;                                          // given up / GPU reset: the known fix, when there is one
    rules::Severity event_severity = rules::Severity::broken; // GPU reset: the log pattern's severity
    std::optional<rules::FactsDiff> diff;                     // against the last known good, when there is one
    std::string last_known_good_recorded;                     // RFC 3339
    std::string details_path;                                 // passed through to Notification::details_path
    std::string knowledge; // "knowledge feed: 12 (…)" when a new feed caused this re-check
};

// Fills engine, backend, kernels, package manager and the causes from facts and a report.
NotificationInput describe(NotificationKind kind, const rules::Facts& facts, const rules::Report& report);

// The notification for one event. At most `k_max_diff_lines` diff lines; the rest is counted
// and left to `halo-check diff`.
inline constexpr std::size_t k_max_diff_lines = 5;
Notification compose_notification(const NotificationInput& input);

} // namespace halo::checkd
