#include "daemon/export_nfd.hpp"

#include "common/clock.hpp"

#include <fmt/core.h>

#include <utility>
#include <vector>

namespace halo::app {

namespace {

bool alnum(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool inner(char c) noexcept { return alnum(c) || c == '-' || c == '_' || c == '.'; }

constexpr std::size_t k_label_value_max = 63;

const char* boolean(bool b) { return b ? "true" : "false"; }

bool usable(rules::Verdict v) { return v == rules::Verdict::ok || v == rules::Verdict::warning; }

} // namespace

bool valid_label_value(std::string_view value) noexcept
{
    if (value.empty()) return true;
    if (value.size() > k_label_value_max || !alnum(value.front()) || !alnum(value.back())) return false;
    for (char c : value)
        if (!inner(c)) return false;
    return true;
}

std::string label_value(std::string_view value)
{
    std::string out;
    for (char c : value) out += inner(c) ? c : '_';
    if (out.size() > k_label_value_max) out.resize(k_label_value_max);
    while (!out.empty() && !alnum(out.back())) out.pop_back();
    std::size_t start = 0;
    while (start < out.size() && !alnum(out[start])) ++start;
    return out.substr(start);
}

std::string format_nfd(const ExportInput& in, std::time_t expires)
{
    const rules::Facts& f = *in.facts;
    // The rules do not say which backend a finding breaks, so a broken (or undecided) machine is
    // neither rocm-ok nor vulkan-ok: nothing is scheduled onto it.
    const bool fit = usable(in.now->verdict);
    const bool rocm = f.get("rocm.kfd.accessible") == "true" && !first_gfx_target(f).empty();
    long vulkan_gpus = 0;
    if (auto n = f.get("vulkan.gpu_count")) vulkan_gpus = std::strtol(n->c_str(), nullptr, 10);
    std::vector<std::pair<std::string_view, std::string>> labels{
        {"verdict", std::string(rules::to_string(in.now->verdict))},
        {"next-boot-verdict", std::string(rules::to_string(in.next_boot->verdict))},
        {"rocm-ok", boolean(fit && rocm)},
        {"vulkan-ok", boolean(fit && vulkan_gpus > 0)},
        {"gfx", first_gfx_target(f)},
        {"kernel", f.get("kernel.release").value_or("")},
        {"mes", f.get("gpu.0.firmware.mes").value_or("")},
        {"backend", f.get("engine.backend").value_or("")},
        {"known-good", in.now->known_good ? in.now->known_good->id : std::string()},
    };
    std::string out = fmt::format("# +expiry-time={}\n", rfc3339_utc(expires));
    for (const auto& [name, value] : labels) {
        const std::string v = label_value(value);
        if (v.empty()) continue; // an absent fact is no label, not an empty one
        out += fmt::format("{}{}={}\n", k_label_prefix, name, v);
    }
    return out;
}

} // namespace halo::app
