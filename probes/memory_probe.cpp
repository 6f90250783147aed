#include "probes/memory_probe.hpp"

#include <fmt/core.h>

#include <array>
#include <charconv>
#include <limits>

namespace halo::probes {

Result<std::uint64_t> parse_meminfo_total(std::string_view text)
{
    constexpr std::string_view k_label = "MemTotal:";
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        if (!line.starts_with(k_label)) continue;
        line.remove_prefix(k_label.size());
        while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
        std::uint64_t kib = 0;
        const auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), kib);
        if (ec != std::errc() || ptr == line.data()) return Error{"MemTotal is not a number"};
        const std::string_view unit = std::string_view(ptr, static_cast<std::size_t>(line.data() + line.size() - ptr));
        if (unit != " kB") return Error{fmt::format("MemTotal has unit '{}', expected 'kB'", unit.substr(0, 16))};
        if (kib > std::numeric_limits<std::uint64_t>::max() / 1024) return Error{"MemTotal is out of range"};
        return kib * 1024;
    }
    return Error{"no MemTotal line"};
}

namespace {

constexpr std::array<std::string_view, 1> k_sources = {"/proc/meminfo"};
constexpr std::array<std::string_view, 1> k_provides = {"host.mem.*"};

rules::ProbeStatus collect(const ProbeContext& context, FactSink& sink)
{
    auto text = context.host.read_file("/proc/meminfo", 1u << 20);
    if (!text) return status_failed(text.error().message);
    auto total = parse_meminfo_total(*text);
    if (!total) return status_failed(fmt::format("Failed to parse '/proc/meminfo': {}", total.error().message));
    sink.set("host.mem.total_bytes", std::to_string(*total), "/proc/meminfo");
    return status_ok();
}

} // namespace

const ProbeInfo k_memory_probe = {
    "memory", "Installed memory from /proc/meminfo", k_sources, k_provides, {}, false, collect,
};

} // namespace halo::probes
