#include "probes/registry.hpp"

#include "host_probe_support.hpp"

#include <catch2/catch.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <vector>

using namespace halo::probes;

namespace {

halo::rules::ProbeStatus collect_nothing(const ProbeContext&, FactSink&) { return status_ok(); }

constexpr std::string_view k_reads_os[] = {"os"};
constexpr std::string_view k_reads_kernel_packages[] = {"kernel", "packages"};
constexpr std::string_view k_reads_kernal[] = {"kernal"};
constexpr std::string_view k_reads_self[] = {"boot"};

ProbeInfo probe(std::string_view id, std::span<const std::string_view> reads = {}, bool isolated = false)
{
    return ProbeInfo{id, "test probe", {}, {}, reads, isolated, collect_nothing};
}

std::string order_error(const std::vector<ProbeInfo>& probes)
{
    auto r = check_probe_order(probes);
    return r ? std::string("<ok>") : r.error().message;
}

// What one probe contributed: its facts (by the source FactSink records) and its status.
std::map<std::string, std::string> contribution(const halo::rules::Facts& facts, std::string_view id)
{
    std::map<std::string, std::string> out;
    for (const auto& [key, fact] : facts.all()) {
        if (fact.source == id || fact.source.starts_with(std::string(id) + ":")) out[key] = fact.value;
    }
    const auto& status = facts.probes().at(std::string(id));
    out["<status>"] = fmt::format("{} {}", static_cast<int>(status.state), status.reason);
    return out;
}

} // namespace

TEST_CASE("the registry runs every probe after the probes it reads", "[probes][registry]")
{
    auto order = check_probe_order(registry());
    INFO((order ? std::string() : order.error().message));
    CHECK(order.ok());
    // The readers the table holds today, so a reader that drops its declaration is noticed too.
    auto reads = [](std::string_view id) {
        const ProbeInfo* p = find_probe(id);
        REQUIRE(p);
        return std::vector<std::string_view>(p->reads.begin(), p->reads.end());
    };
    CHECK(reads("packages") == std::vector<std::string_view>{"os"});
    CHECK(reads("boot") == std::vector<std::string_view>{"kernel", "packages"});
    CHECK(reads("engine") == std::vector<std::string_view>{"containers"});
}

TEST_CASE("a misordered probe list is refused, naming both probes and the fix", "[probes][registry]")
{
    CHECK(order_error({probe("os"), probe("kernel"), probe("packages", k_reads_os),
                       probe("boot", k_reads_kernel_packages)}) == "<ok>");
    CHECK(order_error(
              {probe("kernel"), probe("boot", k_reads_kernel_packages), probe("os"), probe("packages", k_reads_os)}) ==
          "probe 'boot' reads the facts of 'packages' but runs before it; move 'boot' after 'packages' in the probe "
          "table");
    CHECK(order_error({probe("packages", k_reads_os), probe("os")}) ==
          "probe 'packages' reads the facts of 'os' but runs before it; move 'packages' after 'os' in the probe table");
}

TEST_CASE("probe reads that cannot hold are refused", "[probes][registry]")
{
    CHECK(order_error({probe("kernel"), probe("boot", k_reads_kernal)}) ==
          "probe 'boot' reads the facts of 'kernal', which is not in the probe table (did you mean 'kernel'?)");
    CHECK(order_error({probe("boot", k_reads_self)}) ==
          "probe 'boot' lists itself in its reads; list only other probes");
    CHECK(order_error({probe("os"), probe("vulkan", k_reads_os, true)}) ==
          "probe 'vulkan' reads the facts of 'os' but runs isolated, in a child that starts from no facts; read them "
          "in the parent or run it in-process");
    CHECK(order_error({probe("os"), probe("kernel"), probe("os")}) ==
          "probe 'os' is in the table twice; list each probe once");
}

TEST_CASE("each probe's declared reads are all it reads, on the richest fixture host", "[probes][registry]")
{
    // Run alone after only the probes it declares, an in-process probe must contribute exactly
    // what it contributes in the full run: an undeclared read would change its facts. (Isolated
    // probes start from no facts in their child, so they read none.)
    halo::test::ScratchDir dir;
    halo::test::make_fixture_root("strix-fedora43-nextboot-broken", dir.path() / "root");
    Host host(dir.path() / "root");
    const ProbeContext context{host, std::chrono::milliseconds(5000), std::nullopt, std::nullopt, {}};
    const halo::rules::Facts full = run_probes(context);
    for (const ProbeInfo& probe : registry()) {
        if (probe.isolated) continue;
        halo::rules::Facts alone;
        for (const ProbeInfo& earlier : registry()) {
            if (earlier.id == probe.id) break;
            if (std::find(probe.reads.begin(), probe.reads.end(), earlier.id) != probe.reads.end())
                run_probe_in_process(earlier, context, alone);
        }
        run_probe_in_process(probe, context, alone);
        INFO("probe " << probe.id);
        CHECK(contribution(alone, probe.id) == contribution(full, probe.id));
    }
}
