#include "daemon/export_input.hpp"

#include <charconv>
#include <map>

namespace halo::app {

namespace {

std::optional<double> number(const rules::Facts& facts, const std::string& key)
{
    const std::optional<std::string> text = facts.get(key);
    if (!text) return std::nullopt;
    double value = 0;
    const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (ec != std::errc() || end != text->data() + text->size()) return std::nullopt;
    return value;
}

std::optional<double> scaled(std::optional<double> v, double by)
{
    if (v) return *v * by;
    return std::nullopt;
}

bool digits(std::string_view s, std::size_t at, std::size_t n)
{
    if (s.size() < at + n) return false;
    for (std::size_t i = at; i < at + n; ++i)
        if (s[i] < '0' || s[i] > '9') return false;
    return true;
}

int field(std::string_view s, std::size_t at, std::size_t n)
{
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (s[i] - '0');
    return v;
}

// Days from 1970-01-01 to a civil date (proleptic Gregorian), as timegm would count them.
long days_from_civil(int y, int m, int d)
{
    y -= m <= 2 ? 1 : 0;
    const long era = (y >= 0 ? y : y - 399) / 400;
    const long yoe = y - era * 400;
    const long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

} // namespace

std::vector<GpuGauges> gpu_gauges(const rules::Facts& facts)
{
    std::map<std::string, GpuGauges> by_index;
    for (const std::string& key : facts.keys_matching("gpu.*.pci.vendor")) {
        const std::string index = key.substr(4, key.find('.', 4) - 4);
        const std::string p = "gpu." + index + ".";
        GpuGauges g;
        g.index = index;
        g.busy_ratio = scaled(number(facts, p + "sensor.busy_percent"), 0.01);
        g.vram_used_bytes = number(facts, p + "sensor.vram_used");
        g.vram_total_bytes = number(facts, p + "mem.vram_total");
        g.gtt_used_bytes = number(facts, p + "sensor.gtt_used");
        g.gtt_total_bytes = number(facts, p + "mem.gtt_total");
        g.temperature_celsius = scaled(number(facts, p + "sensor.temp_millicelsius"), 0.001);
        g.power_watts = scaled(number(facts, p + "sensor.power_microwatts"), 1e-6);
        by_index.emplace(index, std::move(g));
    }
    std::vector<GpuGauges> out;
    out.reserve(by_index.size());
    for (auto& [index, g] : by_index) out.push_back(std::move(g));
    return out;
}

std::optional<std::time_t> parse_rfc3339(std::string_view s)
{
    // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
    if (s.size() < 20) return std::nullopt;
    if (!digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' || !digits(s, 8, 2) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s, 11, 2) || s[13] != ':' || !digits(s, 14, 2) ||
        s[16] != ':' || !digits(s, 17, 2))
        return std::nullopt;
    std::size_t at = 19;
    if (at < s.size() && s[at] == '.') {
        ++at;
        while (at < s.size() && s[at] >= '0' && s[at] <= '9') ++at;
    }
    long offset = 0;
    if (at < s.size() && (s[at] == 'Z' || s[at] == 'z') && at + 1 == s.size()) {
        // UTC
    } else if (at < s.size() && (s[at] == '+' || s[at] == '-') && at + 6 == s.size() && digits(s, at + 1, 2) &&
               s[at + 3] == ':' && digits(s, at + 4, 2)) {
        offset = (field(s, at + 1, 2) * 60L + field(s, at + 4, 2)) * 60L * (s[at] == '+' ? 1 : -1);
    } else {
        return std::nullopt;
    }
    const int month = field(s, 5, 2), day = field(s, 8, 2), hour = field(s, 11, 2), minute = field(s, 14, 2),
              second = field(s, 17, 2);
    if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return std::nullopt;
    const long days = days_from_civil(field(s, 0, 4), month, day);
    return static_cast<std::time_t>(days * 86400L + hour * 3600L + minute * 60L + second - offset);
}

std::string first_gfx_target(const rules::Facts& facts)
{
    for (const std::string& key : facts.keys_matching("rocm.agent.*.gfx_target")) {
        std::string value = facts.get(key).value_or("");
        if (value.starts_with("gfx")) return value;
    }
    return {};
}

} // namespace halo::app
