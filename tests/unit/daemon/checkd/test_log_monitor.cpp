// LogMonitor against real .journal files (systemd-journal-remote) and the embedded knowledge base.

#include "daemon/checkd/log_monitor.hpp"
#include "rules/facts_io.hpp"
#include "rules/rule_loader.hpp"
#include "watch_test_support.hpp"

#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

using namespace halo;
using checkd::LogEvent;
using checkd::LogMonitor;
using checkd::LogMonitorOptions;
using checkd::LogOrigin;
namespace fs = std::filesystem;

namespace {

const rules::RuleSet& kb()
{
    static const rules::LoadedRules loaded = rules::load_embedded_rules();
    REQUIRE_FALSE(loaded.has_errors());
    return loaded.rules;
}

rules::Facts facts_file(const std::string& name)
{
    auto f = rules::load_facts_file(std::string(HALO_TEST_DATA) + "/facts/" + name);
    REQUIRE(f.ok());
    return *f;
}

rules::Facts mes_0x83_rocm() { return facts_file("broken-mes-0x83-rocm.toml"); }
rules::Facts mes_0x80_radv() { return facts_file("ok-vulkan-radv.toml"); }

struct Collector {
    std::vector<LogEvent> events;
    LogMonitor::Callback callback()
    {
        return [this](const LogEvent& e) { events.push_back(e); };
    }
    std::map<std::string, LogEvent> by_id() const
    {
        std::map<std::string, LogEvent> m;
        for (const auto& e : events) m.emplace(e.pattern_id, e);
        return m;
    }
};

constexpr std::uint64_t k_window = 300'000;           // 0.3 s keeps the loop tests short
constexpr std::uint64_t k_t0 = 1'767'225'600'000'000; // 2026-01-01T00:00:00Z

LogMonitorOptions file_options(const fs::path& journal, std::string start = "head")
{
    LogMonitorOptions o;
    o.journal = LogMonitorOptions::Journal::files;
    o.journal_paths = {journal.string()};
    o.start_cursor = std::move(start);
    o.coalesce_window_usec = k_window;
    return o;
}

// Runs until the backlog is read and every window has been delivered.
void settle(test::EventLoop& loop, LogMonitor& m, std::size_t want_events, const Collector& c)
{
    loop.run_until([&] { return c.events.size() >= want_events && !m.catching_up(); }, 10'000'000);
    loop.run_for(2 * k_window); // nothing more may arrive
}

} // namespace

TEST_CASE("log monitor: MES failure is attributed to MES 0x83 only when the facts say so", "[daemon][log_monitor]")
{
    const std::string line = "amdgpu 0000:c1:00.0: amdgpu: MES failed to respond to msg=SUSPEND";
    Collector c;
    LogMonitor attributed(kb(), mes_0x83_rocm(), c.callback());
    const auto* p = attributed.match(LogOrigin::kernel, line);
    REQUIRE(p != nullptr);
    CHECK(p->id == "log.mes-hang-firmware-20251125");

    LogMonitor generic(kb(), mes_0x80_radv(), c.callback());
    p = generic.match(LogOrigin::kernel, line);
    REQUIRE(p != nullptr);
    CHECK(p->id == "log.mes-failed-to-respond");

    // Facts change on re-probe: the cached `when` results must follow.
    generic.set_facts(mes_0x83_rocm());
    CHECK(generic.match(LogOrigin::kernel, line)->id == "log.mes-hang-firmware-20251125");
    generic.set_facts(rules::Facts{});
    CHECK(generic.match(LogOrigin::kernel, line)->id == "log.mes-failed-to-respond");

    // A kernel pattern does not match the engine's output.
    CHECK(generic.match(LogOrigin::engine, line) == nullptr);
    CHECK(generic.match(LogOrigin::kernel, "amdgpu 0000:c1:00.0: amdgpu: MODE2 reset") == nullptr);
}

