#include "probes/containers_storage.hpp"

#include "probes/json_fields.hpp"
#include "probes/recorded_env.hpp"

#include "common/toml.hpp"

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>
#include <set>
#include <utility>

namespace halo::probes {

namespace {

using nlohmann::json;

// podman's files nest 4 deep; a storage with more entries than this is not one podman keeps.
constexpr JsonFieldsLimits k_storage_limits{32, k_max_storage_entries};

std::string string_field(const json& object, const char* key)
{
    auto it = object.find(key);
    return (it != object.end() && it->is_string()) ? it->get<std::string>() : std::string{};
}

std::vector<std::string> string_list(const json& object, const char* key)
{
    std::vector<std::string> out;
    auto it = object.find(key);
    if (it == object.end() || !it->is_array()) return out;
    for (const auto& item : *it)
        if (item.is_string()) out.push_back(item.get<std::string>());
    return out;
}

bool digits(std::string_view text)
{
    return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int number(std::string_view text)
{
    int value = 0;
    std::from_chars(text.data(), text.data() + text.size(), value);
    return value;
}

std::string base64(std::string_view in)
{
    static constexpr char k_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        const unsigned v = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                           static_cast<unsigned char>(in[i + 2]);
        out += k_alphabet[(v >> 18) & 63];
        out += k_alphabet[(v >> 12) & 63];
        out += k_alphabet[(v >> 6) & 63];
        out += k_alphabet[v & 63];
    }
    if (const std::size_t left = in.size() - i; left > 0) {
        unsigned v = static_cast<unsigned char>(in[i]) << 16;
        if (left == 2) v |= static_cast<unsigned char>(in[i + 1]) << 8;
        out += k_alphabet[(v >> 18) & 63];
        out += k_alphabet[(v >> 12) & 63];
        out += left == 2 ? k_alphabet[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

// The end of the JSON object starting at `begin` (index one past its closing brace), or npos.
std::size_t object_end(std::string_view text, std::size_t begin, std::size_t max_length)
{
    int depth = 0;
    bool in_string = false;
    const std::size_t stop = std::min(text.size(), begin + max_length);
    for (std::size_t i = begin; i < stop; ++i) {
        const char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{') {
            ++depth;
        } else if (c == '}') {
            if (--depth == 0) return i + 1;
        } else if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') {
            return std::string_view::npos; // page header bytes: the document was split
        }
    }
    return std::string_view::npos;
}

template <typename F>
void for_each_document(std::string_view text, std::string_view opening, F&& visit)
{
    constexpr std::size_t k_max_document = 1u << 20;
    for (std::size_t at = text.find(opening); at != std::string_view::npos; at = text.find(opening, at + 1)) {
        const std::size_t end = object_end(text, at, k_max_document);
        if (end == std::string_view::npos) continue;
        const json doc = json::parse(text.substr(at, end - at), nullptr, false);
        if (doc.is_object()) visit(doc);
    }
}

} // namespace

Result<std::vector<StorageImage>> parse_storage_images(std::string_view text)
{
    static constexpr std::string_view k_strings[] = {"id", "digest", "created"};
    static constexpr std::string_view k_lists[] = {"names"};
    auto records = json_array_fields(text, "images.json", {k_strings, k_lists}, k_storage_limits);
    if (!records) return records.error();
    std::vector<StorageImage> images;
    images.reserve(records->size());
    for (JsonFields& item : *records) {
        StorageImage image;
        image.id = item.string("id");
        if (image.id.empty()) return Error{"images.json holds an image without an id"};
        image.names = std::move(item.lists["names"]);
        image.digest = item.string("digest");
        image.created = item.string("created");
        images.push_back(std::move(image));
    }
    return images;
}

Result<std::vector<StorageContainer>> parse_storage_containers(std::string_view text)
{
    static constexpr std::string_view k_strings[] = {"id", "image", "created", "metadata"};
    static constexpr std::string_view k_lists[] = {"names"};
    static constexpr std::string_view k_meta[] = {"image-name"};
    auto records = json_array_fields(text, "containers.json", {k_strings, k_lists}, k_storage_limits);
    if (!records) return records.error();
    std::vector<StorageContainer> containers;
    containers.reserve(records->size());
    for (JsonFields& item : *records) {
        StorageContainer c;
        c.id = item.string("id");
        if (c.id.empty()) return Error{"containers.json holds a container without an id"};
        c.names = std::move(item.lists["names"]);
        c.image_id = item.string("image");
        c.created = item.string("created");
        // libpod keeps its own view of the container as JSON inside the "metadata" string.
        if (const std::string meta = item.string("metadata"); !meta.empty()) {
            if (auto m = json_object_fields(meta, "container metadata", {k_meta, {}}, k_storage_limits))
                c.image_name = m->string("image-name");
        }
        containers.push_back(std::move(c));
    }
    return containers;
}

Result<std::string> parse_image_config_created(std::string_view text)
{
    static constexpr std::string_view k_strings[] = {"created"};
    auto doc = json_object_fields(text, "image config", {k_strings, {}}, k_storage_limits);
    if (!doc) return doc.error();
    std::string created = doc->string("created");
    if (created.empty()) return Error{"image config has no created time"};
    return created;
}

Result<StorageConf> parse_storage_conf(std::string_view text, const std::string& origin)
{
    auto table = parse_toml(text, origin);
    if (!table) return table.error();
    StorageConf conf;
    const auto storage = std::as_const(*table)["storage"];
    if (auto v = storage["driver"].value<std::string>(); v && !v->empty()) conf.driver = *v;
    if (auto v = storage["graphroot"].value<std::string>(); v && !v->empty()) conf.graphroot = *v;
    if (auto v = storage["rootless_storage_path"].value<std::string>(); v && !v->empty())
        conf.rootless_storage_path = *v;
    return conf;
}

std::optional<std::string> normalise_rfc3339(std::string_view t)
{
    // YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)
    if (t.size() < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || t[13] != ':' ||
        t[16] != ':')
        return std::nullopt;
    for (std::size_t pos : {0, 5, 8, 11, 14, 17})
        if (!digits(t.substr(pos, pos == 0 ? 4 : 2))) return std::nullopt;
    std::size_t i = 19;
    if (i < t.size() && t[i] == '.') {
        ++i;
        const std::size_t start = i;
        while (i < t.size() && t[i] >= '0' && t[i] <= '9') ++i;
        if (i == start) return std::nullopt;
    }
    long offset_s = 0;
    const std::string_view zone = t.substr(i);
    if (zone == "Z" || zone == "z") {
    } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':' && digits(zone.substr(1, 2)) &&
               digits(zone.substr(4, 2))) {
        offset_s = (number(zone.substr(1, 2)) * 3600L + number(zone.substr(4, 2)) * 60L) * (zone[0] == '-' ? -1 : 1);
    } else {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = number(t.substr(0, 4)) - 1900;
    tm.tm_mon = number(t.substr(5, 2)) - 1;
    tm.tm_mday = number(t.substr(8, 2));
    tm.tm_hour = number(t.substr(11, 2));
    tm.tm_min = number(t.substr(14, 2));
    tm.tm_sec = number(t.substr(17, 2));
    if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
        return std::nullopt;
    const std::time_t utc = ::timegm(&tm) - offset_s;
    std::tm out{};
    if (!::gmtime_r(&utc, &out)) return std::nullopt;
    std::array<char, 32> buffer{};
    std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%SZ", &out);
    return std::string(buffer.data());
}

ImageReference parse_image_reference(std::string_view reference)
{
    ImageReference ref;
    std::string_view rest = reference;
    if (auto at = rest.find('@'); at != std::string_view::npos) {
        ref.digest = std::string(rest.substr(at + 1));
        rest = rest.substr(0, at);
    }
    const auto slash = rest.rfind('/');
    const auto colon = rest.rfind(':');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
        ref.repository = std::string(rest.substr(0, colon));
        ref.tag = std::string(rest.substr(colon + 1));
    } else {
        ref.repository = std::string(rest);
    }
    ref.tag_base = ref.tag;
    // _YYYYmmddTHHMMSS: the kyuz0 CI's immutable build tags.
    constexpr std::size_t k_suffix = 16;
    if (ref.tag.size() > k_suffix) {
        const std::string_view s = std::string_view(ref.tag).substr(ref.tag.size() - k_suffix);
        if (s[0] == '_' && digits(s.substr(1, 8)) && s[9] == 'T' && digits(s.substr(10, 6))) {
            const std::string text = fmt::format("{}-{}-{}T{}:{}:{}Z", s.substr(1, 4), s.substr(5, 2), s.substr(7, 2),
                                                 s.substr(10, 2), s.substr(12, 2), s.substr(14, 2));
            if (auto normal = normalise_rfc3339(text); normal && *normal == text) {
                ref.build_time = text;
                ref.tag_base = ref.tag.substr(0, ref.tag.size() - k_suffix);
            }
        }
    }
    return ref;
}

std::string_view libpod_state_name(long long state) noexcept
{
    switch (state) {
    case 1:
    case 2: return "created";
    case 3: return "running";
    case 4: return "stopped";
    case 5: return "paused";
    case 6: return "exited";
    case 7: return "removing";
    case 8: return "stopping";
    default: return {};
    }
}

std::map<std::string, LibpodContainerInfo> scan_libpod_db(std::span<const std::byte> bytes)
{
    const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    std::map<std::string, LibpodContainerInfo> out;
    // Container configs: {"spec":{…},…,"id":"<id>",…,"labels":{…},…}
    for_each_document(text, R"({"spec":)", [&](const json& doc) {
        const std::string id = string_field(doc, "id");
        if (id.empty()) return;
        bool toolbox = false;
        if (auto labels = doc.find("labels"); labels != doc.end() && labels->is_object()) {
            toolbox = string_field(*labels, "com.github.containers.toolbox") == "true";
        }
        out[id].toolbox = toolbox;
        out[id].created = string_field(doc, "createdTime");
        const auto spec = doc.find("spec");
        if (spec == doc.end() || !spec->is_object()) return;
        const auto process = spec->find("process");
        if (process == spec->end() || !process->is_object()) return;
        for (const std::string& assignment : string_list(*process, "env")) {
            auto pair = split_env_assignment(assignment);
            if (pair && env_name_recorded(pair->first)) out[id].env[pair->first] = std::move(pair->second);
        }
    });
    // Container states: {"state":N,"runDir":"…/<id>/userdata",…}
    std::set<std::string> conflicting;
    for_each_document(text, R"({"state":)", [&](const json& doc) {
        const auto state = doc.find("state");
        if (state == doc.end() || !state->is_number_integer()) return;
        std::string run_dir = string_field(doc, "runDir");
        if (!run_dir.ends_with("/userdata")) return;
        run_dir.resize(run_dir.size() - 9);
        const std::string id = run_dir.substr(run_dir.rfind('/') + 1);
        const std::string name(libpod_state_name(state->get<long long>()));
        if (id.empty() || name.empty()) return;
        auto& info = out[id];
        if (info.state && *info.state != name) conflicting.insert(id);
        info.state = name;
    });
    for (const auto& id : conflicting) out[id].state.reset();
    return out;
}

std::string storage_file_too_large(std::string_view path, std::uint64_t size)
{
    constexpr double k_mib = 1024.0 * 1024.0;
    return fmt::format(
        "'{}' is {:.1f} MiB, more than the {} MiB halo-check reads of podman's storage metadata "
        "(podman writes about 1 KiB an image or container); its images and containers are unknown. "
        "Check the storage with `podman system check`, and move the file aside if podman did not write it",
        path, static_cast<double>(size) / k_mib, k_max_storage_json >> 20);
}

std::string image_config_name(std::string_view image_id) { return "=" + base64("sha256:" + std::string(image_id)); }

} // namespace halo::probes
