#include "daemon/checkd/watchers.hpp"

#include "common/clock.hpp"
#include "daemon/checkd/callback_guard.hpp"
#include <fmt/core.h>
#include <systemd/sd-event.h>

#include <fnmatch.h>
#include <sys/inotify.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <utility>

namespace halo::checkd {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t k_max_errors = 16;
constexpr std::size_t k_max_paths = 32;
constexpr std::uint32_t k_self = IN_DELETE_SELF | IN_MOVE_SELF;
constexpr int k_arm_attempts = 8;

enum class Mode { none, directory, parent, ancestor };

std::uint32_t trigger_mask(WatchTrigger t) noexcept
{
    switch (t) {
    case WatchTrigger::content:
        return IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB;
    case WatchTrigger::writes: return IN_MODIFY | IN_MOVED_TO;
    case WatchTrigger::presence: return IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB;
    }
    return 0;
}

bool has_glob(std::string_view s) noexcept { return s.find_first_of("*?[") != std::string_view::npos; }

// "/a/b/c" → "/a/b"; "/a" → "/"
std::string parent_of(const std::string& p)
{
    const auto slash = p.find_last_of('/');
    if (slash == std::string::npos || slash == 0) return "/";
    return p.substr(0, slash);
}

std::string base_of(const std::string& p)
{
    const auto slash = p.find_last_of('/');
    return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::string join(const std::string& dir, std::string_view name)
{
    return dir == "/" ? "/" + std::string(name) : dir + "/" + std::string(name);
}

std::string normalize(std::string p)
{
    while (p.size() > 1 && p.back() == '/') p.pop_back();
    if (p.empty() || p[0] != '/') p.insert(p.begin(), '/');
    return p;
}

} // namespace

struct Watchers::Armed {
    Watchers* owner = nullptr;
    WatchPath spec;
    Mode mode = Mode::none;
    std::string watched; // Host-absolute directory watched
    std::string filter;  // child name or glob that counts ("" = any child)
    bool glob = false;   // the target's last component is a glob
    bool existed = false;
    bool rearm = false;
    SdEventSource source;
};

std::string_view to_string(WatchCategory category) noexcept
{
    switch (category) {
    case WatchCategory::rules: return "rules";
    case WatchCategory::config: return "config";
    case WatchCategory::packages: return "packages";
    case WatchCategory::boot: return "boot";
    case WatchCategory::containers: return "containers";
    case WatchCategory::devices: return "devices";
    case WatchCategory::knowledge: return "knowledge";
    }
    return "unknown";
}

std::size_t CategorySet::size() const noexcept
{
    std::size_t n = 0;
    for (unsigned b = m_bits; b; b &= b - 1) ++n;
    return n;
}

std::string CategorySet::str() const
{
    std::string out;
    for (unsigned i = 0; i <= static_cast<unsigned>(WatchCategory::devices); ++i) {
        if (!contains(static_cast<WatchCategory>(i))) continue;
        if (!out.empty()) out += ',';
        out += to_string(static_cast<WatchCategory>(i));
    }
    return out;
}

std::vector<WatchPath> Watchers::container_storage_paths(const std::string& graphroot)
{
    std::vector<WatchPath> out;
    for (const char* driver : {"overlay", "vfs"}) {
        out.push_back({fmt::format("{}/{}-containers/containers.json", graphroot, driver),
                       WatchCategory::containers,
                       WatchTrigger::content,
                       {}});
        out.push_back({fmt::format("{}/{}-images/images.json", graphroot, driver),
                       WatchCategory::containers,
                       WatchTrigger::content,
                       {}});
    }
    return out;
}

std::vector<WatchPath> Watchers::default_paths(const probes::Host& host)
{
    using C = WatchCategory;
    using T = WatchTrigger;
    std::vector<WatchPath> p = {
        {"/etc/halo-check/rules.d", C::rules, T::content, "*.toml"},
        {"/usr/share/halo-check/rules.d", C::rules, T::content, "*.toml"},
        {"/etc/halo-check/config.toml", C::config, T::content, {}},
        // Only the database itself: readers create, truncate and delete -wal/-shm (see above); a
        // writer's transaction reaches rpmdb.sqlite when rpm closes the database (WAL checkpoint).
        {"/usr/lib/sysimage/rpm/rpmdb.sqlite", C::packages, T::writes, {}},
        {"/var/lib/rpm/rpmdb.sqlite", C::packages, T::writes, {}},
        {"/var/lib/rpm/Packages", C::packages, T::writes, {}},
        {"/var/lib/dpkg/status", C::packages, T::content, {}},
        {"/var/lib/pacman/local", C::packages, T::presence, {}},
        {"/boot/loader/entries", C::boot, T::content, "*.conf"},
        {"/boot/initramfs-*", C::boot, T::content, {}},
        {"/boot/initrd.img-*", C::boot, T::content, {}},
        {"/boot/grub2/grubenv", C::boot, T::content, {}},
        {"/boot/grub/grubenv", C::boot, T::content, {}},
        {"/usr/lib/modules", C::boot, T::presence, {}},
        {"/dev/kfd", C::devices, T::presence, {}},
        {"/dev/dri", C::devices, T::presence, "renderD*"},
    };
    for (auto& w : container_storage_paths("/var/lib/containers/storage")) p.push_back(std::move(w));

    const auto home = host.env("HOME");
    std::optional<std::string> config = host.env("XDG_CONFIG_HOME");
    if (!config && home) config = *home + "/.config";
    if (config && !config->empty() && (*config)[0] == '/') {
        p.push_back({*config + "/halo-check/rules.d", C::rules, T::content, "*.toml"});
        p.push_back({*config + "/halo-check/config.toml", C::config, T::content, {}});
    }
    std::optional<std::string> data = host.env("XDG_DATA_HOME");
    if (!data && home) data = *home + "/.local/share";
    if (data && !data->empty() && (*data)[0] == '/')
        for (auto& w : container_storage_paths(*data + "/containers/storage")) p.push_back(std::move(w));
    return p;
}

Watchers::Watchers(probes::Host host, std::vector<WatchPath> paths, Callback on_batch, WatchOptions options)
    : m_host(std::move(host)), m_on_batch(std::move(on_batch)), m_options(options)
{
    set_paths(std::move(paths));
}

Watchers::~Watchers() = default;

void Watchers::set_paths(std::vector<WatchPath> paths)
{
    m_armed.clear(); // sources are disabled before the entries go
    for (auto& p : paths) {
        auto a = std::make_unique<Armed>();
        a->owner = this;
        p.path = normalize(std::move(p.path));
        a->spec = std::move(p);
        a->existed = !has_glob(base_of(a->spec.path)) && m_host.exists(a->spec.path);
        m_armed.push_back(std::move(a));
    }
    if (m_event)
        for (auto& a : m_armed) arm(*a);
}

Result<void> Watchers::attach(sd_event* event)
{
    m_event = event;
    sd_event_source* s = nullptr;
    int r = sd_event_add_defer(event, &s, on_rearm, this);
    if (r < 0) return Error{fmt::format("Failed to add the watch re-arm source: {}", std::strerror(-r)), -r};
    m_rearm.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    sd_event_source_set_description(s, "watch-rearm");
    r = sd_event_add_time(event, &s, CLOCK_MONOTONIC, 0, 1000, on_timer, this);
    if (r < 0) return Error{fmt::format("Failed to add the watch debounce timer: {}", std::strerror(-r)), -r};
    m_timer.reset(s);
    sd_event_source_set_enabled(s, SD_EVENT_OFF);
    sd_event_source_set_description(s, "watch-debounce");
    for (auto& a : m_armed) arm(*a);
    return {};
}

void Watchers::arm(Armed& a)
{
    a.source.reset();
    a.mode = Mode::none;
    a.rearm = false;
    const std::string& target = a.spec.path;
    const std::string base = base_of(target);
    a.glob = has_glob(base);

    // Whether a watch through `dir` is too shallow already: the directory it waits for is there.
    auto deeper_exists = [&](const std::string& dir) {
        std::string next;
        if (a.mode == Mode::ancestor) next = join(dir, a.filter);
        else if (a.mode == Mode::parent && !a.glob) next = target;
        else return false;
        auto info = m_host.stat(next);
        return info.ok() && info->is_directory;
    };
    // A directory may vanish between the check and the watch: retry from the top a few times.
    for (int attempt = 0; attempt < k_arm_attempts; ++attempt) {
        a.source.reset();
        std::string dir;
        std::uint32_t mask = IN_ONLYDIR | k_self;
        auto info = a.glob ? Result<probes::FileInfo>(Error{}) : m_host.stat(target);
        if (info.ok() && info->is_directory) {
            a.mode = Mode::directory;
            dir = target;
            a.filter = a.spec.child_glob;
            mask |= trigger_mask(a.spec.trigger);
        } else {
            dir = parent_of(target);
            auto pinfo = m_host.stat(dir);
            if (pinfo.ok() && pinfo->is_directory) {
                a.mode = Mode::parent;
                a.filter = base;
                // IN_CREATE too, so a target that appears as a directory switches to directory mode.
                mask |= trigger_mask(a.spec.trigger) | IN_CREATE | IN_MOVED_TO;
            } else {
                // Walk up to the nearest existing ancestor; watch it for the next component.
                std::string child = dir;
                dir = parent_of(dir);
                while (dir != "/") {
                    auto i = m_host.stat(dir);
                    if (i.ok() && i->is_directory) break;
                    child = dir;
                    dir = parent_of(dir);
                }
                a.mode = Mode::ancestor;
                a.filter = base_of(child);
                mask |= IN_CREATE | IN_MOVED_TO;
            }
        }
        if (m_arm_hook) m_arm_hook(dir);
        sd_event_source* s = nullptr;
        const std::string real = m_host.path(dir).string();
        const int r = sd_event_add_inotify(m_event, &s, real.c_str(), mask, on_inotify, &a);
        if ((r == -ENOENT || r == -ENOTDIR) && dir != "/") continue;
        if (r < 0) {
            note_error(fmt::format("Failed to watch '{}': {}, changes to '{}' will not be noticed", real,
                                   std::strerror(-r), target));
            a.mode = Mode::none;
            return;
        }
        a.source.reset(s);
        a.watched = dir;
        sd_event_source_set_description(s, "watch");
        // The next directory down may have been made between the walk and the watch: its
        // creation event came before the watch and is lost, so walk again from the top.
        if (attempt + 1 < k_arm_attempts && deeper_exists(dir)) continue;
        break;
    }
    if (!a.source) {
        a.mode = Mode::none;
        note_error(fmt::format("Failed to watch '{}': its directories keep changing", target));
        return;
    }
    // It may have appeared (or gone) while nothing watched it.
    if (!a.glob) {
        const bool exists = m_host.exists(target);
        if (exists != a.existed) changed(a.spec.category, target);
        a.existed = exists;
    }
}

void Watchers::schedule_rearm(Armed& a)
{
    a.rearm = true;
    if (m_rearm) sd_event_source_set_enabled(m_rearm.get(), SD_EVENT_ONESHOT);
}

void Watchers::rearm_pending()
{
    for (auto& a : m_armed)
        if (a->rearm) arm(*a);
}

void Watchers::handle(Armed& a, const struct inotify_event& ev)
{
    const std::string_view name = ev.len ? std::string_view(ev.name) : std::string_view();
    if (ev.mask & IN_Q_OVERFLOW) { // events were lost: assume the worst
        changed(a.spec.category, a.spec.path);
        schedule_rearm(a);
        return;
    }
    if (ev.mask & (k_self | IN_IGNORED | IN_UNMOUNT)) {
        if (a.mode == Mode::directory) changed(a.spec.category, a.spec.path);
        schedule_rearm(a);
        return;
    }
    if (name.empty()) return;
    const std::string name_s(name);
    switch (a.mode) {
    case Mode::directory:
        if (!(ev.mask & trigger_mask(a.spec.trigger))) return;
        if (!a.filter.empty() && fnmatch(a.filter.c_str(), name_s.c_str(), FNM_PERIOD) != 0) return;
        changed(a.spec.category, join(a.watched, name));
        return;
    case Mode::parent:
        if (fnmatch(a.filter.c_str(), name_s.c_str(), FNM_PERIOD) != 0) return;
        if (!a.glob && (ev.mask & IN_ISDIR) && (ev.mask & (IN_CREATE | IN_MOVED_TO))) {
            schedule_rearm(a); // the target appeared as a directory: watch inside it
            return;
        }
        if (ev.mask & trigger_mask(a.spec.trigger)) {
            changed(a.spec.category, join(a.watched, name));
        } else if (!a.glob && (ev.mask & (IN_CREATE | IN_MOVED_TO)) && !a.existed) {
            changed(a.spec.category, a.spec.path); // appeared, though its trigger ignores creation
        }
        if (!a.glob) a.existed = m_host.exists(a.spec.path);
        return;
    case Mode::ancestor:
        if (name == a.filter) schedule_rearm(a);
        return;
    case Mode::none: return;
    }
}

void Watchers::changed(WatchCategory category, const std::string& path)
{
    m_pending.add(category);
    if (m_pending_paths.size() < k_max_paths) m_pending_paths.insert(path);
    const std::uint64_t now = now_mono();
    if (!m_batch_open) {
        m_batch_open = true;
        m_batch_start = now;
    }
    const std::uint64_t deadline = std::min(now + m_options.quiet_usec, m_batch_start + m_options.max_delay_usec);
    if (m_timer) {
        sd_event_source_set_time(m_timer.get(), deadline);
        sd_event_source_set_enabled(m_timer.get(), SD_EVENT_ONESHOT);
    }
}

void Watchers::deliver() noexcept
{
    if (!m_batch_open) return;
    try {
        WatchBatch batch;
        batch.categories = m_pending;
        batch.paths.assign(m_pending_paths.begin(), m_pending_paths.end());
        m_pending = {};
        m_pending_paths.clear();
        m_batch_open = false;
        ++m_batches;
        if (m_on_batch) m_on_batch(batch);
    } catch (const std::exception& e) {
        note_error(fmt::format("Watch handler failed: {}", e.what()));
    } catch (...) {
        note_error("Watch handler failed");
    }
}

std::vector<std::string> Watchers::watched_dirs() const
{
    std::vector<std::string> out;
    for (const auto& a : m_armed) out.push_back(a->mode == Mode::none ? std::string() : a->watched);
    return out;
}

void Watchers::note_error(std::string message) noexcept
{
    try {
        if (m_errors.size() >= k_max_errors) m_errors.erase(m_errors.begin());
        m_errors.push_back(std::move(message));
    } catch (...) {
        // No room to keep it for errors(): it goes to the daemon's log at once instead.
        report_callback_error("watchers", message);
    }
}

std::uint64_t Watchers::now_mono() const noexcept
{
    std::uint64_t t = 0;
    if (m_event && sd_event_now(m_event, CLOCK_MONOTONIC, &t) >= 0) return t;
    return clock_usec(CLOCK_MONOTONIC);
}

int Watchers::on_inotify(sd_event_source*, const struct inotify_event* event, void* userdata) noexcept
{
    auto* a = static_cast<Armed*>(userdata);
    return guard_callback(
        "watchers.on_inotify", 0, [&] { a->owner->handle(*a, *event); },
        // The event is lost: as after a queue overflow, assume the worst and watch afresh.
        [a](std::string_view what) {
            a->owner->note_error(fmt::format("Failed to handle a change under '{}': {}", a->watched, what));
            a->owner->changed(a->spec.category, a->spec.path);
            a->owner->schedule_rearm(*a);
        });
}

int Watchers::on_rearm(sd_event_source*, void* userdata) noexcept
{
    auto* self = static_cast<Watchers*>(userdata);
    // A watch that failed half way through arm() is left unwatched (Mode::none), as errors()
    // says; the others keep what they had.
    return guard_callback(
        "watchers.on_rearm", 0, [self] { self->rearm_pending(); },
        [self](std::string_view what) { self->note_error(fmt::format("Failed to re-arm watches: {}", what)); });
}

int Watchers::on_timer(sd_event_source*, std::uint64_t, void* userdata) noexcept
{
    auto* self = static_cast<Watchers*>(userdata);
    // deliver() contains the batch handler's failures itself; nothing else here can throw.
    return guard_callback("watchers.on_timer", 0, [self] { self->deliver(); });
}

} // namespace halo::checkd
