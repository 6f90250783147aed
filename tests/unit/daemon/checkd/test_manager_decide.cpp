#include "daemon/checkd/manager.hpp"

#include <catch2/catch.hpp>

using namespace halo;
using namespace halo::app;
using namespace halo::checkd;

TEST_CASE("policy decisions", "[daemon][policy]")
{
    rules::Rule broken_rule{"rocm.firmware-20251125", rules::Severity::broken, "t", "", "", {}, "", {}, {}};
    rules::Rule warn_rule{"engine.ctx-200k", rules::Severity::warning, "t", "", "", {}, "", {}, {}};
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
