// Structured journal fields for halo-checkd's events.

#include "daemon/checkd/journal_event.hpp"
#include "daemon/checkd/log_monitor.hpp"

#include <catch2/catch.hpp>

#include <set>
#include <string>

using namespace halo::checkd;

namespace {

std::string field(const std::vector<std::string>& fields, const std::string& name)
{
    for (const auto& f : fields)
        if (f.rfind(name + "=", 0) == 0) return f.substr(name.size() + 1);
    return "(absent)";
}

} // namespace

TEST_CASE("journal: every event kind has its own well-formed MESSAGE_ID", "[daemon][journal_event]")
{
    std::set<std::string_view> seen;
    for (auto k :
         {JournalEventKind::log_pattern, JournalEventKind::gpu_reset, JournalEventKind::verdict_changed,
          JournalEventKind::next_boot_changed, JournalEventKind::rules_reloaded, JournalEventKind::rules_rejected,
          JournalEventKind::engine_state, JournalEventKind::system_changed, JournalEventKind::speed_regression}) {
        const auto id = message_id(k);
        CHECK(id.size() == 32);
        CHECK(id.find_first_not_of("0123456789abcdef") == std::string_view::npos);
        CHECK(id != "00000000000000000000000000000000");
        seen.insert(id);
    }
    CHECK(seen.size() == 9);
    // Published ids never change (docs/journal.md lists them).
    CHECK(message_id(JournalEventKind::log_pattern) == "4664376ec99744f888801a1f9b36d5be");
    CHECK(message_id(JournalEventKind::gpu_reset) == "20508c22c1bb44c298d67d99901013fb");
}

TEST_CASE("journal: fields of a coalesced log event", "[daemon][journal_event]")
{
    LogEvent e;
    e.pattern_id = "log.page-fault-mes-0x83";
    e.severity = halo::rules::Severity::broken;
    e.title = "GPU page fault caused by MES firmware 0x83";
    e.fix = "Install fixed firmware:\n  sudo dnf upgrade";
    e.first_line = "amdgpu 0000:c2:00.0: amdgpu: GCVM_L2_PROTECTION_FAULT_STATUS:0x00800932";
    e.count = 500;
    e.first_usec = 10;
    e.last_usec = 20;
    const auto f = journal_fields(journal_record(e));
    CHECK(f.front() == "MESSAGE_ID=4664376ec99744f888801a1f9b36d5be");
    CHECK(field(f, "MESSAGE") == "GPU page fault caused by MES firmware 0x83 (500 kernel lines)");
    CHECK(field(f, "PRIORITY") == "3");
    CHECK(field(f, "HALO_RULE") == "log.page-fault-mes-0x83");
    CHECK(field(f, "HALO_VERDICT") == "broken");
    CHECK(field(f, "HALO_COUNT") == "500");
    CHECK(field(f, "HALO_EVENT") == "log-pattern");
    CHECK(field(f, "HALO_LINE") == e.first_line);
    CHECK(field(f, "HALO_FIX") == e.fix); // newlines kept: sd_journal_sendv sends them binary-safe
    CHECK(field(f, "HALO_FIRST_USEC") == "10");
    for (const auto& x : f) CHECK(valid_journal_field_name(x.substr(0, x.find('='))));

    e.gpu_reset = true;
    e.count = 1;
    const auto r = journal_fields(journal_record(e));
    CHECK(field(r, "MESSAGE_ID") == "20508c22c1bb44c298d67d99901013fb");
    CHECK(field(r, "PRIORITY") == "2");
    CHECK(field(r, "MESSAGE") == e.title);

    e.gpu_reset = false;
    e.severity = halo::rules::Severity::warning;
    CHECK(field(journal_fields(journal_record(e)), "PRIORITY") == "4");
}

TEST_CASE("journal: optional fields are omitted and extra names are made valid", "[daemon][journal_event]")
{
    JournalRecord r;
    r.kind = JournalEventKind::next_boot_changed;
    r.message = "Rebooting now will break your ROCm engine";
    r.priority = 42;
    r.extra = {{"halo.kernel-next", "6.18.5-200.fc43.x86_64"}, {"_PID", "1"}, {"", "x"}, {"%%%", "y"}};
    const auto f = journal_fields(r);
    CHECK(field(f, "MESSAGE_ID") == "ceb1df9571b74748b43d1b1c60485666");
    CHECK(field(f, "PRIORITY") == "7");
    CHECK(field(f, "HALO_RULE") == "(absent)");
    CHECK(field(f, "HALO_COUNT") == "(absent)");
    CHECK(field(f, "HALO_KERNEL_NEXT") == "6.18.5-200.fc43.x86_64");
    CHECK(field(f, "PID") == "1"); // never a trusted '_' field
    CHECK(f.size() == 7);          // 5 fixed + 2 valid extras
    for (const auto& x : f) CHECK(valid_journal_field_name(x.substr(0, x.find('='))));

    CHECK_FALSE(valid_journal_field_name(""));
    CHECK_FALSE(valid_journal_field_name("_BOOT_ID"));
    CHECK_FALSE(valid_journal_field_name("1ABC"));
    CHECK_FALSE(valid_journal_field_name("lower"));
    CHECK_FALSE(valid_journal_field_name(std::string(65, 'A')));
    CHECK(valid_journal_field_name(std::string(64, 'A')));
}

TEST_CASE("journal: sinks", "[daemon][journal_event]")
{
    CaptureJournalSink capture;
    JournalSink& sink = capture;
    JournalRecord r;
    r.message = "x";
    CHECK(sink.send(journal_fields(r)) == 0);
    REQUIRE(capture.entries.size() == 1);
    CHECK(capture.entries[0][1] == "MESSAGE=x");
    // The system sink never throws; without journald it returns 0 or an errno.
    SystemJournalSink system;
    CHECK(system.send(journal_fields(r)) <= 0);
}
