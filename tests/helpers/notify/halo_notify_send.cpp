// Drives checkd::DesktopNotifier against whatever notification server the session bus has, for the
// dunst integration test. Prints one line per result; exit 0 on success, 3 on an error.
//
//   halo_notify_send caps
//   halo_notify_send send TOPIC SUMMARY BODY URGENCY [TOPIC SUMMARY BODY URGENCY …]   (one process,
//       so a repeated TOPIC replaces its notification)
//   halo_notify_send reboot FACTS_FILE DETAILS_PATH   the composed after-reboot-broken notification
//   halo_notify_send action DETAILS_PATH SECONDS      send, then wait in an sd-event loop for
//       ActionInvoked and run open_details (xdg-open) on it
//   halo_notify_send gate N                           N events through DesktopNotifier; print
//       each outcome and the lines it asks to log

#include "daemon/checkd/notification.hpp"
#include "daemon/checkd/notifier.hpp"
#include "rules/evaluate.hpp"
#include "rules/facts_io.hpp"
#include "rules/rule_loader.hpp"
#include "rules/views.hpp"

#include <fmt/core.h>
#include <systemd/sd-event.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/wait.h>
#include <vector>

using namespace halo;
using namespace halo::checkd;

namespace {

int fail(const std::string& message)
{
    std::printf("error: %s\n", message.c_str());
    return 3;
}

Urgency urgency_from(const std::string& text)
{
    if (text == "critical") return Urgency::critical;
    if (text == "low") return Urgency::low;
    return Urgency::normal;
}

int caps()
{
    auto n = Notifier::connect_session();
    if (!n) return fail(n.error().message);
    auto c = n->capabilities();
    if (!c) return fail(c.error().message);
    auto name = n->server_name();
    std::printf("server %s\n", name ? name->c_str() : "?");
    for (const std::string& s : *c) std::printf("capability %s\n", s.c_str());
    std::printf("actions %s\n", n->supports_actions() ? "yes" : "no");
    return 0;
}

int send(int argc, char** argv)
{
    auto n = Notifier::connect_session();
    if (!n) return fail(n.error().message);
    for (int i = 0; i + 3 < argc; i += 4) {
        Notification note;
        note.topic = argv[i];
        note.summary = argv[i + 1];
        note.body = argv[i + 2];
        note.urgency = urgency_from(argv[i + 3]);
        auto id = n->notify(note);
        if (!id) return fail(id.error().message);
        std::printf("id %u\n", *id);
        (void)n->process(std::chrono::milliseconds(50)); // NotificationClosed, if any
    }
    return 0;
}

Result<Notification> reboot_notification(const std::string& facts_path, const std::string& details)
{
    auto facts = rules::load_facts_file(facts_path);
    if (!facts) return facts.error();
    const rules::LoadedRules kb = rules::load_embedded_rules();
    const rules::Report after = rules::evaluate(kb.rules, rules::next_boot_view(*facts));
    NotificationInput in = describe(NotificationKind::broken_after_reboot, *facts, after);
    rules::Facts good = *facts;
    // Before `dnf upgrade` brought kernel 6.18.5: the running kernel was also the boot default.
    good.set("kernel.next_boot.release", facts->get("kernel.release").value_or(""));
    good.set("kernel.next_boot.differs", "false");
    good.set("package.kernel.version", "6.18.3");
    good.set("package.kernel.evr", "6.18.3-200.fc43");
    in.diff = rules::diff_facts(good, *facts);
    in.last_known_good_recorded = "2026-01-12T08:54:03Z";
    in.details_path = details;
    return compose_notification(in);
}

int reboot(const std::string& facts_path, const std::string& details)
{
    auto note = reboot_notification(facts_path, details);
    if (!note) return fail(note.error().message);
    auto n = Notifier::connect_session();
    if (!n) return fail(n.error().message);
    auto id = n->notify(*note);
    if (!id) return fail(id.error().message);
    std::printf("id %u\nsummary %s\n", *id, note->summary.c_str());
    return 0;
}

struct ActionState {
    sd_event* event = nullptr;
    int status = 3;
};

int on_timeout(sd_event_source*, uint64_t, void* userdata) noexcept
{
    std::printf("timeout: no ActionInvoked\n");
    std::fflush(stdout);
    return sd_event_exit(static_cast<ActionState*>(userdata)->event, 3);
}

int action(const std::string& details, double seconds)
{
    auto n = Notifier::connect_session();
    if (!n) return fail(n.error().message);
    if (!n->supports_actions()) return fail("the server does not support actions");
    sd_event* event = nullptr;
    if (sd_event_new(&event) < 0) return fail("sd_event_new");
    ActionState state{event, 3};
    {
        // The Notifier is attached to the loop the way the daemon attaches it.
        if (auto r = n->attach(event); !r) return fail(r.error().message);
        n->on_action([&](const ActionEvent& e) {
            std::printf("action %s topic %s id %u details %s\n", e.action.c_str(), e.topic.c_str(), e.id,
                        e.details_path.c_str());
            auto pid = open_details(e.details_path);
            if (!pid) {
                std::printf("error: %s\n", pid.error().message.c_str());
            } else {
                int st = 0;
                ::waitpid(*pid, &st, 0);
                std::printf("opener exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
                state.status = 0;
            }
            std::fflush(stdout);
            sd_event_exit(event, 0);
        });
        Notification note;
        note.topic = "engine";
        note.summary = "llama-vulkan-radv stopped: it failed too often";
        note.body = "Click to see the report.";
        note.urgency = Urgency::critical;
        note.details_path = details;
        auto id = n->notify(note);
        if (!id) return fail(id.error().message);
        std::printf("id %u\n", *id);
        std::fflush(stdout);
        sd_event_source* timer = nullptr;
        sd_event_add_time_relative(event, &timer, CLOCK_MONOTONIC, static_cast<uint64_t>(seconds * 1e6), 0, on_timeout,
                                   &state);
        sd_event_loop(event);
        sd_event_source_disable_unref(timer);
    }
    sd_event_unref(event); // the attached bus keeps its own reference until the Notifier goes
    return state.status;
}

int gate(int count)
{
    DesktopNotifier notifier({true, rules::Severity::warning}, &Notifier::connect_session, std::chrono::seconds(0));
    Notification note;
    note.topic = "verdict.now";
    note.summary = "ROCm engine broken";
    note.body = "Fix: something";
    note.urgency = Urgency::critical;
    note.severity = rules::Severity::broken;
    for (int i = 0; i < count; ++i) {
        const auto o = notifier.send(note);
        const char* kind = o.kind == DesktopNotifier::Outcome::Kind::sent       ? "sent"
                           : o.kind == DesktopNotifier::Outcome::Kind::filtered ? "filtered"
                                                                                : "unavailable";
        std::printf("outcome %s\n", kind);
        if (o.log) std::printf("log %s\n", o.log->c_str());
    }
    return 0;
}

} // namespace

namespace {

int run(int argc, char** argv)
{
    if (argc < 2) return fail("usage: halo_notify_send caps|send|reboot|action|gate …");
    const std::string command = argv[1];
    if (command == "caps") return caps();
    if (command == "send") return send(argc - 2, argv + 2);
    if (command == "reboot" && argc == 4) return reboot(argv[2], argv[3]);
    if (command == "action" && argc == 4) return action(argv[2], std::stod(argv[3]));
    if (command == "gate" && argc == 3) return gate(std::stoi(argv[2]));
    return fail("unknown command or wrong arguments");
}

} // namespace

int main(int argc, char** argv)
{
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        return fail(e.what());
    }
}
