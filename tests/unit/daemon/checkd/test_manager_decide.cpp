#include "daemon/checkd/manager.hpp"

#include <catch2/catch.hpp>

using namespace halo;
using namespace halo::app;
using namespace halo::checkd;

TEST_CASE("policy decisions", "[daemon][policy]")
{
    rules::Rule broken_rule{"rocm.firmware-20251125", rules::Severity::broken, "t", "", "", {}, "", {}, {}, {}};
    rules::Rule warn_rule{"engine.ctx-200k", rules::Severity::warning, "t", "", "", {}, "", {}, {}, {}};
    rules::KnownGood good{"known-good.x", "t", "", {}, "", {}, {}};

    rules::Report ok;
    CHECK(decide(Policy::refuse_broken, ok).allowed);
    CHECK(decide(Policy::refuse_warning, ok).allowed);
    CHECK_FALSE(decide(Policy::known_good_only, ok).allowed);
    ok.known_good = &good;
    CHECK(decide(Policy::known_good_only, ok).allowed);

    rules::Report warning;
    warning.verdict = rules::Verdict::warning;
    warning.findings.push_back({&warn_rule, {}});
    CHECK(decide(Policy::refuse_broken, warning).allowed);
    const Decision w = decide(Policy::refuse_warning, warning);
    CHECK_FALSE(w.allowed);
    CHECK(w.reason == "warning: engine.ctx-200k");

    rules::Report broken;
    broken.verdict = rules::Verdict::broken;
    broken.findings.push_back({&broken_rule, {}});
    broken.known_good = &good;
    for (Policy p : {Policy::refuse_broken, Policy::refuse_warning, Policy::known_good_only}) {
        const Decision d = decide(p, broken);
        CHECK_FALSE(d.allowed);
        CHECK(d.reason == "broken: rocm.firmware-20251125");
    }
}

TEST_CASE("a refused new command leaves the facts of the engine that runs", "[daemon][policy]")
{
    rules::Facts running;
    running.set("engine.ctx_size", "512", "config");
    running.set("engine.port", "8080", "config");
    running.set("kernel.release", "6.18.5", "kernel");
    running.set_probe_status("engine", {rules::ProbeState::ok, "", 1});
    rules::Facts judged;
    judged.set("engine.ctx_size", "262144", "config");
    judged.set("engine.port", "9090", "config");
    judged.set("engine.alias", "new", "config");
    judged.set("kernel.release", "6.18.6", "kernel");
    judged.mark_unknown("engine.model.*", "no such file");
    judged.set_probe_status("engine", {rules::ProbeState::partial, "no such file", 1});
    judged.set_probe_status("kernel", {rules::ProbeState::ok, "", 1});
    judged.snapshot.taken = "T2";

    const rules::Facts out = with_engine_facts(judged, running);
    CHECK(out.get("engine.ctx_size") == "512");
    CHECK(out.get("engine.port") == "8080");
    CHECK_FALSE(out.get("engine.alias"));
    CHECK_FALSE(out.unknown_reason("engine.model.path"));
    CHECK(out.probes().at("engine").state == rules::ProbeState::ok);
    // The machine is as judged now.
    CHECK(out.get("kernel.release") == "6.18.6");
    CHECK(out.probes().at("kernel").state == rules::ProbeState::ok);
    CHECK(out.snapshot.taken == "T2");
}

TEST_CASE("the kept-running note says whether the refused configuration was another command", "[daemon][policy]")
{
    CHECK(kept_running_note("broken: x", false) ==
          "verdict now broken: x (engine kept running; stop_on_refusal = false)");
    CHECK(kept_running_note("broken: x", true) ==
          "verdict now broken: x for the new engine command (engine kept running "
          "on the previous command; stop_on_refusal = false)");
}
