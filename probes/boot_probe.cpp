#include "probes/boot_probe.hpp"

#include "common/text.hpp"

#include "probes/kernel_probe.hpp"
#include "rules/version.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

namespace halo::probes {

namespace {

template <typename F>
void for_each_line(std::string_view text, F&& f)
{
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        const bool complete = end != std::string_view::npos;
        if (!complete) end = text.size();
        f(text.substr(start, end - start), complete);
        start = end + 1;
    }
}

} // namespace

Result<BlsEntry> parse_bls_entry(std::string_view text)
{
    if (text.find('\0') != std::string_view::npos) return Error{"contains NUL bytes: not a boot loader entry"};
    BlsEntry entry;
    for_each_line(text, [&](std::string_view raw, bool) {
        const std::string_view line = trim(raw);
        if (line.empty() || line.front() == '#') return;
        const auto sep = line.find_first_of(" \t");
        const std::string_view key = line.substr(0, sep);
        const std::string value(sep == std::string_view::npos ? std::string_view{} : trim(line.substr(sep)));
        if (key == "title") entry.title = value;
        else if (key == "version") entry.version = value;
        else if (key == "machine-id") entry.machine_id = value;
        else if (key == "sort-key") entry.sort_key = value;
        else if (key == "linux") entry.kernel_image = value;
        else if (key == "initrd") entry.initrd.push_back(value);
        else if (key == "options") entry.options = entry.options.empty() ? value : entry.options + " " + value;
    });
    return entry;
}

void sort_bls_entries(std::vector<BlsEntry>& entries)
{
    std::stable_sort(entries.begin(), entries.end(), [](const BlsEntry& a, const BlsEntry& b) {
        const bool ka = !a.sort_key.empty(), kb = !b.sort_key.empty();
        if (ka != kb) return ka;
        if (ka) {
            if (a.sort_key != b.sort_key) return a.sort_key < b.sort_key;
            if (a.machine_id != b.machine_id) return a.machine_id < b.machine_id;
            if (int c = rules::rpm_vercmp(a.version, b.version); c != 0) return c > 0;
        }
        return rules::rpm_vercmp(a.id, b.id) > 0;
    });
}

