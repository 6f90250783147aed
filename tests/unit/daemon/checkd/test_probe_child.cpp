#include "daemon/checkd/probe_child.hpp"

#include "probes/host.hpp"
#include "rules/facts_io.hpp"
#include "watch_test_support.hpp"

#include <catch2/catch.hpp>

#include <signal.h>

#include <cerrno>
#include <optional>
#include <string>

using namespace halo;
using namespace halo::checkd;
using namespace std::chrono_literals;

namespace {

const std::string k_hosts = std::string(HALO_TEST_DATA) + "/hosts/";

// Every probe failed, with `reason` in its status and in its keys' unknown reasons.
void check_all_failed(const rules::Facts& facts, const std::string& reason)
{
    REQUIRE(facts.probes().count("containers") == 1);
    for (const auto& [id, status] : facts.probes()) {
        INFO(id);
        CHECK(status.state == rules::ProbeState::failed);
        CHECK_THAT(status.reason, Catch::Contains(reason));
    }
    CHECK(facts.all().empty());
    const auto why = facts.unknown_reason("container.x.id");
    REQUIRE(why);
    CHECK_THAT(*why, Catch::Contains("containers probe failed: ") && Catch::Contains(reason));
}

struct BlockedChld {
    BlockedChld()
    {
        // sd_event_add_child wants SIGCHLD blocked, as halo-checkd's main has it.
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_BLOCK, &chld, &old_mask);
    }
    ~BlockedChld() { sigprocmask(SIG_SETMASK, &old_mask, nullptr); }
    sigset_t old_mask{};
};

} // namespace

TEST_CASE("probe child: a failed child is every probe failed with its reason", "[daemon][probe_child]")
{
    ProbeChildOutcome timed_out;
    timed_out.timed_out = true;
    check_all_failed(probe_child_facts(timed_out, 30s), "the probe child gave no answer in 30 s and was killed");
    timed_out.did_not_die = true;
    check_all_failed(probe_child_facts(timed_out, 1500ms), "no answer in 1.5 s and was killed; it did not die");

    ProbeChildOutcome crashed;
    crashed.signal = SIGSEGV;
    check_all_failed(probe_child_facts(crashed, 30s), "the probe child was killed by SIGSEGV");

    ProbeChildOutcome status;
    status.exited = true;
    status.exit_status = 4;
    check_all_failed(probe_child_facts(status, 30s), "exited with status 4 before answering");

    ProbeChildOutcome large;
    large.too_large = true;
    check_all_failed(probe_child_facts(large, 30s), "answer was larger than 8388608 bytes");

    ProbeChildOutcome empty;
    empty.exited = true;
    check_all_failed(probe_child_facts(empty, 30s), "exited without an answer");

    ProbeChildOutcome garbage = empty;
    garbage.answer = "[[[ not json";
    check_all_failed(probe_child_facts(garbage, 30s), "garbage answer: ");

    check_all_failed(probe_run_failed("Failed to fork the probe child: Resource temporarily unavailable"),
                     "Failed to fork the probe child");
}

TEST_CASE("probe child: a clean answer is the child's facts", "[daemon][probe_child]")
{
    rules::Facts facts;
    facts.set("kernel.release", "6.18.4-200.fc43.x86_64", "/proc/sys/kernel/osrelease");
    facts.set_probe_status("kernel", rules::ProbeStatus{});
    ProbeChildOutcome ok;
    ok.exited = true;
    ok.answer = rules::serialize_facts(facts, rules::FactsFormat::json);
    const rules::Facts got = probe_child_facts(ok, 30s);
    CHECK(got.get("kernel.release") == std::optional<std::string>("6.18.4-200.fc43.x86_64"));
    CHECK(got.probes().count("kernel") == 1);
}

TEST_CASE("probe child: a real run answers on the loop with the fixture's facts", "[daemon][probe_child]")
{
    BlockedChld blocked;
    test::EventLoop loop;
    probes::Host host(k_hosts + "strix-fedora43-good");
    probes::ProbeContext context{host, 5000ms, {}, {}, {}};
    std::optional<rules::Facts> answer;
    auto run = ProbeRun::start(loop.e, context, 30s, [&](rules::Facts f) { answer = std::move(f); });
    REQUIRE(run.ok());
    REQUIRE(loop.run_until([&] { return answer.has_value(); }, 20'000'000));
    CHECK(answer->probes().at("containers").state == rules::ProbeState::ok);
    CHECK(answer->get("container.llama-vulkan-radv.image.tag") == std::optional<std::string>("vulkan-radv"));
    CHECK(answer->probes().count("kernel") == 1);
}

TEST_CASE("probe child: a run destroyed before it answers kills the child, which the loop reaps",
          "[daemon][probe_child]")
{
    BlockedChld blocked;
    test::EventLoop loop;
    probes::Host host(k_hosts + "strix-fedora43-good");
    probes::ProbeContext context{host, 5000ms, {}, {}, {}};
    bool called = false;
    auto run = ProbeRun::start(loop.e, context, 30s, [&](const rules::Facts&) { called = true; });
    REQUIRE(run.ok());
    const pid_t pid = (*run)->pid();
    run->reset();
    // kill(pid, 0) succeeds on a zombie: ESRCH means it was reaped.
    CHECK(loop.run_until([&] { return ::kill(pid, 0) != 0 && errno == ESRCH; }, 5'000'000));
    CHECK_FALSE(called);
}
