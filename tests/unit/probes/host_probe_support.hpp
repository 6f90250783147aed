#pragma once
// Shared by the host probe tests: run one probe against a root, scratch copies of fixture hosts
// (with their RPM database built by tests/support/make_fixture_root.sh), and a tree snapshot to
// prove a probe wrote nothing under the root it read.

#include "probes/probe.hpp"
#include "probes/runner.hpp"
#include "rules/facts.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>

namespace halo::test {

inline std::filesystem::path fixture_host(const std::string& name)
{
    return std::filesystem::path(HALO_TEST_DATA) / "hosts" / name;
}

// A directory removed when the test ends.
class ScratchDir {
public:
    ScratchDir()
    {
        std::random_device rd;
        m_path =
            std::filesystem::temp_directory_path() / ("halo-host-probe-" + std::to_string(rd()) + std::to_string(rd()));
        std::filesystem::create_directories(m_path);
    }
    ~ScratchDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

inline int run_script(const std::string& command) { return std::system((command + " >/dev/null 2>&1").c_str()); }

inline std::string quoted(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

// Copies fixture host `name` to `dest` and builds its RPM database and mtimes with the real tools.
inline void make_fixture_root(const std::string& name, const std::filesystem::path& dest)
{
    const std::string script = std::string(HALO_SOURCE_DIR) + "/tests/support/make_fixture_root.sh";
    REQUIRE(run_script(script + " " + name + " " + quoted(dest)) == 0);
}

inline void write_file(const std::filesystem::path& path, std::string_view content)
{
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    REQUIRE(out.good());
}

// Every path under root with its size and mtime (files only: a directory's mtime moves when SQLite
// adds and removes its side files): equal snapshots = nothing created, removed or changed.
inline std::map<std::string, std::pair<std::uintmax_t, std::int64_t>> snapshot(const std::filesystem::path& root)
{
    std::map<std::string, std::pair<std::uintmax_t, std::int64_t>> out;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
        std::error_code ec;
        const auto size = e.is_regular_file(ec) ? e.file_size(ec) : 0;
        const auto mtime =
            e.is_symlink(ec) || e.is_directory(ec) ? 0 : e.last_write_time(ec).time_since_epoch().count();
        out[std::filesystem::relative(e.path(), root).string()] = {size, static_cast<std::int64_t>(mtime)};
    }
    return out;
}

// Runs one probe in-process, as the runner does, over `facts` (which may hold facts of probes
// that ran before it).
inline rules::ProbeStatus run(const probes::ProbeInfo& probe, const std::filesystem::path& root, rules::Facts& facts,
                              std::vector<std::string> packages = {})
{
    probes::Host host(root);
    probes::ProbeContext context{host, std::chrono::milliseconds(5000), std::nullopt, std::nullopt,
                                 std::move(packages)};
    probes::run_probe_in_process(probe, context, facts);
    return facts.probes().at(std::string(probe.id));
}

inline std::string fact(const rules::Facts& facts, std::string_view key)
{
    auto value = facts.get(key);
    INFO("fact " << key);
    REQUIRE(value.has_value());
    return *value;
}

} // namespace halo::test
