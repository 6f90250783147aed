#include "daemon/checkd/notifier.hpp"

#include "daemon/checkd/callback_guard.hpp"
#include "daemon/checkd/sd_handles.hpp"

#include <fmt/core.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <systemd/sd-login.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <spawn.h>
#include <sys/stat.h>
#include <unistd.h>

extern char** environ;

namespace halo::checkd {

namespace {

constexpr const char* k_service = "org.freedesktop.Notifications";
constexpr const char* k_path = "/org/freedesktop/Notifications";
constexpr const char* k_interface = "org.freedesktop.Notifications";
constexpr const char* k_app_name = "halo-check";
constexpr const char* k_desktop_entry = "halo-check";
constexpr const char* k_details_label = "Show details";

using Bus = SdBus;
using Message = SdBusMessage;
using Slot = SdBusSlot;

class BusError {
public:
    BusError() = default;
    BusError(const BusError&) = delete;
    BusError& operator=(const BusError&) = delete;
    ~BusError() { sd_bus_error_free(&m_error); }
    sd_bus_error* get() noexcept { return &m_error; }
    // "org.freedesktop.DBus.Error.ServiceUnknown: The name … was not provided by any .service files"
    std::string describe(int r) const
    {
        if (sd_bus_error_is_set(&m_error))
            return fmt::format("{}: {}", m_error.name, m_error.message ? m_error.message : "");
        return std::strerror(-r);
    }

private:
    sd_bus_error m_error{nullptr, nullptr, 0}; // SD_BUS_ERROR_NULL is a C compound literal
};

Error bus_failure(const char* what, int r)
{
    return Error{fmt::format("Failed to {}: {}", what, std::strerror(-r)), -r};
}

const char* default_icon(Urgency urgency)
{
    switch (urgency) {
    case Urgency::critical: return "dialog-error";
    case Urgency::normal: return "dialog-warning";
    case Urgency::low: return "dialog-information";
    }
    return "dialog-information";
}

} // namespace

struct Notifier::Impl {
    Bus bus;
    Slot action_slot;
    Slot closed_slot;
    std::optional<std::vector<std::string>> capabilities;
    std::map<std::string, std::uint32_t> topic_ids;
    std::map<std::uint32_t, std::string> id_topics;
    std::map<std::string, std::string> details;
    std::function<void(const ActionEvent&)> on_action;
    bool attached = false;

    ~Impl()
    {
        action_slot.reset();
        closed_slot.reset();
        if (attached && bus) (void)sd_bus_detach_event(bus.get());
    }

    void forget(std::uint32_t id)
    {
        auto it = id_topics.find(id);
        if (it == id_topics.end()) return;
        if (auto t = topic_ids.find(it->second); t != topic_ids.end() && t->second == id) topic_ids.erase(t);
        id_topics.erase(it);
    }

    int handle_action(sd_bus_message* m)
    {
        std::uint32_t id = 0;
        const char* key = nullptr;
        if (sd_bus_message_read(m, "us", &id, &key) < 0) return 0; // not ours to judge; ignore
        auto it = id_topics.find(id);
        if (it == id_topics.end() || !on_action) return 0;
        ActionEvent event{it->second, key ? key : "", id, {}};
        if (auto d = details.find(it->second); d != details.end()) event.details_path = d->second;
        on_action(event);
        return 0;
    }

    int handle_closed(sd_bus_message* m)
    {
        std::uint32_t id = 0;
        std::uint32_t reason = 0;
        if (sd_bus_message_read(m, "uu", &id, &reason) < 0) return 0;
        forget(id);
        return 0;
    }