TEST_CASE("log monitor: engine lines through feed_engine_line", "[daemon][log_monitor]")
{
    Collector c;
    LogMonitor m(kb(), mes_0x80_radv(), c.callback());
    for (const auto& l : test::log_lines("engine-vulkan-device-lost.txt")) m.feed_engine_line(l, k_t0);
    for (const auto& l : test::log_lines("engine-prefill-thinking.txt")) m.feed_engine_line(l, k_t0 + 1);
    // Kernel-only patterns never fire on engine output, even for a kernel-looking line.
    m.feed_engine_line("amdgpu 0000:c1:00.0: amdgpu: GPU reset begin!", k_t0 + 2);
    m.flush();
    const auto ids = c.by_id();
    REQUIRE(c.events.size() == 2);

    REQUIRE(ids.count("log.vulkan-device-lost"));
    const auto& lost = ids.at("log.vulkan-device-lost");
    CHECK(lost.count == 2); // both lines of the abort name the lost device
    CHECK(lost.source == LogOrigin::engine);
    CHECK(lost.first_line == "terminate called after throwing an instance of 'vk::DeviceLostError'");
    CHECK_FALSE(lost.gpu_reset);
    CHECK_FALSE(lost.attributed);

    REQUIRE(ids.count("log.prefill-incompatible-with-thinking"));
    CHECK_THAT(ids.at("log.prefill-incompatible-with-thinking").fix,
               Catch::Contains("--no-prefill-assistant --reasoning-budget 0"));

    // AMDVLK engine: the attributed entry names it.
    rules::Facts amdvlk;
    amdvlk.set("engine.image.tag", "vulkan-amdvlk");
    LogMonitor m2(kb(), amdvlk, c.callback());
    CHECK(m2.match(LogOrigin::engine, "  what():  vk::Queue::submit: ErrorDeviceLost")->id ==
          "log.vulkan-device-lost-amdvlk");
}

TEST_CASE("log monitor: an event's title is filled from its first line", "[daemon][log_monitor]")
{
    Collector c;
    LogMonitorOptions o;
    o.journal = LogMonitorOptions::Journal::none;
    LogMonitor m(kb(), mes_0x80_radv(), c.callback(), o);
    for (const auto& l : test::log_lines("engine-model-missing.txt")) m.feed_engine_line(l, k_t0);
    m.flush();
    REQUIRE(c.events.size() == 1);
    CHECK(c.events[0].pattern_id == "log.engine-model-not-found");
    CHECK(c.events[0].title == "model file not found: /tmp/models/x.gguf");
    CHECK(c.events[0].count == 2); // llama-server tries the file twice
}

TEST_CASE("log monitor: hostile lines stay bounded and never throw", "[daemon][log_monitor]")
{
    Collector c;
    LogMonitorOptions o;
    o.journal = LogMonitorOptions::Journal::none;
    LogMonitor m(kb(), rules::Facts{}, c.callback(), o);
    const std::string fault = "amdgpu: GCVM_L2_PROTECTION_FAULT_STATUS:0x00800932";
    // Past the 4 KiB cap: not looked at.
    m.feed_line(LogOrigin::kernel, std::string(1 << 20, 'a') + fault, k_t0);
    // Inside the cap: found.
    m.feed_line(LogOrigin::kernel, std::string(4000, ' ') + fault, k_t0);
    m.feed_line(LogOrigin::kernel, std::string("\0\xff\xfe garbage \x01", 13), k_t0);
    m.feed_line(LogOrigin::kernel, "", k_t0);
    m.flush();
    REQUIRE(c.events.size() == 1);
    CHECK(c.events[0].count == 1);
    CHECK(c.events[0].first_line.size() == 4000 + fault.size());
    CHECK(m.lines_seen() == 4);

    // A throwing handler is contained and reported.
    LogMonitor t(
        kb(), rules::Facts{}, [](const LogEvent&) { throw std::runtime_error("boom"); }, o);
    t.feed_line(LogOrigin::kernel, fault, k_t0);
    REQUIRE_NOTHROW(t.flush());
    REQUIRE(t.errors().size() == 1);
    CHECK_THAT(t.errors()[0], Catch::Contains("boom"));
}

