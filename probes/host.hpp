#pragma once
// Host: the root prefix and the only way probes touch the system. `Host("/")` is this machine;
// `Host("tests/data/hosts/x")` reads a fixture tree copied from a real one. Every absolute path a
// probe names ("/proc/cmdline") is resolved under the root. Environment lookups go through here
// too, so tests can give a probe a $HOME or $XDG_CONFIG_HOME without touching the process's.
// Under a root other than "/" every path stays inside it, symbolic links included
// (probes/root_path.hpp): a fixture's link to /etc/shadow reads <root>/etc/shadow.

#include "common/result.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace halo::probes {

struct FileInfo {
    bool is_directory = false;
    bool is_regular = false;
    bool is_char_device = false;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0; // modification time, ns since the epoch
    unsigned mode = 0;
    unsigned uid = 0;
    unsigned gid = 0;
};

class Host {
public:
    explicit Host(std::filesystem::path root = "/");

    const std::filesystem::path& root() const noexcept { return m_root; }
    // True when the root is "/" (the running system): uname, getuid and the like then apply.
    bool is_live() const noexcept { return m_live; }

    // `absolute` ("/proc/cmdline") under the root, its links resolved inside the root (joined as
    // written when they cannot be: a loop of links, an unreadable directory).
    std::filesystem::path path(std::string_view absolute) const;

    // Reads at most `max_bytes` (a file larger than that is an error, not a silent cut).
    Result<std::string> read_file(std::string_view absolute, std::size_t max_bytes = 4u << 20) const;
    // A sysfs or debugfs attribute: the kernel shows at most a page of text for one (more for
    // debugfs's amdgpu_firmware_info, a few KiB); anything larger is not one.
    static constexpr std::size_t k_max_value_bytes = 64u << 10;
    Result<std::string> read_value(std::string_view absolute) const { return read_file(absolute, k_max_value_bytes); }
    // Entry names, sorted; an error when the directory cannot be read.
    Result<std::vector<std::string>> list_dir(std::string_view absolute) const;
    Result<FileInfo> stat(std::string_view absolute) const;
    bool exists(std::string_view absolute) const;
    // access(X_OK) as the user running the probes, who is the one that starts the engine (the
    // daemon's user, or halo-check run's).
    bool executable(std::string_view absolute) const;
    Result<std::string> read_link(std::string_view absolute) const;

    // The environment: overrides first, then the process's (only for a live host; a fixture host
    // sees only its overrides).
    std::optional<std::string> env(const std::string& name) const;
    void set_env(std::string name, std::string value) { m_env[std::move(name)] = std::move(value); }

private:
    // `absolute` under the root as the kernel would resolve it there; the live host's as it is.
    Result<std::filesystem::path> confined(std::string_view absolute, bool follow_last) const;

    std::filesystem::path m_root;
    bool m_live;
    std::map<std::string, std::string> m_env;
};

} // namespace halo::probes
