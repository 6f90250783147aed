#pragma once
// Test support for the log monitor and watcher tests: temp dirs, real .journal files written by
// systemd-journal-remote from export-format input, and a bounded sd-event loop runner.

#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <time.h>
#include <unistd.h>

namespace halo::test {

inline std::uint64_t mono_usec()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000u + static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

class TempDir {
public:
    TempDir()
    {
        std::string tmpl = (std::filesystem::temp_directory_path() / "halo-watch-XXXXXX").string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
        m_path = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }
    std::string str() const { return m_path.string(); }

private:
    std::filesystem::path m_path;
};

inline std::string read_text(const std::filesystem::path& p)
{
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

inline void write_text(const std::filesystem::path& p, const std::string& text)
{
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
}

// Lines of a tests/data/logs file, without `#` comments and blank lines.
inline std::vector<std::string> log_lines(const std::string& name)
{
    std::vector<std::string> lines;
    std::istringstream in(read_text(std::filesystem::path(HALO_TEST_DATA) / "logs" / name));
    for (std::string line; std::getline(in, line);)
        if (!line.empty() && line[0] != '#') lines.push_back(line);
    return lines;
}

inline std::string boot_id()
{
    sd_id128_t id;
    if (sd_id128_get_boot(&id) < 0) throw std::runtime_error("no boot id");
    char s[SD_ID128_STRING_MAX];
    return sd_id128_to_string(id, s);
}

inline std::string journal_remote()
{
    for (const char* p : {"/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"})
        if (access(p, X_OK) == 0) return p;
    throw std::runtime_error("systemd-journal-remote is not installed (Debian package 'systemd-journal-remote')");
}

struct KernelEntry {
    std::string message;
    std::uint64_t realtime_usec;
    std::uint64_t monotonic_usec;
    std::string boot_id; // empty: this boot
};

// Writes (or appends to) a real .journal file: export format → systemd-journal-remote.
inline void write_journal(const std::filesystem::path& out, const std::vector<KernelEntry>& entries,
                          const std::filesystem::path& scratch)
{
    const std::string boot = boot_id();
    std::string text;
    for (const auto& e : entries) {
        text += "__REALTIME_TIMESTAMP=" + std::to_string(e.realtime_usec) + "\n";
        text += "__MONOTONIC_TIMESTAMP=" + std::to_string(e.monotonic_usec) + "\n";
        text += "_BOOT_ID=" + (e.boot_id.empty() ? boot : e.boot_id) + "\n";
        text += "_TRANSPORT=kernel\nSYSLOG_IDENTIFIER=kernel\nPRIORITY=3\n_HOSTNAME=ci\n";
        text += "MESSAGE=" + e.message + "\n\n";
    }
    const auto export_file = scratch / (out.filename().string() + ".export");
    write_text(export_file, text);
    const std::string cmd = journal_remote() + " --output='" + out.string() + "' '" + export_file.string() + "' >'" +
                            (scratch / "journal-remote.log").string() + "' 2>&1";
    if (std::system(cmd.c_str()) != 0)
        throw std::runtime_error("systemd-journal-remote failed: " + read_text(scratch / "journal-remote.log"));
}

// Entries for `lines`, `step` µs apart from `realtime`.
inline std::vector<KernelEntry> entries_for(const std::vector<std::string>& lines, std::uint64_t realtime,
                                            std::uint64_t monotonic, std::uint64_t step = 10)
{
    std::vector<KernelEntry> out;
    for (const auto& l : lines) {
        out.push_back({l, realtime, monotonic, {}});
        realtime += step;
        monotonic += step;
    }
    return out;
}

struct EventLoop {
    sd_event* e = nullptr;
    EventLoop()
    {
        if (sd_event_new(&e) < 0) throw std::runtime_error("sd_event_new failed");
    }
    ~EventLoop() { sd_event_unref(e); }
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    // Runs the loop until `done()` or `max_usec` passed; true when done() held.
    bool run_until(const std::function<bool()>& done, std::uint64_t max_usec)
    {
        const std::uint64_t end = mono_usec() + max_usec;
        while (!done()) {
            const std::uint64_t now = mono_usec();
            if (now >= end) return false;
            if (sd_event_run(e, std::min<std::uint64_t>(end - now, 50'000)) < 0) return false;
        }
        return true;
    }
    // Runs the loop for `usec` whatever happens.
    void run_for(std::uint64_t usec)
    {
        run_until([] { return false; }, usec);
    }
};

} // namespace halo::test
