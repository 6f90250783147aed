#include "daemon/checkd/last_known_good_recorder.hpp"

#include "daemon/checkd/callback_guard.hpp"
#include "watch_test_support.hpp"

#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

using namespace halo;
using namespace halo::checkd;
using app::EngineState;

namespace {

app::EngineStatus status(EngineState state, std::optional<bool> smoke_ok)
{
    app::EngineStatus s;
    s.state = state;
    if (smoke_ok) {
        s.smoke.emplace();
        s.smoke->ok = *smoke_ok;
    }
    return s;
}

rules::Facts facts(const std::string& kernel)
{
    rules::Facts f;
    f.set("kernel.release", kernel);
    return f;
}

// Runs the loop until nothing is left to dispatch within 100 ms.
void run_loop(sd_event* e)
{
    while (sd_event_run(e, 100'000) > 0) {}
}

struct Loop {
    SdEvent event;
    Loop()
    {
        sd_event* e = nullptr;
        REQUIRE(sd_event_new(&e) >= 0);
        event.reset(e);
    }
};

std::vector<std::string> g_reports;
void record_report(std::string_view callback, std::string_view what) noexcept
{
    g_reports.push_back(std::string(callback) + ": " + std::string(what));
}

} // namespace

TEST_CASE("the clock towards last known good runs while the engine is ready with a passing smoke test",
          "[daemon][last_known_good]")
{
    CHECK(counts_towards_last_known_good(status(EngineState::ready, true)));
    CHECK_FALSE(counts_towards_last_known_good(status(EngineState::ready, false)));
    CHECK_FALSE(counts_towards_last_known_good(status(EngineState::ready, std::nullopt)));
    CHECK_FALSE(counts_towards_last_known_good(status(EngineState::unhealthy, true)));
    CHECK(worth_recording(rules::Verdict::ok));
    CHECK(worth_recording(rules::Verdict::warning));
    CHECK(worth_recording(rules::Verdict::unknown));
    CHECK_FALSE(worth_recording(rules::Verdict::broken));
}

TEST_CASE("state.json's last_known_good: null, or when, where and what changed since", "[daemon][last_known_good]")
{
    CHECK(last_known_good_json(std::nullopt, facts("6.18.5")).is_null());
    const app::LastKnownGood last{facts("6.18.3"), "2026-01-12T09:14:03Z", "/var/lib/halo-check/last-known-good.toml"};
    CHECK(last_known_good_json(last, facts("6.18.5")).dump() ==
          R"({"recorded":"2026-01-12T09:14:03Z","path":"/var/lib/halo-check/last-known-good.toml",)"
          R"("changes":["kernel.release 6.18.3 → 6.18.5"]})");
}

TEST_CASE("one good stretch is recorded once, a new stretch records again", "[daemon][last_known_good]")
{
    test::TempDir dir;
    Loop loop;
    LogSink log((dir.path() / "export").string());
    int due = 0;
    LastKnownGoodRecorder recorder(loop.event.get(), log, dir.path(), [&] {
        ++due;
        recorder.record(facts("6.18." + std::to_string(due)), rules::Verdict::ok);
    });
    CHECK_FALSE(recorder.last());

    recorder.engine_changed(status(EngineState::ready, true), std::chrono::milliseconds(0));
    run_loop(loop.event.get());
    CHECK(due == 1);
    REQUIRE(recorder.last());
    CHECK(recorder.last()->facts.get("kernel.release") == "6.18.1");
    CHECK(std::filesystem::exists(app::last_known_good_path(dir.path())));

    // Every later health report of the same stretch leaves the clock alone.
    recorder.engine_changed(status(EngineState::ready, true), std::chrono::milliseconds(0));
    run_loop(loop.event.get());
    CHECK(due == 1);

    recorder.engine_changed(status(EngineState::unhealthy, true), std::chrono::milliseconds(0));
    recorder.engine_changed(status(EngineState::ready, true), std::chrono::milliseconds(0));
    run_loop(loop.event.get());
    CHECK(due == 2);
    CHECK(recorder.last()->facts.get("kernel.release") == "6.18.2");

    // A recorder started later finds it.
    LastKnownGoodRecorder again(loop.event.get(), log, dir.path(), [] {});
    REQUIRE(again.last());
    CHECK(again.last()->facts.get("kernel.release") == "6.18.2");
}

TEST_CASE("a stretch that ends before the delay records nothing, a broken machine is never recorded",
          "[daemon][last_known_good]")
{
    test::TempDir dir;
    Loop loop;
    LogSink log((dir.path() / "export").string());
    int due = 0;
    LastKnownGoodRecorder recorder(loop.event.get(), log, dir.path(), [&] { ++due; });
    recorder.engine_changed(status(EngineState::ready, true), std::chrono::hours(1));
    recorder.engine_changed(status(EngineState::stopping, true), std::chrono::hours(1));
    run_loop(loop.event.get());
    CHECK(due == 0);

    CHECK_FALSE(recorder.record(facts("6.18.5"), rules::Verdict::broken));
    CHECK_FALSE(recorder.last());
    CHECK_FALSE(std::filesystem::exists(app::last_known_good_path(dir.path())));
}

TEST_CASE("a failure while recording is reported by name and the loop goes on", "[daemon][last_known_good]")
{
    test::TempDir dir;
    Loop loop;
    LogSink log((dir.path() / "export").string());
    g_reports.clear();
    set_callback_error_reporter(&record_report);
    LastKnownGoodRecorder recorder(loop.event.get(), log, dir.path(), [] { throw std::runtime_error("disk full"); });
    recorder.engine_changed(status(EngineState::ready, true), std::chrono::milliseconds(0));
    run_loop(loop.event.get());
    set_callback_error_reporter(nullptr);
    CHECK(g_reports == std::vector<std::string>{"last_known_good.on_timer: disk full"});
    CHECK(sd_event_get_state(loop.event.get()) != SD_EVENT_FINISHED);
}
