#include "probes/os_probe.hpp"

#include "common/text.hpp"

#include <fmt/core.h>

#include <array>
#include <cctype>
#include <optional>

namespace halo::probes {

namespace {

bool is_key_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// One value in shell-quoting form: a sequence of unquoted, '…' and "…" parts. Returns nullopt for
// an unterminated quote, which os-release(5) readers treat as an invalid line.
std::optional<std::string> unquote(std::string_view raw)
{
    std::string out;
    std::size_t i = 0;
    while (i < raw.size()) {
        const char c = raw[i];
        if (c == '\'') {
            const auto end = raw.find('\'', i + 1);
            if (end == std::string_view::npos) return std::nullopt;
            out.append(raw.substr(i + 1, end - i - 1));
            i = end + 1;
        } else if (c == '"') {
            ++i;
            bool closed = false;
            while (i < raw.size()) {
                const char d = raw[i];
                if (d == '"') {
                    closed = true;
                    ++i;
                    break;
                }
                // Inside double quotes only these four are escapes; other backslashes are literal.
                if (d == '\\' && i + 1 < raw.size() &&
                    std::string_view("\"\\$`").find(raw[i + 1]) != std::string_view::npos) {
                    out.push_back(raw[i + 1]);
                    i += 2;
                    continue;
                }
                out.push_back(d);
                ++i;
            }
            if (!closed) return std::nullopt;
        } else if (c == '\\' && i + 1 < raw.size()) {
            out.push_back(raw[i + 1]);
            i += 2;
        } else if (c == ' ' || c == '\t') {
            break; // an unquoted blank ends the word; the rest would be a command in a shell
        } else {
            out.push_back(c);
            ++i;
        }
    }
    return out;
}

} // namespace

Result<std::map<std::string, std::string>> parse_os_release(std::string_view text)
{
    if (text.find('\0') != std::string_view::npos) return Error{"contains NUL bytes: not an os-release file"};
    std::map<std::string, std::string> values;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view line = trim(text.substr(start, end - start));
        start = end + 1;
        if (line.empty() || line.front() == '#') continue;
        const auto eq = line.find('=');
        if (eq == std::string_view::npos || eq == 0) continue;
        const std::string_view key = line.substr(0, eq);
        bool key_ok = !std::isdigit(static_cast<unsigned char>(key.front()));
        for (char c : key) key_ok = key_ok && is_key_char(c);
        if (!key_ok) continue;
        if (auto value = unquote(line.substr(eq + 1))) values[std::string(key)] = std::move(*value);
    }
    return values;
}

namespace {

constexpr std::array<std::string_view, 2> k_sources = {"/etc/os-release", "/usr/lib/os-release"};
constexpr std::array<std::string_view, 1> k_provides = {"host.os.*"};

rules::ProbeStatus collect(const ProbeContext& context, FactSink& sink)
{
    std::string first_error;
    for (std::string_view path : k_sources) {
        auto text = context.host.read_file(path, 64u << 10);
        if (!text) {
            if (first_error.empty()) first_error = text.error().message;
            continue;
        }
        auto values = parse_os_release(*text);
        if (!values) return status_failed(fmt::format("Failed to parse '{}': {}", path, values.error().message));
        const std::pair<std::string_view, std::string_view> wanted[] = {{"ID", "host.os.id"},
                                                                        {"VERSION_ID", "host.os.version_id"},
                                                                        {"PRETTY_NAME", "host.os.name"},
                                                                        {"ID_LIKE", "host.os.id_like"}};
        for (const auto& [field, key] : wanted)
            if (auto it = values->find(std::string(field)); it != values->end())
                sink.set(std::string(key), it->second, path);
        // os-release(5): a missing ID means "linux".
        if (!values->count("ID")) sink.set("host.os.id", "linux", path);
        return status_ok();
    }
    return status_failed(fmt::format("{}; neither os-release file is readable, distribution unknown", first_error));
}

} // namespace

const ProbeInfo k_os_probe = {
    "os", "Distribution identity from os-release", k_sources, k_provides, {}, false, collect,
};

} // namespace halo::probes
