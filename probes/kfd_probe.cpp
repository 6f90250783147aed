#include "probes/kfd_probe.hpp"

#include "common/text.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <set>
#include <sstream>
#include <vector>

namespace halo::probes {

namespace {

std::string trimmed(std::string_view s) { return std::string(trim(s)); }

constexpr std::string_view k_nodes_dir = "/sys/class/kfd/kfd/topology/nodes";

struct GroupEntry {
    std::string name;
    unsigned gid = 0;
    std::vector<std::string> members;
};

std::vector<GroupEntry> parse_group_file(std::string_view text)
{
    std::vector<GroupEntry> groups;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        std::vector<std::string> fields;
        std::string field;
        std::istringstream fs(line);
        while (std::getline(fs, field, ':')) fields.push_back(field);
        if (line.ends_with(':')) fields.emplace_back();
        if (fields.size() < 3) continue;
        auto gid = to_number(fields[2]);
        if (!gid) continue;
        GroupEntry g{fields[0], static_cast<unsigned>(*gid), {}};
        if (fields.size() >= 4) {
            std::istringstream ms(fields[3]);
            for (std::string m; std::getline(ms, m, ',');)
                if (!m.empty()) g.members.push_back(m);
        }
        groups.push_back(std::move(g));
    }
    return groups;
}

// Owner, group and mode of a device node: stat(2) live, the device-owners file on a fixture.
struct DeviceAccess {
    bool present = false;
    std::optional<std::string> group; // name
    unsigned mode = 0;
    bool mode_known = false;
};

std::map<std::string, std::pair<std::string, unsigned>> read_fixture_owners(const Host& host)
{
    std::map<std::string, std::pair<std::string, unsigned>> owners;
    auto text = host.read_file("/halo-fixture/device-owners");
    if (!text) return owners;
    std::istringstream in(*text);
    for (std::string line; std::getline(in, line);) {
        std::istringstream ls(line);
        std::string path, owner, group, mode;
        if (!(ls >> path >> owner >> group >> mode) || path.starts_with('#')) continue;
        owners[path] = {group, static_cast<unsigned>(std::strtoul(mode.c_str(), nullptr, 8))};
    }
    return owners;
}

DeviceAccess device_access(const Host& host, const std::string& path, const std::vector<GroupEntry>& groups,
                           const std::map<std::string, std::pair<std::string, unsigned>>& fixture_owners)
{
    DeviceAccess a;
    auto st = host.stat(path);
    if (!st) return a;
    a.present = true;
    if (!host.is_live()) {
        if (auto it = fixture_owners.find(path); it != fixture_owners.end()) {
            a.group = it->second.first;
            a.mode = it->second.second;
            a.mode_known = true;
            return a;
        }
    }
    a.mode = st->mode & 07777;
    a.mode_known = true;
    for (const auto& g : groups)
        if (g.gid == st->gid) a.group = g.name;
    return a;
}

// Whether this user may open the node read-write. Live: the kernel answers (open + close).
// Fixture: from the recorded mode and group membership; without a record, access(2) on the
// stand-in file.
bool may_open(const Host& host, const std::string& path, const DeviceAccess& access, bool in_group)
{
    if (!access.present) return false;
    if (host.is_live()) {
        const int fd = ::open(host.path(path).c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) return false;
        ::close(fd);
        return true;
    }
    if (access.mode_known && access.group) {
        if ((access.mode & 0006) == 0006) return true;
        return in_group && (access.mode & 0060) == 0060;
    }
    return ::access(host.path(path).c_str(), R_OK | W_OK) == 0;
}

// A fixture's user: the USER override, else /halo-fixture/user.
std::optional<std::string> fixture_user(const Host& host)
{
    if (auto user = host.env("USER")) return user;
    if (auto text = host.read_file("/halo-fixture/user"); text && !trimmed(*text).empty()) return trimmed(*text);
    return std::nullopt;
}

// The groups of the user the check runs for: the process's own groups live, the USER override's
// /etc/group memberships on a fixture.
std::set<std::string> user_groups(const Host& host, const std::vector<GroupEntry>& groups)
{
    std::set<std::string> names;
    if (host.is_live()) {
        std::vector<gid_t> gids(static_cast<std::size_t>(std::max(::getgroups(0, nullptr), 0)) + 1);
        const int n = ::getgroups(static_cast<int>(gids.size()), gids.data());
        gids.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
        gids.push_back(::getegid());
        for (gid_t gid : gids)
            for (const auto& g : groups)
                if (g.gid == gid) names.insert(g.name);
        return names;
    }
    const auto user = fixture_user(host);
    if (!user) return names;
    for (const auto& g : groups)
        if (std::find(g.members.begin(), g.members.end(), *user) != g.members.end()) names.insert(g.name);
    return names;
}

std::vector<std::string> numeric_sorted(std::vector<std::string> names)
{
    std::erase_if(names, [](const std::string& n) { return !to_number(n); });
    std::sort(names.begin(), names.end(),
              [](const std::string& a, const std::string& b) { return *to_number(a) < *to_number(b); });
    return names;
}

rules::ProbeStatus collect_kfd(const ProbeContext& context, FactSink& sink)
{
    const Host& host = context.host;
    auto nodes = host.list_dir(k_nodes_dir);
    if (!nodes) return status_not_applicable("no /sys/class/kfd: amdgpu KFD not loaded");

    std::vector<std::string> problems;
    int agent = 0;
    for (const std::string& node : numeric_sorted(*nodes)) {
        const std::string dir = fmt::format("{}/{}", k_nodes_dir, node);
        auto text = host.read_value(dir + "/properties");
        if (!text) {
            problems.push_back(text.error().message);
            continue;
        }
        const auto props = parse_kfd_properties(*text);
        const auto simd = props.find("simd_count");
        if (simd == props.end() || simd->second == 0) continue; // a CPU node
        const std::string prefix = fmt::format("rocm.agent.{}.", agent++);
        const std::string origin = dir + "/properties";
        sink.set(prefix + "node", node, dir);
        if (auto it = props.find("gfx_target_version"); it != props.end()) {
            sink.set(prefix + "gfx_target_version", std::to_string(it->second), origin);
            if (auto target = decode_gfx_target_version(it->second)) sink.set(prefix + "gfx_target", *target, origin);
        }
        sink.set(prefix + "simd_count", std::to_string(simd->second), origin);
        for (const char* key : {"drm_render_minor", "location_id", "domain"})
            if (auto it = props.find(key); it != props.end())
                sink.set(prefix + key, std::to_string(it->second), origin);
        for (const char* key : {"vendor_id", "device_id"})
            if (auto it = props.find(key); it != props.end())
                sink.set(prefix + key, fmt::format("0x{:04x}", it->second), origin);
        if (auto name = host.read_value(dir + "/name"); name && !trimmed(*name).empty())
            sink.set(prefix + "name", trimmed(*name), dir + "/name");
    }
    sink.set("rocm.agent_count", std::to_string(agent), std::string(k_nodes_dir));

    std::vector<GroupEntry> groups;
    if (auto text = host.read_file("/etc/group")) groups = parse_group_file(*text);
    else problems.push_back(text.error().message);
    const auto owners = read_fixture_owners(host);
    const auto mine = user_groups(host, groups);

    const auto kfd = device_access(host, "/dev/kfd", groups, owners);
    sink.set("rocm.kfd.present", kfd.present ? "true" : "false", "/dev/kfd");
    if (kfd.present) {
        const bool in_group = kfd.group && mine.count(*kfd.group);
        if (host.is_live() || fixture_user(host))
            sink.set("rocm.kfd.accessible", may_open(host, "/dev/kfd", kfd, in_group) ? "true" : "false", "/dev/kfd");
        if (kfd.group) sink.set("rocm.kfd.groups", *kfd.group, "/dev/kfd");
        if (kfd.mode_known) sink.set("rocm.kfd.mode", fmt::format("{:04o}", kfd.mode), "/dev/kfd");
    }
    // The render node of the first agent, else the first one present.
    std::string render = "/dev/dri/renderD128";
    if (auto minor = sink.facts().get("rocm.agent.0.drm_render_minor")) render = "/dev/dri/renderD" + *minor;
    const auto rn = device_access(host, render, groups, owners);
    sink.set("rocm.render.node", render, render);
    sink.set("rocm.render.present", rn.present ? "true" : "false", render);
    if (rn.present) {
        const bool in_group = rn.group && mine.count(*rn.group);
        if (host.is_live() || fixture_user(host))
            sink.set("rocm.render.accessible", may_open(host, render, rn, in_group) ? "true" : "false", render);
        if (rn.group) sink.set("rocm.render.groups", *rn.group, render);
    }
    if (host.is_live() || fixture_user(host)) {
        sink.set("rocm.user_in_render_group", mine.count("render") ? "true" : "false", "/etc/group");
        sink.set("rocm.user_in_video_group", mine.count("video") ? "true" : "false", "/etc/group");
    }
    if (auto version = host.read_file("/opt/rocm/.info/version"); version && !trimmed(*version).empty())
        sink.set("rocm.host.version", trimmed(*version), "/opt/rocm/.info/version");

    if (!problems.empty()) {
        std::string reason = problems.front();
        if (problems.size() > 1) reason += fmt::format(" (and {} more)", problems.size() - 1);
        return status_partial(std::move(reason));
    }
    return status_ok();
}

constexpr std::string_view k_sources[] = {"/sys/class/kfd/kfd/topology/nodes/*/properties",
                                          "/sys/class/kfd/kfd/topology/nodes/*/name",
                                          "/dev/kfd",
                                          "/dev/dri/renderD*",
                                          "/etc/group",
                                          "/opt/rocm/.info/version"};
constexpr std::string_view k_provides[] = {"rocm.agent.*",     "rocm.agent_count",          "rocm.kfd.*",
                                           "rocm.render.*",    "rocm.user_in_render_group", "rocm.user_in_video_group",
                                           "rocm.host.version"};

} // namespace

std::map<std::string, std::uint64_t> parse_kfd_properties(std::string_view text)
{
    std::map<std::string, std::uint64_t> props;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        std::istringstream ls(line);
        std::string key, value, extra;
        if (!(ls >> key >> value) || (ls >> extra)) continue;
        std::uint64_t v = 0;
        auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (ec != std::errc() || p != value.data() + value.size()) continue;
        props[key] = v;
    }
    return props;
}

std::optional<std::string> decode_gfx_target_version(std::uint64_t version)
{
    if (version == 0 || version > 999999) return std::nullopt;
    const auto major = version / 10000;
    const auto minor = (version / 100) % 100;
    const auto stepping = version % 100;
    if (minor > 15 || stepping > 15) return std::nullopt; // one hex digit each in the name
    return fmt::format("gfx{}{:x}{:x}", major, minor, stepping);
}

const ProbeInfo k_kfd_probe{"kfd",      "ROCm/KFD: GPU agents (gfx target), /dev/kfd and render node access, host ROCm",
                            k_sources,  k_provides,
                            {},         false,
                            collect_kfd};

} // namespace halo::probes
