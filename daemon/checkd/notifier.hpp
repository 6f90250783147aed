#pragma once
// Desktop notifications through org.freedesktop.Notifications over sd-bus (no libnotify):
// the Notify call with app name "halo-check", an icon, the urgency and desktop-entry hints,
// replaces_id per topic (one topic = one notification on screen), a "Show details" action only
// where GetCapabilities lists "actions", and the ActionInvoked and NotificationClosed signals.
//
// External interface: the session bus (DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus), or
// a given address (system-service mode: unix:path=/run/user/UID/bus; dbus-daemon lets root and
// the bus owner connect); sd-login (/run/systemd/users, /run/systemd/sessions) for
// find_session_buses(); runs `xdg-open` for open_details().
//
// Threading: none. A Notifier lives on the daemon's event-loop thread. notify() is a blocking
// method call bounded by k_call_timeout; signals (ActionInvoked, NotificationClosed) arrive when
// the bus is processed: attach() it to the daemon's sd-event loop, or call process() in a
// program without one. Callbacks run inside sd_bus_process(); exceptions they throw are caught
// and dropped (they never cross the C callback).

#include "common/result.hpp"
#include "daemon/checkd/notification.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

struct sd_event;

namespace halo::checkd {

inline constexpr std::chrono::milliseconds k_call_timeout{2000};

struct ActionEvent {
    std::string topic;
    std::string action; // "default" (a click) or "details" (the button)
    std::uint32_t id = 0;
    std::string details_path;
};

class Notifier {
public:
    // The user's session bus. Headless (neither DBUS_SESSION_BUS_ADDRESS nor XDG_RUNTIME_DIR):
    // an error saying so, with errno ENOMEDIUM.
    static Result<Notifier> connect_session();
    // A bus by address ("unix:path=/run/user/1000/bus").
    static Result<Notifier> connect_address(const std::string& address);

    Notifier(Notifier&&) noexcept;
    Notifier& operator=(Notifier&&) noexcept;
    ~Notifier();

    // Shows `n`, replacing the notification shown earlier for the same topic. Body markup is
    // escaped where the server parses it. Returns the server's notification id. The first call
    // asks for the server's capabilities; no server on the bus is an error naming the bus error.
    Result<std::uint32_t> notify(const Notification& n);
    // Closes the topic's notification, if one is shown.
    Result<void> close(const std::string& topic);

    // The server's capabilities ("actions", "body-markup", …), asked once and kept.
    Result<std::vector<std::string>> capabilities();
    bool supports_actions();
    // The id shown for a topic, if any (forgotten when the server reports it closed).
    std::optional<std::uint32_t> id_for(const std::string& topic) const;

    // Called for ActionInvoked on one of our notifications.
    void on_action(std::function<void(const ActionEvent&)> callback);

    // Lets the daemon's sd-event loop dispatch the bus (sd_bus_attach_event). Detached on
    // destruction.
    Result<void> attach(sd_event* event, int priority = 0);
    // Without an event loop: dispatches what arrives within `wait`. Returns true when a message
    // was processed.
    Result<bool> process(std::chrono::milliseconds wait);

    // The server's name/vendor/version (GetServerInformation), for logs and tests.
    Result<std::string> server_name();

private:
    struct Impl;
    explicit Notifier(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

// Opens `path` with the desktop's handler (`xdg-open`, in a new session, stdio on /dev/null).
// Returns the child's pid: the caller reaps it (sd_event_add_child in the daemon, waitpid in
// programs without a loop). xdg-open works on every desktop and opens a text report in the
// user's editor; a terminal emulator has no cross-desktop command to start it.
Result<pid_t> open_details(const std::string& path);

// A graphical session's user and the address of that user's session bus, for a daemon running
// as a system service.
struct SessionBus {
    uid_t uid = 0;
    std::string address;      // unix:path=/run/user/UID/bus
    std::string session;      // logind session id
    std::string session_type; // x11, wayland, mir
};
// Users with an active graphical session (sd-login: sd_get_uids, sd_uid_get_sessions,
// sd_session_get_type/class) whose bus socket exists under `runtime_root` (default /run/user).
// No logind (containers, early boot) is an empty list, not an error.
Result<std::vector<SessionBus>> find_session_buses(const std::string& runtime_root = "/run/user");
bool is_graphical_session_type(std::string_view type) noexcept;

// The gate the daemon calls for every event: [notify] policy, connecting lazily, and "no desktop"
// reported once. While no server can be reached, each event retries (at most every
// `retry_interval`); the outcome carries a message to log only when availability changes.
// The one line logged when notifications become unavailable: why, that events go to the
// journal only (said once, also when `cause` says it already), and that the next event retries.
std::string unavailable_log(std::string_view cause);

class DesktopNotifier {
public:
    using Connect = std::function<Result<Notifier>()>;
    explicit DesktopNotifier(NotifyPolicy policy, Connect connect = &Notifier::connect_session,
                             std::chrono::steady_clock::duration retry_interval = std::chrono::seconds(30));

    struct Outcome {
        enum class Kind { sent, filtered, unavailable };
        Kind kind = Kind::filtered;
        std::uint32_t id = 0;
        // Set once when notifications become unavailable and once when they come back: log it.
        std::optional<std::string> log;
    };
    Outcome send(const Notification& n);

    void set_policy(NotifyPolicy policy) { m_policy = policy; }
    // Every connection made from now on is attached to `event`.
    void set_event(sd_event* event, int priority = 0);
    void on_action(std::function<void(const ActionEvent&)> callback);
    bool available() const { return m_notifier.has_value(); }
    Notifier* notifier() { return m_notifier ? &*m_notifier : nullptr; }

private:
    NotifyPolicy m_policy;
    Connect m_connect;
    std::chrono::steady_clock::duration m_retry_interval;
    std::optional<std::chrono::steady_clock::time_point> m_last_attempt;
    std::optional<Notifier> m_notifier;
    bool m_reported_unavailable = false;
    std::vector<std::string> m_shown_topics;
    sd_event* m_event = nullptr;
    int m_priority = 0;
    std::function<void(const ActionEvent&)> m_on_action;
};

} // namespace halo::checkd