TEST_CASE("log monitor: coalescing windows follow the lines' timestamps", "[daemon][log_monitor]")
{
    Collector c;
    LogMonitorOptions o;
    o.journal = LogMonitorOptions::Journal::none;
    o.coalesce_window_usec = 5'000'000;
    LogMonitor m(kb(), rules::Facts{}, c.callback(), o);
    const std::string fault = "amdgpu 0000:c2:00.0: amdgpu: GCVM_L2_PROTECTION_FAULT_STATUS:0x00800932";
    for (int i = 0; i < 500; ++i) m.feed_line(LogOrigin::kernel, fault, k_t0 + static_cast<std::uint64_t>(i) * 1000);
    CHECK(c.events.empty()); // still inside the window
    // 10 s later: the first burst closes, a second one opens.
    m.feed_line(LogOrigin::kernel, fault, k_t0 + 10'000'000);
    REQUIRE(c.events.size() == 1);
    CHECK(c.events[0].count == 500);
    CHECK(c.events[0].first_usec == k_t0);
    CHECK(c.events[0].last_usec == k_t0 + 499'000);
    m.flush();
    REQUIRE(c.events.size() == 2);
    CHECK(c.events[1].count == 1);
    CHECK(c.events[1].pattern_id == "log.gcvm-protection-fault");
}

TEST_CASE("log monitor: real journal file with the field lines", "[daemon][log_monitor][journal]")
{
    test::TempDir dir;
    const fs::path journal = dir.path() / "kernel.journal";
    std::vector<std::string> lines = test::log_lines("kernel-mes-hang-rocm5745.txt");
    for (const auto& f : {"kernel-ring-timeout-new.txt", "kernel-ring-timeout-old.txt"})
        for (const auto& l : test::log_lines(f)) lines.push_back(l);
    auto entries = test::entries_for(lines, k_t0, 1'000'000);
    // Another boot's kernel line must not be read.
    entries.push_back({"amdgpu 0000:c1:00.0: amdgpu: GCVM_L2_PROTECTION_FAULT_STATUS:0x1", k_t0 + 100, 5'000'000,
                       "0123456789abcdef0123456789abcdef"});
    test::write_journal(journal, entries, dir.path());

    SECTION("MES 0x83 + ROCm engine: the known firmware hang")
    {
        test::EventLoop loop;
        Collector c;
        LogMonitor m(kb(), mes_0x83_rocm(), c.callback(), file_options(journal));
        REQUIRE(m.attach(loop.e).ok());
        settle(loop, m, 5, c);
        const auto ids = c.by_id();
        CHECK(c.events.size() == 5);
        // The reset's last line: the GPU came back.
        REQUIRE(ids.count("log.device-wedged-recovered"));
        CHECK(ids.at("log.device-wedged-recovered").severity == rules::Severity::info);
        REQUIRE(ids.count("log.mes-hang-firmware-20251125"));
        const auto& mes = ids.at("log.mes-hang-firmware-20251125");
        CHECK(mes.attributed);
        CHECK(mes.gpu_reset);
        CHECK(mes.severity == rules::Severity::broken);
        // Two MES failures (SUSPEND and RESET) within the window: one event.
        CHECK(mes.count == 2);
        CHECK(mes.first_line == "amdgpu 0000:c1:00.0: amdgpu: MES failed to respond to msg=SUSPEND");
        CHECK(ids.count("log.page-fault-mes-0x83"));
        REQUIRE(ids.count("log.gpu-reset"));
        CHECK(ids.at("log.gpu-reset").gpu_reset);
        CHECK(ids.at("log.gpu-reset").count == 2);
        // Both ring-timeout forms, coalesced.
        REQUIRE(ids.count("log.ring-timeout"));
        CHECK(ids.at("log.ring-timeout").count == 2);
        CHECK_FALSE(ids.at("log.ring-timeout").gpu_reset);
        CHECK(m.journal_entries_read() == lines.size());
        CHECK_FALSE(m.cursor().empty());
        CHECK(m.errors().empty());
    }
    SECTION("MES 0x80: the generic entries")
    {
        test::EventLoop loop;
        Collector c;
        LogMonitor m(kb(), mes_0x80_radv(), c.callback(), file_options(journal));
        REQUIRE(m.attach(loop.e).ok());
        settle(loop, m, 5, c);
        const auto ids = c.by_id();
        CHECK(c.events.size() == 5);
        CHECK(ids.count("log.device-wedged-recovered"));
        CHECK(ids.count("log.mes-failed-to-respond"));
        CHECK(ids.count("log.gcvm-protection-fault"));
        CHECK_FALSE(ids.count("log.mes-hang-firmware-20251125"));
        CHECK_FALSE(ids.at("log.mes-failed-to-respond").attributed);
        CHECK(ids.at("log.mes-failed-to-respond").gpu_reset);
    }
    SECTION("each ring-timeout form alone")
    {
        for (const auto& f : {"kernel-ring-timeout-new.txt", "kernel-ring-timeout-old.txt"}) {
            Collector c;
            LogMonitor m(kb(), rules::Facts{}, c.callback());
            for (const auto& l : test::log_lines(f)) m.feed_line(LogOrigin::kernel, l, k_t0);
            m.flush();
            CHECK(c.by_id().count("log.ring-timeout") == 1);
        }
    }
}

TEST_CASE("log monitor: 500 page faults in the journal are one event", "[daemon][log_monitor][journal]")
{
    test::TempDir dir;
    const fs::path journal = dir.path() / "flood.journal";
    const auto block = test::log_lines("kernel-page-fault-cpf-rocm5724.txt");
    std::vector<std::string> lines;
    for (int i = 0; i < 500; ++i) lines.insert(lines.end(), block.begin(), block.end());
    auto entries = test::entries_for(lines, k_t0, 1'000'000, 10);
    // A second burst well after the window is a new event.
    auto later = test::entries_for(block, k_t0 + 60'000'000, 61'000'000, 10);
    entries.insert(entries.end(), later.begin(), later.end());
    test::write_journal(journal, entries, dir.path());

    test::EventLoop loop;
    Collector c;
    auto o = file_options(journal);
    o.batch_entries = 64; // many loop iterations: windows must not close while catching up
    LogMonitor m(kb(), mes_0x83_rocm(), c.callback(), o);
    REQUIRE(m.attach(loop.e).ok());
    settle(loop, m, 2, c);
    REQUIRE(c.events.size() == 2);
    CHECK(c.events[0].pattern_id == "log.page-fault-mes-0x83");
    CHECK(c.events[0].count == 500);
    CHECK(c.events[0].last_usec - c.events[0].first_usec == (lines.size() - block.size()) * 10);
    CHECK(c.events[1].count == 1);
    CHECK(m.journal_entries_read() == entries.size());
}

TEST_CASE("log monitor: follows entries appended while it runs, from the tail", "[daemon][log_monitor][journal]")
{
    test::TempDir dir;
    const fs::path jdir = dir.path() / "journal";
    fs::create_directories(jdir);
    const fs::path scratch = dir.path() / "scratch";
    fs::create_directories(scratch);
    const std::string mes = "amdgpu 0000:c1:00.0: amdgpu: MES failed to respond to msg=REMOVE_QUEUE";
    // Old lines: before the monitor starts, so never reported.
    test::write_journal(jdir / "system.journal", test::entries_for({mes}, k_t0, 1'000'000), scratch);

    SECTION("a second journal file written into the watched directory")
    {
        test::EventLoop loop;
        Collector c;
        LogMonitorOptions o;
        o.journal = LogMonitorOptions::Journal::directory;
        o.journal_paths = {jdir.string()};
        o.coalesce_window_usec = k_window;
        LogMonitor m(kb(), rules::Facts{}, c.callback(), o);
        REQUIRE(m.attach(loop.e).ok());
        loop.run_for(2 * k_window);
        CHECK(c.events.empty());

        // Written aside and renamed in, as a finished file appears.
        test::write_journal(
            scratch / "next.journal",
            test::entries_for(test::log_lines("kernel-mes-remove-queue-therock737.txt"), k_t0 + 10'000'000, 11'000'000),
            scratch);
        fs::rename(scratch / "next.journal", jdir / "system@0001.journal");
        REQUIRE(loop.run_until([&] { return c.events.size() >= 2; }, 10'000'000));
        loop.run_for(2 * k_window);
        const auto ids = c.by_id();
        CHECK(c.events.size() == 2);
        REQUIRE(ids.count("log.mes-failed-to-respond"));
        CHECK(ids.at("log.mes-failed-to-respond").first_usec == k_t0 + 10'000'000);
        CHECK(ids.count("log.gpu-reset"));
    }
    SECTION("entries appended to the followed file; a cursor resumes after the last one read")
    {
        const fs::path file = jdir / "system.journal";
        std::string cursor;
        {
            test::EventLoop loop;
            Collector c;
            LogMonitor m(kb(), rules::Facts{}, c.callback(), file_options(file, ""));
            REQUIRE(m.attach(loop.e).ok());
            loop.run_for(k_window);
            CHECK(c.events.empty());
            test::write_journal(file, test::entries_for({mes}, k_t0 + 20'000'000, 21'000'000), scratch);
            REQUIRE(loop.run_until([&] { return c.events.size() == 1; }, 10'000'000));
            CHECK(c.events[0].first_usec == k_t0 + 20'000'000);
            cursor = m.cursor();
        }
        REQUIRE_FALSE(cursor.empty());
        // While stopped, one more line arrives; the resumed monitor reports just that one.
        test::write_journal(file, test::entries_for({mes}, k_t0 + 40'000'000, 41'000'000), scratch);
        test::EventLoop loop;
        Collector c;
        LogMonitor m(kb(), rules::Facts{}, c.callback(), file_options(file, cursor));
        REQUIRE(m.attach(loop.e).ok());
        settle(loop, m, 1, c);
        REQUIRE(c.events.size() == 1);
        CHECK(c.events[0].first_usec == k_t0 + 40'000'000);
        CHECK(c.events[0].count == 1);
    }
}

TEST_CASE("log monitor: journal that cannot be opened is an error, not a crash", "[daemon][log_monitor][journal]")
{
    test::TempDir dir;
    test::write_text(dir.path() / "junk.journal", "this is not a journal file\n");
    for (const auto& path : {dir.path() / "missing.journal", dir.path() / "junk.journal"}) {
        test::EventLoop loop;
        LogMonitor m(kb(), rules::Facts{}, nullptr, file_options(path));
        auto r = m.attach(loop.e);
        REQUIRE_FALSE(r.ok());
        CHECK_THAT(r.error().message, Catch::Contains(path.string()));
    }
    LogMonitorOptions o;
    o.journal = LogMonitorOptions::Journal::directory;
    test::EventLoop loop;
    LogMonitor m(kb(), rules::Facts{}, nullptr, o);
    CHECK_FALSE(m.attach(loop.e).ok()); // no directory given
}
