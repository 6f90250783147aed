// Every fact a probe sets is part of the public contract: in the catalogue, and so in
// docs/facts.md (test_fact_catalogue.cpp checks the docs against the catalogue).
#include "probes/registry.hpp"
#include "probes/runner.hpp"
#include "rules/fact_catalogue.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <string>

using namespace halo;

TEST_CASE("every fact the probes set on the fixture hosts and here is in the catalogue", "[probes][catalogue]")
{
    std::vector<std::string> roots{"/"};
    for (const auto& entry : std::filesystem::directory_iterator(std::string(HALO_TEST_DATA) + "/hosts")) {
        if (entry.is_directory()) roots.push_back(entry.path().string());
    }
    for (const std::string& root : roots) {
        probes::Host host(root);
        const probes::ProbeContext context{host, std::chrono::milliseconds(10000), std::nullopt, std::nullopt, {}};
        const rules::Facts facts = probes::run_probes(context);
        for (const auto& [key, fact] : facts.all()) {
            INFO(root << ": " << key << " = " << fact.value << " (" << fact.source << ")");
            CHECK(rules::in_catalogue(key));
        }
        // Each probe's declared key patterns are in the catalogue too (they become unknown).
        for (const probes::ProbeInfo& probe : probes::registry()) {
            for (std::string_view pattern : probe.provides) {
                INFO(probe.id << " provides " << pattern);
                CHECK(rules::in_catalogue(pattern));
            }
        }
    }
}
