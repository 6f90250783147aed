// The host probes' registry entries: order (packages reads os facts; boot reads kernel and packages
// facts), sources and provided key patterns that cover what they set.
#include "probes/registry.hpp"

#include "host_probe_support.hpp"

#include <algorithm>

using namespace halo;

TEST_CASE("host probes: registry order and declared keys", "[probes][registry]")
{
    std::vector<std::string> ids;
    for (const auto& p : probes::registry()) ids.emplace_back(p.id);
    auto pos = [&](std::string_view id) {
        auto it = std::find(ids.begin(), ids.end(), id);
        REQUIRE(it != ids.end());
        return it - ids.begin();
    };
    CHECK(pos("os") < pos("packages"));
    CHECK(pos("kernel") < pos("boot"));
    CHECK(pos("packages") < pos("boot"));
    CHECK(pos("memory") >= 0);

    // Every fact a host probe sets on the richest fixture falls under a pattern it declares.
    test::ScratchDir dir;
    test::make_fixture_root("strix-fedora43-nextboot-broken", dir.path() / "root");
    rules::Facts facts;
    for (const char* id : {"os", "memory", "kernel", "packages", "boot"}) {
        const probes::ProbeInfo* probe = probes::find_probe(id);
        REQUIRE(probe);
        CHECK_FALSE(probe->sources.empty());
        CHECK_FALSE(probe->isolated);
        test::run(*probe, dir.path() / "root", facts);
        for (const auto& entry : facts.all()) {
            const std::string& key = entry.first;
            if (!entry.second.source.starts_with(std::string(id) + ":")) continue;
            const bool declared = std::any_of(probe->provides.begin(), probe->provides.end(),
                                              [&](std::string_view p) { return rules::key_matches(p, key); });
            INFO(id << " sets " << key);
            CHECK(declared);
        }
    }
    CHECK(facts.size() > 30);
}
