#include "daemon/control_outcome.hpp"

#include <catch2/catch.hpp>

using halo::app::control_outcome;
using halo::app::Progress;
using nlohmann::json;

namespace {

json state(long long evaluations, long long handled, const std::string& engine_state, const json& extra = {})
{
    json j = {{"daemon",
               {{"pid", 1},
                {"evaluations", evaluations},
                {"requests_handled", handled},
                {"reload_error", nullptr},
                {"request_error", nullptr}}},
              {"verdict", {{"verdict", "ok"}, {"allowed", true}, {"reason", ""}}},
              {"engine", {{"name", "llama"}, {"state", engine_state}, {"since", "2026-12-01T10:00:00Z"}}}};
    if (extra.is_object()) j.merge_patch(extra);
    return j;
}

} // namespace

TEST_CASE("reload waits for its evaluation and fails when the reload did", "[daemon][control]")
{
    const json before = state(3, 0, "ready");
    CHECK(control_outcome("reload", before, before).progress == Progress::waiting);
    CHECK(control_outcome("reload", before, state(4, 0, "ready")).progress == Progress::done);
    const auto bad = control_outcome(
        "reload", before, state(4, 0, "ready", {{"daemon", {{"reload_error", "config.toml:2:1: unknown key"}}}}));
    CHECK(bad.progress == Progress::failed);
    CHECK_THAT(bad.message, Catch::Matchers::Contains("unknown key"));
}

TEST_CASE("restart returns when the engine is ready again, or says why not", "[daemon][control]")
{
    const json before = state(3, 5, "ready");
    CHECK(control_outcome("restart", before, before).progress == Progress::waiting);
    // Taken, but the engine shown is still the one from before the restart.
    CHECK(control_outcome("restart", before, state(4, 6, "ready")).progress == Progress::waiting);
    CHECK(control_outcome("restart", before, state(4, 6, "loading")).progress == Progress::waiting);
    const json ready = state(4, 6, "ready", {{"engine", {{"since", "2026-12-01T10:00:09Z"}}}});
    CHECK(control_outcome("restart", before, ready).progress == Progress::done);
    const auto gave_up =
        control_outcome("restart", before, state(4, 6, "given_up", {{"engine", {{"reason", "abort"}}}}));
    CHECK(gave_up.progress == Progress::failed);
    CHECK_THAT(gave_up.message, Catch::Matchers::Contains("given_up: abort"));
    const json refused =
        state(4, 6, "refused",
              {{"verdict", {{"verdict", "broken"}, {"allowed", false}, {"reason", "firmware.mes-0x83-rocm"}}}});
    const auto no = control_outcome("start", before, refused);
    CHECK(no.progress == Progress::failed);
    CHECK_THAT(no.message, Catch::Matchers::Contains("verdict broken"));
}

TEST_CASE("smoke and stop report their outcome", "[daemon][control]")
{
    const json before = state(3, 5, "ready");
    CHECK(control_outcome("smoke", before, state(3, 6, "ready")).progress == Progress::waiting);
    const json passed =
        state(3, 6, "ready",
              {{"engine",
                {{"smoke",
                  {{"ok", true}, {"latency_ms", 120.0}, {"completion_tokens", 8}, {"predicted_per_second", 41.5}}}}}});
    const auto ok = control_outcome("smoke", before, passed);
    CHECK(ok.progress == Progress::done);
    CHECK_THAT(ok.message, Catch::Matchers::Contains("41.5 t/s"));
    const json not_run =
        state(3, 6, "stopped", {{"daemon", {{"request_error", "smoke test not run: engine not ready"}}}});
    CHECK(control_outcome("smoke", before, not_run).progress == Progress::failed);
    CHECK(control_outcome("stop", before, state(3, 6, "stopping")).progress == Progress::waiting);
    CHECK(control_outcome("stop", before, state(3, 6, "stopped")).progress == Progress::done);
}
