// bench_log_flood: the cost of following a kernel log flooded with amdgpu lines.
//
// Writes N (default 10,000) verbatim amdgpu lines (the MES 0x83 page-fault block of ROCm#5724
// repeated, with MES failures and GPU resets among them) into a real .journal file with
// systemd-journal-remote, then follows it with LogMonitor on an sd-event loop, in two modes:
//   backlog  — the monitor starts at the head (a flood already written when it starts);
//   append   — the monitor follows from the tail and the flood is appended while it runs.
// A 10 ms periodic timer on the same loop measures responsiveness: its worst lateness while the
// flood is read. Prints the time to read the flood, µs per line, events per pattern and counts.
//
// Usage: bench_log_flood [LINES] [RUNS]

#define HALO_TEST_DATA ""
#include "../tests/unit/daemon/checkd/watch_test_support.hpp"
#include "daemon/checkd/log_monitor.hpp"
#include "rules/rule_loader.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

using namespace halo;

namespace {

const std::vector<std::string> k_block = {
    "amdgpu 0000:c2:00.0: amdgpu: [gfxhub] page fault (src_id:0 ring:153 vmid:8 pasid:32795)",
    "amdgpu 0000:c2:00.0: amdgpu:  Process ollama pid 2948468 thread ollama pid 2948468",
    "amdgpu 0000:c2:00.0: amdgpu: GCVM_L2_PROTECTION_FAULT_STATUS:0x00800932",
    "amdgpu 0000:c2:00.0: amdgpu:   Faulty UTCL2 client ID: CPF (0x4)",
    "amdgpu 0000:c2:00.0: amdgpu:   WALKER_ERROR: 0x1",
    "amdgpu 0000:c2:00.0: amdgpu:   PERMISSION_FAULTS: 0x3",
    "amdgpu 0000:c2:00.0: amdgpu:   MAPPING_ERROR: 0x1",
    "amdgpu 0000:c2:00.0: amdgpu:   RW: 0x0",
    "amdgpu 0000:c1:00.0: amdgpu: MES failed to respond to msg=REMOVE_QUEUE",
    "amdgpu 0000:c1:00.0: amdgpu: GPU reset begin!",
};

struct Ticker {
    sd_event_source* source = nullptr;
    std::uint64_t period = 10'000;
    std::uint64_t next = 0;
    std::uint64_t worst_late = 0;
    std::uint64_t ticks = 0;
    static int on_tick(sd_event_source* s, std::uint64_t, void* userdata) noexcept
    {
        auto* t = static_cast<Ticker*>(userdata);
        const std::uint64_t now = test::mono_usec();
        if (t->next && now > t->next) t->worst_late = std::max(t->worst_late, now - t->next);
        ++t->ticks;
        t->next = now + t->period;
        sd_event_source_set_time(s, t->next);
        return 0;
    }
};

struct RunResult {
    double read_ms = 0;
    std::uint64_t worst_late_us = 0;
    std::uint64_t ticks = 0;
    std::map<std::string, std::uint64_t> counts; // pattern -> count
    std::size_t events = 0;
};

RunResult run_once(const rules::RuleSet& rules, std::size_t lines, bool append)
{
    test::TempDir dir;
    const auto journal = dir.path() / "kernel.journal";
    std::vector<std::string> text;
    while (text.size() < lines) text.push_back(k_block[text.size() % k_block.size()]);
    const auto entries = test::entries_for(text, 1'767'225'600'000'000, 1'000'000, 10);
    if (append)
        test::write_journal(
            journal, test::entries_for({"amdgpu 0000:c1:00.0: amdgpu: MODE2 reset"}, 1'767'225'500'000'000, 500'000),
            dir.path());
    else test::write_journal(journal, entries, dir.path());

    rules::Facts facts;
    facts.set("gpu.0.firmware.mes", "0x00000083");
    RunResult res;
    std::vector<checkd::LogEvent> events;
    checkd::LogMonitorOptions o;
    o.journal = checkd::LogMonitorOptions::Journal::files;
    o.journal_paths = {journal.string()};
    o.start_cursor = append ? "" : "head";
    checkd::LogMonitor m(
        rules, facts, [&](const checkd::LogEvent& e) { events.push_back(e); }, o);

    test::EventLoop loop;
    Ticker ticker;
    sd_event_add_time(loop.e, &ticker.source, CLOCK_MONOTONIC, 0, 0, Ticker::on_tick, &ticker);
    sd_event_source_set_enabled(ticker.source, SD_EVENT_ON);
    std::uint64_t start = test::mono_usec();
    if (!m.attach(loop.e).ok()) throw std::runtime_error("attach failed");
    std::size_t base = 0;
    if (append) {
        loop.run_for(50'000);
        base = m.journal_entries_read();
    }
    if (append) {
        test::write_journal(journal, entries, dir.path()); // systemd-journal-remote appends
        start = test::mono_usec();                         // count from when the entries are all there
    }
    ticker.worst_late = 0;
    ticker.ticks = 0;
    ticker.next = 0; // the loop was not running while journal-remote wrote
    loop.run_until([&] { return m.journal_entries_read() - base >= lines && !m.catching_up(); }, 60'000'000);
    res.read_ms = static_cast<double>(test::mono_usec() - start) / 1000.0;
    res.worst_late_us = ticker.worst_late;
    res.ticks = ticker.ticks;
    loop.run_until([&] { return events.size() >= 3; }, 10'000'000); // the 5 s windows close
    m.flush();
    for (const auto& e : events) res.counts[e.pattern_id] += e.count;
    res.events = events.size();
    sd_event_source_disable_unref(ticker.source);
    return res;
}

} // namespace

int main(int argc, char** argv)
{
    const std::size_t lines = argc > 1 ? std::stoul(argv[1]) : 10'000;
    const int runs = argc > 2 ? std::stoi(argv[2]) : 3;
    const auto loaded = rules::load_embedded_rules();
    for (bool append : {false, true}) {
        std::vector<double> read_ms;
        std::vector<std::uint64_t> late;
        RunResult last;
        for (int i = 0; i < runs; ++i) {
            last = run_once(loaded.rules, lines, append);
            read_ms.push_back(last.read_ms);
            late.push_back(last.worst_late_us);
        }
        std::sort(read_ms.begin(), read_ms.end());
        std::sort(late.begin(), late.end());
        fmt::print("{} {} lines, {} runs: read median {:.1f} ms ({:.1f} us/line), 10 ms timer worst lateness median "
                   "{:.1f} ms (max {:.1f} ms), events {}\n",
                   append ? "append " : "backlog", lines, runs, read_ms[read_ms.size() / 2],
                   read_ms[read_ms.size() / 2] * 1000.0 / static_cast<double>(lines),
                   static_cast<double>(late[late.size() / 2]) / 1000.0, static_cast<double>(late.back()) / 1000.0,
                   last.events);
        for (const auto& [id, n] : last.counts) fmt::print("  {} x{}\n", id, n);
    }
}