    // 0 on failure too: a failing handler must not take the bus connection down. Both only read
    // one signal; the maps they touch are consistent whether or not they got to the end.
    static int on_action_invoked(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept
    {
        return guard_callback("notifier.on_action_invoked", 0,
                              [&] { return static_cast<Impl*>(userdata)->handle_action(m); });
    }

    static int on_notification_closed(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept
    {
        return guard_callback("notifier.on_notification_closed", 0,
                              [&] { return static_cast<Impl*>(userdata)->handle_closed(m); });
    }

    Result<void> subscribe()
    {
        // No sender in the match: sd-bus compares a signal's sender (a unique name) locally, so
        // a well-known name would never match. Only ids this connection got back are acted on.
        sd_bus_slot* slot = nullptr;
        int r = sd_bus_match_signal(bus.get(), &slot, nullptr, k_path, k_interface, "ActionInvoked",
                                    &Impl::on_action_invoked, this);
        if (r < 0) return bus_failure("subscribe to the notification server's ActionInvoked signal", r);
        action_slot.reset(slot);
        r = sd_bus_match_signal(bus.get(), &slot, nullptr, k_path, k_interface, "NotificationClosed",
                                &Impl::on_notification_closed, this);
        if (r < 0) return bus_failure("subscribe to the notification server's NotificationClosed signal", r);
        closed_slot.reset(slot);
        return {};
    }

    Result<Message> call(const char* method, const std::function<int(sd_bus_message*)>& append)
    {
        sd_bus_message* raw = nullptr;
        int r = sd_bus_message_new_method_call(bus.get(), &raw, k_service, k_path, k_interface, method);
        if (r < 0) return bus_failure("create a D-Bus message", r);
        Message m(raw);
        if (append) {
            r = append(m.get());
            if (r < 0) return bus_failure("build the notification message", r);
        }
        BusError error;
        sd_bus_message* reply = nullptr;
        r = sd_bus_call(bus.get(), m.get(),
                        std::chrono::duration_cast<std::chrono::microseconds>(k_call_timeout).count(), error.get(),
                        &reply);
        if (r < 0) {
            return Error{
                fmt::format("Failed to call {}.{} on the session bus: {}", k_interface, method, error.describe(r)), -r};
        }
        return Message(reply);
    }
};

Notifier::Notifier(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Notifier::Notifier(Notifier&&) noexcept = default;
Notifier& Notifier::operator=(Notifier&&) noexcept = default;
Notifier::~Notifier() = default;

Result<Notifier> Notifier::connect_session()
{
    sd_bus* raw = nullptr;
    const int r = sd_bus_open_user(&raw);
    if (r == -ENOMEDIUM) {
        return Error{"No desktop session bus: neither DBUS_SESSION_BUS_ADDRESS nor XDG_RUNTIME_DIR is set (headless "
                     "or a system service); desktop notifications are off, events go to the journal only",
                     ENOMEDIUM};
    }
    if (r < 0) {
        const char* address = std::getenv("DBUS_SESSION_BUS_ADDRESS");
        return Error{fmt::format("Failed to connect to the session bus{}: {}",
                                 address ? fmt::format(" '{}'", address) : std::string(), std::strerror(-r)),
                     -r};
    }
    auto impl = std::make_unique<Impl>();
    impl->bus.reset(raw);
    HALO_TRY(impl->subscribe());
    return Notifier(std::move(impl));
}

Result<Notifier> Notifier::connect_address(const std::string& address)
{
    sd_bus* raw = nullptr;
    int r = sd_bus_new(&raw);
    if (r < 0) return bus_failure("allocate a D-Bus connection", r);
    auto impl = std::make_unique<Impl>();
    impl->bus.reset(raw);
    if ((r = sd_bus_set_address(raw, address.c_str())) < 0 || (r = sd_bus_set_bus_client(raw, 1)) < 0 ||
        (r = sd_bus_start(raw)) < 0) {
        return Error{fmt::format("Failed to connect to the bus '{}': {}", address, std::strerror(-r)), -r};
    }
    HALO_TRY(impl->subscribe());
    return Notifier(std::move(impl));
}

Result<std::vector<std::string>> Notifier::capabilities()
{
    if (m_impl->capabilities) return *m_impl->capabilities;
    auto reply = m_impl->call("GetCapabilities", {});
    if (!reply) {
        return Error{fmt::format("No desktop notification server answers on the session bus ({}); start one (dunst, "
                                 "GNOME Shell, Plasma …) or leave notifications to the journal",
                                 reply.error().message),
                     reply.error().errno_value};
    }
    char** strv = nullptr;
    const int r = sd_bus_message_read_strv(reply->get(), &strv);
    if (r < 0) return bus_failure("read the notification server's capabilities", r);
    std::vector<std::string> caps;
    for (char** s = strv; s && *s; ++s) {
        caps.emplace_back(*s);
        std::free(*s);
    }
    std::free(strv);
    m_impl->capabilities = caps;
    return caps;
}

bool Notifier::supports_actions()
{
    auto caps = capabilities();
    return caps && std::find(caps->begin(), caps->end(), "actions") != caps->end();
}

std::optional<std::uint32_t> Notifier::id_for(const std::string& topic) const
{
    auto it = m_impl->topic_ids.find(topic);
    if (it == m_impl->topic_ids.end()) return std::nullopt;
    return it->second;
}

void Notifier::on_action(std::function<void(const ActionEvent&)> callback) { m_impl->on_action = std::move(callback); }

Result<std::uint32_t> Notifier::notify(const Notification& n)
{
    auto caps = capabilities();
    if (!caps) return caps.error();
    const bool markup = std::find(caps->begin(), caps->end(), "body-markup") != caps->end();
    const bool actions = std::find(caps->begin(), caps->end(), "actions") != caps->end();
    const std::uint32_t replaces = id_for(n.topic).value_or(0);
    const std::string body = markup ? escape_markup(n.body) : n.body;
    const std::string icon = n.icon.empty() ? default_icon(n.urgency) : n.icon;

    auto reply = m_impl->call("Notify", [&](sd_bus_message* m) {
        int r = sd_bus_message_append(m, "susss", k_app_name, replaces, icon.c_str(), n.summary.c_str(), body.c_str());
        if (r < 0) return r;
        if ((r = sd_bus_message_open_container(m, 'a', "s")) < 0) return r;
        if (actions) {
            if (!n.details_path.empty()) {
                // "default" is a click on the notification; "details" is the button for servers
                // that show buttons but no click action.
                for (const char* key : {"default", "details"}) {
                    if ((r = sd_bus_message_append(m, "ss", key, k_details_label)) < 0) return r;
                }
            }
            for (const Action& a : n.actions) {
                if ((r = sd_bus_message_append(m, "ss", a.key.c_str(), a.label.c_str())) < 0) return r;
            }
        }
        if ((r = sd_bus_message_close_container(m)) < 0) return r;
        if ((r = sd_bus_message_open_container(m, 'a', "{sv}")) < 0) return r;
        if ((r = sd_bus_message_append(m, "{sv}", "urgency", "y", static_cast<std::uint8_t>(n.urgency))) < 0) return r;
        if ((r = sd_bus_message_append(m, "{sv}", "desktop-entry", "s", k_desktop_entry)) < 0) return r;
        if ((r = sd_bus_message_close_container(m)) < 0) return r;
        return sd_bus_message_append(m, "i", static_cast<std::int32_t>(-1));
    });
    if (!reply) return reply.error();
    std::uint32_t id = 0;
    const int r = sd_bus_message_read(reply->get(), "u", &id);
    if (r < 0) return bus_failure("read the notification id", r);
    if (replaces != 0 && replaces != id) m_impl->forget(replaces);
    m_impl->topic_ids[n.topic] = id;
    m_impl->id_topics[id] = n.topic;
    if (n.details_path.empty()) m_impl->details.erase(n.topic);
    else m_impl->details[n.topic] = n.details_path;
    return id;
}

Result<void> Notifier::close(const std::string& topic)
{
    const auto id = id_for(topic);
    if (!id) return {};
    auto reply =
        m_impl->call("CloseNotification", [&](sd_bus_message* m) { return sd_bus_message_append(m, "u", *id); });
    m_impl->forget(*id);
    if (!reply) return reply.error();
    return {};
}

Result<std::string> Notifier::server_name()
{
    auto reply = m_impl->call("GetServerInformation", {});
    if (!reply) return reply.error();
    const char* name = nullptr;
    const char* vendor = nullptr;
    const char* version = nullptr;
    const char* spec = nullptr;
    const int r = sd_bus_message_read(reply->get(), "ssss", &name, &vendor, &version, &spec);
    if (r < 0) return bus_failure("read the notification server's information", r);
    return fmt::format("{} {} ({}, spec {})", name, version, vendor, spec);
}

Result<void> Notifier::attach(sd_event* event, int priority)
{
    if (m_impl->attached) (void)sd_bus_detach_event(m_impl->bus.get());
    const int r = sd_bus_attach_event(m_impl->bus.get(), event, priority);
    if (r < 0) return bus_failure("attach the session bus to the event loop", r);
    m_impl->attached = true;
    return {};
}

Result<bool> Notifier::process(std::chrono::milliseconds wait)
{
    const auto deadline = std::chrono::steady_clock::now() + wait;
    bool any = false;
    for (;;) {
        int r = sd_bus_process(m_impl->bus.get(), nullptr);
        if (r < 0) return bus_failure("process the session bus", r);
        if (r > 0) {
            any = true;
            continue;
        }
        const auto left = deadline - std::chrono::steady_clock::now();
        if (left <= std::chrono::steady_clock::duration::zero()) return any;
        r = sd_bus_wait(m_impl->bus.get(), static_cast<std::uint64_t>(
                                               std::chrono::duration_cast<std::chrono::microseconds>(left).count()));
        if (r < 0 && r != -EINTR) return bus_failure("wait on the session bus", r);
    }
}

Result<pid_t> open_details(const std::string& path)
{
    posix_spawnattr_t attr;
    posix_spawn_file_actions_t actions;
    if (posix_spawnattr_init(&attr) != 0 || posix_spawn_file_actions_init(&actions) != 0)
        return Error{"Failed to prepare to run 'xdg-open': out of memory", ENOMEM};
    // The daemon blocks signals for sd-event (SIGCHLD, SIGTERM …); the opener must not inherit that.
    sigset_t none;
    sigset_t all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    for (int fd = 0; fd <= 2; ++fd)
        posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
    std::string program = "xdg-open";
    std::string argument = path;
    char* argv[] = {program.data(), argument.data(), nullptr};
    pid_t pid = 0;
    const int r = posix_spawnp(&pid, "xdg-open", &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (r != 0) return Error{fmt::format("Failed to run 'xdg-open {}': {}", path, std::strerror(r)), r};
    return pid;
}

bool is_graphical_session_type(std::string_view type) noexcept
{
    return type == "x11" || type == "wayland" || type == "mir";
}

Result<std::vector<SessionBus>> find_session_buses(const std::string& runtime_root)
{
    uid_t* uids = nullptr;
    const int n = sd_get_uids(&uids);
    std::vector<SessionBus> found;
    if (n == -ENOENT || n == 0) return found; // no logind: nobody is logged in graphically
    if (n < 0) return bus_failure("list the logged-in users (sd_get_uids)", n);
    std::unique_ptr<uid_t, decltype(&std::free)> own_uids(uids, &std::free);
    for (int i = 0; i < n; ++i) {
        char** sessions = nullptr;
        const int count = sd_uid_get_sessions(uids[i], 0, &sessions);
        if (count <= 0) continue;
        std::optional<SessionBus> pick;
        for (int s = 0; s < count; ++s) {
            char* type = nullptr;
            char* klass = nullptr;
            const bool graphical =
                sd_session_get_type(sessions[s], &type) >= 0 && type && is_graphical_session_type(type);
            const bool user =
                sd_session_get_class(sessions[s], &klass) >= 0 && klass && std::string_view(klass) == "user";
            if (graphical && user && (!pick || sd_session_is_active(sessions[s]) > 0))
                pick = SessionBus{uids[i], {}, sessions[s], type};
            std::free(type);
            std::free(klass);
        }
        for (int s = 0; s < count; ++s) std::free(sessions[s]);
        std::free(sessions);
        if (!pick) continue;
        const std::string socket = fmt::format("{}/{}/bus", runtime_root, uids[i]);
        struct stat st {};
        if (::stat(socket.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) continue; // no user bus (no dbus-user-session)
        pick->address = "unix:path=" + socket;
        found.push_back(std::move(*pick));
    }
    return found;
}

std::string unavailable_log(std::string_view cause)
{
    // connect_session() says the consequence itself, for callers without a gate: once is enough.
    constexpr std::string_view k_consequence = "events go to the journal only";
    if (cause.find(k_consequence) != std::string_view::npos) {
        return fmt::format("Desktop notifications are unavailable: {}; the next event tries again", cause);
    }
    return fmt::format("Desktop notifications are unavailable: {}; {}, and the next event tries again", cause,
                       k_consequence);
}

DesktopNotifier::DesktopNotifier(NotifyPolicy policy, Connect connect,
                                 std::chrono::steady_clock::duration retry_interval)
    : m_policy(policy), m_connect(std::move(connect)), m_retry_interval(retry_interval)
{}

void DesktopNotifier::set_event(sd_event* event, int priority)
{
    m_event = event;
    m_priority = priority;
    if (m_notifier && event) (void)m_notifier->attach(event, priority);
}

void DesktopNotifier::on_action(std::function<void(const ActionEvent&)> callback)
{
    m_on_action = std::move(callback);
    if (m_notifier) m_notifier->on_action(m_on_action);
}

DesktopNotifier::Outcome DesktopNotifier::send(const Notification& n)
{
    const bool shown = std::find(m_shown_topics.begin(), m_shown_topics.end(), n.topic) != m_shown_topics.end();
    if (!passes(m_policy, n, shown)) return {Outcome::Kind::filtered, 0, std::nullopt};

    auto unavailable = [this](const Error& error) {
        Outcome o{Outcome::Kind::unavailable, 0, std::nullopt};
        if (!m_reported_unavailable) {
            o.log = unavailable_log(error.message);
            m_reported_unavailable = true;
        }
        return o;
    };
    auto connect = [this]() -> Result<void> {
        m_last_attempt = std::chrono::steady_clock::now();
        auto c = m_connect();
        if (!c) return c.error();
        m_notifier.emplace(std::move(*c));
        if (m_event) HALO_TRY(m_notifier->attach(m_event, m_priority));
        if (m_on_action) m_notifier->on_action(m_on_action);
        return {};
    };

    bool fresh = false;
    if (!m_notifier) {
        if (m_last_attempt && std::chrono::steady_clock::now() - *m_last_attempt < m_retry_interval)
            return {Outcome::Kind::unavailable, 0, std::nullopt};
        if (auto r = connect(); !r) {
            m_notifier.reset();
            return unavailable(r.error());
        }
        fresh = true;
    }
    auto id = m_notifier->notify(n);
    if (!id && !fresh) {
        // The bus or the server went away since the last event: one fresh connection.
        m_notifier.reset();
        if (auto r = connect(); !r) {
            m_notifier.reset();
            return unavailable(r.error());
        }
        id = m_notifier->notify(n);
    }
    if (!id) {
        m_notifier.reset();
        return unavailable(id.error());
    }
    if (!shown) m_shown_topics.push_back(n.topic);
    Outcome o{Outcome::Kind::sent, *id, std::nullopt};
    if (m_reported_unavailable) {
        o.log = "Desktop notifications work again";
        m_reported_unavailable = false;
    }
    return o;
}

} // namespace halo::checkd