Result<GrubEnv> parse_grubenv(std::string_view text)
{
    constexpr std::string_view k_signature = "# GRUB Environment Block\n";
    if (!text.starts_with(k_signature)) return Error{"no '# GRUB Environment Block' signature: GRUB ignores it"};
    GrubEnv env;
    env.truncated = text.size() < 1024;
    for_each_line(text.substr(k_signature.size()), [&](std::string_view line, bool complete) {
        if (line.empty() || line.front() == '#') return;
        // GRUB reads only complete lines; a cut last line is not a value.
        if (!complete) {
            env.truncated = true;
            return;
        }
        const auto eq = line.find('=');
        if (eq == std::string_view::npos || eq == 0) return;
        env.values[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
    });
    return env;
}

const BlsEntry* find_grub_entry(const std::vector<BlsEntry>& sorted, std::string_view wanted)
{
    for (const BlsEntry& e : sorted)
        if (e.id == wanted) return &e;
    for (const BlsEntry& e : sorted)
        if (!e.title.empty() && e.title == wanted) return &e;
    std::size_t index = 0;
    const auto [ptr, ec] = std::from_chars(wanted.data(), wanted.data() + wanted.size(), index);
    if (!wanted.empty() && ec == std::errc() && ptr == wanted.data() + wanted.size() && index < sorted.size())
        return &sorted[index];
    return nullptr;
}

namespace {

constexpr std::string_view k_entries_dir = "/boot/loader/entries";
constexpr std::array<std::string_view, 3> k_grubenv_paths = {"/boot/grub2/grubenv", "/boot/efi/EFI/fedora/grubenv",
                                                             "/boot/grub/grubenv"};
// The packages that carry amdgpu's firmware, per distribution; linux-firmware last (on Fedora it
// holds no amdgpu blobs since the split, but older Fedoras and others ship them there).
constexpr std::array<std::string_view, 4> k_firmware_packages = {"amd-gpu-firmware", "linux-firmware-amdgpu",
                                                                 "firmware-amd-graphics", "linux-firmware"};

constexpr std::array<std::string_view, 7> k_sources = {"/boot/loader/entries/*.conf",
                                                       "/boot/grub2/grubenv",
                                                       "/boot/efi/EFI/fedora/grubenv",
                                                       "/boot/grub/grubenv",
                                                       "/usr/lib/modules/*/vmlinuz",
                                                       "/boot/vmlinuz-*",
                                                       "facts: kernel.release, package.*.installtime"};
// kernel.release (the running kernel) and package.*.installtime (the firmware against the initramfs).
constexpr std::array<std::string_view, 2> k_reads = {"kernel", "packages"};
constexpr std::array<std::string_view, 6> k_provides = {
    "kernel.next_boot.release", "kernel.next_boot.entry", "kernel.next_boot.differs",
    "kernel.installed",         "boot.initramfs.mtime",   "boot.initramfs.older_than_firmware"};

std::string basename(std::string_view path)
{
    const auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::vector<std::string> installed_kernels(const Host& host)
{
    std::vector<std::string> releases;
    if (auto modules = host.list_dir("/usr/lib/modules"))
        for (const std::string& release : *modules)
            if (host.exists(fmt::format("/usr/lib/modules/{}/vmlinuz", release))) releases.push_back(release);
    if (auto boot = host.list_dir("/boot"))
        for (const std::string& name : *boot)
            if (name.starts_with("vmlinuz-") && name.find("-rescue-") == std::string::npos)
                releases.push_back(name.substr(8));
    std::sort(releases.begin(), releases.end(),
              [](const std::string& a, const std::string& b) { return rules::rpm_vercmp(a, b) > 0; });
    releases.erase(std::unique(releases.begin(), releases.end()), releases.end());
    return releases;
}

struct Entries {
    std::vector<BlsEntry> usable;
    std::vector<std::string> problems;
    bool directory_found = false;
};

Entries read_entries(const Host& host)
{
    Entries out;
    auto names = host.list_dir(k_entries_dir);
    if (!names) return out;
    out.directory_found = true;
    for (const std::string& name : *names) {
        if (!name.ends_with(".conf") || name.size() == 5) continue;
        const std::string path = fmt::format("{}/{}", k_entries_dir, name);
        auto text = host.read_file(path, 64u << 10);
        auto entry = text ? parse_bls_entry(*text) : Result<BlsEntry>(text.error());
        if (!entry) {
            out.problems.push_back(text ? fmt::format("Failed to parse '{}': {}, skipping", path, entry.error().message)
                                        : fmt::format("{}, skipping", text.error().message));
            continue;
        }
        if (entry->kernel_image.empty()) {
            out.problems.push_back(fmt::format("Boot entry '{}' has no 'linux' line, skipping", path));
            continue;
        }
        entry->id = name.substr(0, name.size() - 5);
        out.usable.push_back(std::move(*entry));
    }
    sort_bls_entries(out.usable);
    return out;
}

// The GRUB environment's choice (next_entry over saved_entry), with any problem reading it.
std::optional<std::string> grub_choice(const Host& host, std::vector<std::string>& problems)
{
    for (std::string_view path : k_grubenv_paths) {
        if (!host.exists(path)) continue;
        auto text = host.read_file(path, 64u << 10);
        auto env = text ? parse_grubenv(*text) : Result<GrubEnv>(text.error());
        if (!env) {
            problems.push_back(text ? fmt::format("Ignoring '{}': {}", path, env.error().message)
                                    : text.error().message);
            return std::nullopt;
        }
        if (env->truncated)
            problems.push_back(fmt::format("'{}' is truncated ({} bytes, GRUB writes 1024)", path, text->size()));
        for (const char* key : {"next_entry", "saved_entry"})
            if (auto it = env->values.find(key); it != env->values.end() && !it->second.empty()) return it->second;
        return std::nullopt;
    }
    return std::nullopt;
}

std::string release_of(const BlsEntry& entry)
{
    if (!entry.version.empty()) return entry.version;
    const std::string image = basename(entry.kernel_image);
    return image.starts_with("vmlinuz-") ? image.substr(8) : entry.id;
}

// Where the initramfs of `entry` is: BLS paths are relative to the partition holding the entries
// (/boot on Fedora), so try /boot + path first, then the path as written.
std::optional<std::string> initramfs_path(const Host& host, const BlsEntry& entry, const std::string& release)
{
    std::vector<std::string> candidates;
    for (auto it = entry.initrd.rbegin(); it != entry.initrd.rend(); ++it) {
        if (basename(*it).starts_with("initramfs") || basename(*it).starts_with("initrd")) {
            candidates.push_back("/boot" + *it);
            candidates.push_back(*it);
        }
    }
    candidates.push_back(fmt::format("/boot/initramfs-{}.img", release));
    for (const std::string& c : candidates)
        if (!c.empty() && c.front() == '/' && host.exists(c)) return c;
    return std::nullopt;
}

void initramfs_facts(const Host& host, FactSink& sink, const BlsEntry& entry, const std::string& release,
                     std::vector<std::string>& problems)
{
    const auto path = initramfs_path(host, entry, release);
    auto info = path ? host.stat(*path) : Result<FileInfo>(Error{fmt::format("No initramfs found for '{}'", release)});
    if (!info) {
        problems.push_back(info.error().message);
        sink.unknown("boot.initramfs.*", info.error().message);
        return;
    }
    const std::int64_t mtime = info->mtime_ns / 1'000'000'000;
    sink.set("boot.initramfs.mtime", std::to_string(mtime), *path);

    const rules::Facts& facts = sink.facts();
    std::optional<std::int64_t> firmware_time;
    std::optional<std::string> unknown_why;
    for (std::string_view package : k_firmware_packages) {
        const std::string key = fmt::format("package.{}.installtime", package);
        if (auto value = facts.get(key)) {
            std::int64_t t = 0;
            const auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), t);
            if (ec == std::errc() && ptr == value->data() + value->size())
                firmware_time = std::max(firmware_time.value_or(t), t);
        } else if (auto why = facts.unknown_reason(key); why && !unknown_why) {
            unknown_why = *why;
        }
    }
    if (firmware_time) {
        sink.set("boot.initramfs.older_than_firmware", mtime < *firmware_time ? "true" : "false", *path);
    } else if (unknown_why || facts.probes().count("packages") == 0) {
        sink.unknown("boot.initramfs.older_than_firmware",
                     unknown_why.value_or("the packages probe did not run, firmware install time unknown"));
    }
    // No firmware package installed: the fact stays absent.
}

rules::ProbeStatus collect(const ProbeContext& context, FactSink& sink)
{
    const Host& host = context.host;
    std::vector<std::string> problems;

    const std::vector<std::string> kernels = installed_kernels(host);
    if (!kernels.empty()) sink.set("kernel.installed", fmt::format("{}", fmt::join(kernels, ",")), "/usr/lib/modules");

    Entries entries = read_entries(host);
    problems.insert(problems.end(), entries.problems.begin(), entries.problems.end());
    if (entries.usable.empty()) {
        if (!entries.directory_found && kernels.empty())
            return status_not_applicable(
                "no Boot Loader Specification entries and no installed kernels under the root");
        const std::string reason =
            entries.directory_found
                ? fmt::format("No usable boot entry in '{}'", k_entries_dir)
                : fmt::format("No '{}': next boot kernel unknown (not a BLS system)", k_entries_dir);
        problems.push_back(reason);
        sink.unknown("kernel.next_boot.*", reason);
        sink.unknown("boot.initramfs.*", reason);
        return status_partial(fmt::format("{}", fmt::join(problems, "; ")));
    }

    const BlsEntry* next = &entries.usable.front();
    const char* origin = "/boot/loader/entries";
    if (auto wanted = grub_choice(host, problems)) {
        if (const BlsEntry* chosen = find_grub_entry(entries.usable, *wanted)) {
            next = chosen;
            origin = "grubenv";
        } else {
            problems.push_back(
                fmt::format("grubenv names '{}', which matches no boot entry; GRUB boots the first", *wanted));
        }
    }
    const std::string release = release_of(*next);
    sink.set("kernel.next_boot.release", release, origin);
    sink.set("kernel.next_boot.entry", next->id + ".conf", origin);

    std::optional<std::string> running = sink.facts().get("kernel.release");
    if (!running)
        if (auto r = read_running_release(host)) running = *r;
    if (running) sink.set("kernel.next_boot.differs", *running == release ? "false" : "true", origin);
    else sink.unknown("kernel.next_boot.differs", "running kernel release unknown");

    initramfs_facts(host, sink, *next, release, problems);

    if (!problems.empty()) return status_partial(fmt::format("{}", fmt::join(problems, "; ")));
    return status_ok();
}

} // namespace

const ProbeInfo k_boot_probe = {
    "boot",  "Kernel the next boot starts (BLS + grubenv) and its initramfs age", k_sources, k_provides, k_reads, false,
    collect,
};

} // namespace halo::probes
