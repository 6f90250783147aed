#pragma once
// Watchers: notice, without polling, the changes that can change a verdict, and report them as
// one debounced batch per quiet period. inotify through sd-event (sd_event_add_inotify).
//
// Each WatchPath names a file, a directory or a file glob (last component only), through the
// Host's root prefix, with a category. A missing path is watched through its nearest existing
// ancestor and re-armed when it appears (its appearance is a change); a deleted or replaced
// directory is re-armed too. Bursts (a `dnf upgrade` writes the rpmdb hundreds of times) become
// one callback after `quiet_usec` without changes, or at the latest `max_delay_usec` after the
// first change of the batch, so an endless stream still triggers.
//
// Triggers matter because our own re-probe reads these files: SQLite readers create and delete
// rpmdb.sqlite-wal/-shm (and truncate the -wal) and may close the db opened read-write, and GPU programs open and close
// the render nodes; counting those would make every re-check trigger the next one. So the rpmdb
// counts only real writes and renames, and devices only appearance, removal and permissions.
//
// Reads nothing; watches (inotify, read permission on the directories): the rules drop-in dirs,
// the config files, the rpm/dpkg/pacman databases, /boot/loader/entries, /boot/initramfs-*,
// /boot/initrd.img-*, the grubenv files, /usr/lib/modules, podman storage (containers.json,
// images.json; root and the user's), /dev/kfd, /dev/dri/renderD*. Introduced in 0.1.0.

#include "common/result.hpp"
#include "daemon/checkd/sd_handles.hpp"
#include "probes/host.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

struct inotify_event;

namespace halo::checkd {

// knowledge: the installed knowledge feed (<state>/feed/current, written by `halo-check update`).
enum class WatchCategory : unsigned { rules, config, packages, boot, containers, devices, knowledge };
std::string_view to_string(WatchCategory category) noexcept;

class CategorySet {
public:
    void add(WatchCategory c) noexcept { m_bits |= 1u << static_cast<unsigned>(c); }
    bool contains(WatchCategory c) const noexcept { return (m_bits >> static_cast<unsigned>(c)) & 1u; }
    bool empty() const noexcept { return m_bits == 0; }
    std::size_t size() const noexcept;
    std::string str() const; // "packages,boot" in enum order
    bool operator==(const CategorySet&) const = default;

private:
    unsigned m_bits = 0;
};

// Which inotify events count as a change (see the header comment for why).
enum class WatchTrigger {
    content,  // created, deleted, renamed, written, closed after writing, attributes
    writes,   // data written (IN_MODIFY) or replaced by a rename: databases that readers touch
    presence, // created, deleted, renamed, attributes: device nodes
};

struct WatchPath {
    std::string path; // absolute, under the Host's root: "/var/lib/dpkg/status", "/boot/initramfs-*"
    WatchCategory category = WatchCategory::config;
    WatchTrigger trigger = WatchTrigger::content;
    std::string child_glob; // for a directory: only children matching it count ("*.toml")
};

struct WatchOptions {
    std::uint64_t quiet_usec = 2'000'000;
    std::uint64_t max_delay_usec = 10'000'000;
};

struct WatchBatch {
    CategorySet categories;
    std::vector<std::string> paths; // Host-absolute paths that changed, sorted, at most 32
};

class Watchers {
public:
    using Callback = std::function<void(const WatchBatch&)>;

    Watchers(probes::Host host, std::vector<WatchPath> paths, Callback on_batch, WatchOptions options = {});
    ~Watchers();
    Watchers(const Watchers&) = delete;
    Watchers& operator=(const Watchers&) = delete;

    // The standard set for a host: rules dirs and config (system and $XDG_CONFIG_HOME/$HOME),
    // package databases, boot entries/modules/initramfs/grubenv, podman storage (root and $HOME's,
    // overlay and vfs drivers), /dev/kfd and /dev/dri/renderD*.
    static std::vector<WatchPath> default_paths(const probes::Host& host);
    // containers.json and images.json of one podman graphroot ("/var/lib/containers/storage"),
    // for the overlay and vfs drivers.
    static std::vector<WatchPath> container_storage_paths(const std::string& graphroot);

    // Arms every path on `event`. A path that cannot be watched (permissions) is noted in
    // errors() and skipped; the others still work. Fails only when the loop refuses sources.
    Result<void> attach(sd_event* event);
    // Replaces the watched paths (config reload); a pending batch is kept.
    void set_paths(std::vector<WatchPath> paths);

    // What each path is watched through right now ("/var/lib" for a missing "/var/lib/x/y"),
    // Host-absolute, in path order; "" for a path that could not be armed.
    std::vector<std::string> watched_dirs() const;
    std::uint64_t batches_delivered() const noexcept { return m_batches; }
    // Errors met while arming or inside callbacks, latest last, at most 16.
    const std::vector<std::string>& errors() const noexcept { return m_errors; }

    // For tests: called with the Host-absolute directory about to be watched, after the walk
    // that chose it. What it makes there is what another process can make in that gap.
    using ArmHook = std::function<void(const std::string& dir)>;
    void set_arm_hook(ArmHook hook) { m_arm_hook = std::move(hook); }

private:
    struct Armed;

    static int on_inotify(sd_event_source* s, const struct inotify_event* event, void* userdata) noexcept;
    static int on_rearm(sd_event_source* s, void* userdata) noexcept;
    static int on_timer(sd_event_source* s, std::uint64_t usec, void* userdata) noexcept;

    void arm(Armed& a);
    void handle(Armed& a, const struct inotify_event& event);
    void schedule_rearm(Armed& a);
    void rearm_pending();
    void changed(WatchCategory category, const std::string& path);
    void deliver() noexcept;
    void note_error(std::string message) noexcept;
    std::uint64_t now_mono() const noexcept;

    probes::Host m_host;
    std::vector<std::unique_ptr<Armed>> m_armed;
    Callback m_on_batch;
    WatchOptions m_options;
    sd_event* m_event = nullptr;
    SdEventSource m_rearm;
    SdEventSource m_timer;

    CategorySet m_pending;
    std::set<std::string> m_pending_paths;
    std::uint64_t m_batch_start = 0;
    bool m_batch_open = false;
    std::uint64_t m_batches = 0;
    std::vector<std::string> m_errors;
    ArmHook m_arm_hook;
};

} // namespace halo::checkd
