#include "probes/kernel_probe.hpp"

#include <fmt/format.h>

#include <sys/utsname.h>

#include <array>
#include <charconv>
#include <map>

namespace halo::probes {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

std::string strip_outer_quotes(std::string_view s)
{
    if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
    else if (!s.empty() && s.front() == '"') s.remove_prefix(1); // unterminated: the kernel drops the opener
    return std::string(s);
}

} // namespace

Result<std::vector<CmdlineParam>> parse_cmdline(std::string_view text)
{
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if ((c < 0x20 && !is_blank(text[i])) || c == 0x7f)
            return Error{fmt::format("contains control byte 0x{:02x} at offset {}: not a command line", c, i)};
    }
    std::vector<CmdlineParam> params;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && is_blank(text[i])) ++i;
        if (i >= text.size()) break;
        const std::size_t start = i;
        std::size_t equals = std::string_view::npos;
        bool in_quote = false;
        for (; i < text.size(); ++i) {
            const char c = text[i];
            if (is_blank(c) && !in_quote) break;
            // The kernel takes the first '=' even inside quotes.
            if (c == '=' && equals == std::string_view::npos) equals = i;
            if (c == '"') in_quote = !in_quote;
        }
        const std::string_view word = text.substr(start, i - start);
        if (word == "--") break; // the rest is init's command line, not kernel parameters
        CmdlineParam param;
        if (equals == std::string_view::npos) {
            param.name = strip_outer_quotes(word);
            param.value = "true";
        } else {
            std::string_view name = word.substr(0, equals - start);
            if (!name.empty() && name.front() == '"') name.remove_prefix(1); // "name=value with blanks"
            param.name = std::string(name);
            std::string_view value = word.substr(equals - start + 1);
            if (word.front() == '"' && !value.empty() && value.back() == '"') value.remove_suffix(1);
            param.value = strip_outer_quotes(value);
        }
        for (char& c : param.name)
            if (c == '-') c = '_';
        if (param.name.empty()) continue;
        params.push_back(std::move(param));
    }
    return params;
}

Result<Taint> parse_tainted(std::string_view text)
{
    while (!text.empty() && is_blank(text.back())) text.remove_suffix(1);
    Taint taint;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), taint.value);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size())
        return Error{fmt::format("'{}' is not a number", text.substr(0, 32))};
    // Letters as the kernel prints them (Documentation/admin-guide/tainted-kernels.rst), bit 0 first.
    constexpr std::string_view k_letters = "PFSRMBUDAWCIOELKXTNJ";
    for (unsigned bit = 0; bit < 64; ++bit)
        if (taint.value & (std::uint64_t{1} << bit))
            taint.flags.push_back(bit < k_letters.size() ? k_letters[bit] : '?');
    return taint;
}

Result<std::string> read_running_release(const Host& host)
{
    if (host.is_live()) {
        struct utsname u {};
        if (::uname(&u) != 0) return Error{"uname() failed"};
        return std::string(u.release);
    }
    auto text = host.read_file("/proc/sys/kernel/osrelease", 4096);
    if (!text) return text.error();
    std::string release = std::move(*text);
    while (!release.empty() && is_blank(release.back())) release.pop_back();
    if (release.empty()) return Error{"'/proc/sys/kernel/osrelease' is empty"};
    for (char c : release)
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
            return Error{"'/proc/sys/kernel/osrelease' holds junk, not a kernel release"};
    return release;
}

namespace {

constexpr std::array<std::string_view, 4> k_sources = {"uname(2)", "/proc/sys/kernel/osrelease", "/proc/cmdline",
                                                       "/proc/sys/kernel/tainted"};
constexpr std::array<std::string_view, 5> k_provides = {"kernel.release", "kernel.cmdline", "kernel.cmdline.*",
                                                        "kernel.tainted", "kernel.tainted.flags"};

rules::ProbeStatus collect(const ProbeContext& context, FactSink& sink)
{
    const Host& host = context.host;
    std::vector<std::string> problems;

    if (auto release = read_running_release(host)) {
        sink.set("kernel.release", *release, host.is_live() ? "uname(2)" : "/proc/sys/kernel/osrelease");
    } else {
        problems.push_back(release.error().message);
        sink.unknown("kernel.release", release.error().message);
    }

    auto cmdline = host.read_file("/proc/cmdline", 64u << 10);
    auto params = cmdline ? parse_cmdline(*cmdline) : Result<std::vector<CmdlineParam>>(cmdline.error());
    if (params) {
        std::string line = *cmdline;
        while (!line.empty() && is_blank(line.back())) line.pop_back();
        sink.set("kernel.cmdline", line, "/proc/cmdline");
        std::map<std::string, std::string> last; // repeated parameters: the last one wins, as in the kernel
        for (auto& p : *params) last[p.name] = p.value;
        for (auto& [name, value] : last) sink.set("kernel.cmdline." + name, value, "/proc/cmdline");
    } else {
        const std::string reason = cmdline ? fmt::format("Failed to parse '/proc/cmdline': {}", params.error().message)
                                           : cmdline.error().message;
        problems.push_back(reason);
        sink.unknown("kernel.cmdline", reason);
        sink.unknown("kernel.cmdline.*", reason);
    }

    auto tainted_text = host.read_file("/proc/sys/kernel/tainted", 4096);
    auto taint = tainted_text ? parse_tainted(*tainted_text) : Result<Taint>(tainted_text.error());
    if (taint) {
        sink.set("kernel.tainted", std::to_string(taint->value), "/proc/sys/kernel/tainted");
        sink.set("kernel.tainted.flags", taint->flags, "/proc/sys/kernel/tainted");
    } else {
        const std::string reason =
            tainted_text ? fmt::format("Failed to parse '/proc/sys/kernel/tainted': {}", taint.error().message)
                         : tainted_text.error().message;
        problems.push_back(reason);
        sink.unknown("kernel.tainted", reason);
        sink.unknown("kernel.tainted.flags", reason);
    }

    if (problems.size() == 3) return status_failed(fmt::format("{}", fmt::join(problems, "; ")));
    if (!problems.empty()) return status_partial(fmt::format("{}", fmt::join(problems, "; ")));
    return status_ok();
}

} // namespace

const ProbeInfo k_kernel_probe = {
    "kernel", "Running kernel release, command line and taint", k_sources, k_provides, {}, false, collect,
};

} // namespace halo::probes
