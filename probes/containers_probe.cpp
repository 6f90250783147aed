#include "probes/containers_probe.hpp"

#include "probes/containers_storage.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <span>

namespace halo::probes {

namespace {

struct Storage {
    std::string kind;      // user | root
    std::string graphroot; // absolute path on the host
    std::optional<std::string> driver;
};

constexpr std::array k_drivers = {"overlay", "vfs", "btrfs", "zfs"};

std::optional<StorageConf> load_conf(const Host& host, const std::string& path, std::vector<std::string>& problems)
{
    if (!host.exists(path)) return std::nullopt;
    auto text = host.read_file(path, 1u << 20);
    if (!text) {
        problems.push_back(text.error().message);
        return std::nullopt;
    }
    auto conf = parse_storage_conf(*text, path);
    if (!conf) {
        problems.push_back(fmt::format("Failed to parse '{}': {}", path, conf.error().message));
        return std::nullopt;
    }
    return *conf;
}

std::vector<Storage> find_storages(const Host& host, std::vector<std::string>& problems)
{
    std::vector<Storage> storages;
    const auto home = host.env("HOME");
    std::optional<StorageConf> system_conf = load_conf(host, "/etc/containers/storage.conf", problems);
    if (!system_conf) system_conf = load_conf(host, "/usr/share/containers/storage.conf", problems);

    // The user's storage.
    std::optional<StorageConf> user_conf;
    if (auto env_conf = host.env("CONTAINERS_STORAGE_CONF")) {
        user_conf = load_conf(host, *env_conf, problems);
    } else if (auto xdg = host.env("XDG_CONFIG_HOME")) {
        user_conf = load_conf(host, *xdg + "/containers/storage.conf", problems);
    } else if (home) {
        user_conf = load_conf(host, *home + "/.config/containers/storage.conf", problems);
    }
    if (user_conf && user_conf->graphroot) {
        storages.push_back({"user", *user_conf->graphroot, user_conf->driver});
    } else if (system_conf && system_conf->rootless_storage_path && home) {
        std::string path = *system_conf->rootless_storage_path;
        if (auto at = path.find("$HOME"); at != std::string::npos) path.replace(at, 5, *home);
        storages.push_back({"user", path, system_conf->driver});
    } else if (auto xdg_data = host.env("XDG_DATA_HOME")) {
        storages.push_back({"user", *xdg_data + "/containers/storage", std::nullopt});
    } else if (home) {
        storages.push_back({"user", *home + "/.local/share/containers/storage", std::nullopt});
    } else if (auto users = host.list_dir("/home")) {
        // No $HOME (a fixture root, or a system service): every local user's default storage.
        for (const auto& user : *users) {
            const std::string path = "/home/" + user + "/.local/share/containers/storage";
            if (host.exists(path)) storages.push_back({"user", path, std::nullopt});
        }
    }

    // Root's storage.
    Storage root{"root", "/var/lib/containers/storage", std::nullopt};
    if (system_conf) {
        if (system_conf->graphroot) root.graphroot = *system_conf->graphroot;
        root.driver = system_conf->driver;
    }
    const bool same =
        std::any_of(storages.begin(), storages.end(), [&](const Storage& s) { return s.graphroot == root.graphroot; });
    if (!same) storages.push_back(root);
    return storages;
}

struct Collected {
    std::vector<StorageImage> images;
    std::vector<StorageContainer> containers;
    std::map<std::string, std::string> image_created; // id -> config created (normalised)
    std::map<std::string, LibpodContainerInfo> libpod;
    std::string driver;
};

// nullopt: no storage there (not created, or not ours to read).
std::optional<Result<Collected>> read_storage(const Host& host, const Storage& storage)
{
    Collected got;
    std::vector<std::string> drivers;
    if (storage.driver) drivers.push_back(*storage.driver);
    else drivers.assign(k_drivers.begin(), k_drivers.end());
    std::string prefix;
    for (const auto& driver : drivers) {
        const std::string candidate = storage.graphroot + "/" + driver;
        if (host.exists(candidate + "-containers/containers.json") || host.exists(candidate + "-images/images.json")) {
            prefix = candidate;
            got.driver = driver;
            break;
        }
    }
    if (prefix.empty()) return std::nullopt;

    // Checked before reading: the file's size alone says it is not podman's.
    auto too_large = [&host](const std::string& path) -> std::optional<std::string> {
        auto info = host.stat(path);
        if (info && info->size > k_max_storage_json) return storage_file_too_large(path, info->size);
        return std::nullopt;
    };
    if (const std::string path = prefix + "-images/images.json"; host.exists(path)) {
        if (auto why = too_large(path)) return Result<Collected>(Error{*why});
        auto text = host.read_file(path, k_max_storage_json);
        if (!text) return Result<Collected>(text.error());
        auto images = parse_storage_images(*text);
        if (!images)
            return Result<Collected>(Error{fmt::format("Failed to parse '{}': {}", path, images.error().message)});
        got.images = std::move(*images);
    }
    if (const std::string path = prefix + "-containers/containers.json"; host.exists(path)) {
        if (auto why = too_large(path)) return Result<Collected>(Error{*why});
        auto text = host.read_file(path, k_max_storage_json);
        if (!text) return Result<Collected>(text.error());
        auto containers = parse_storage_containers(*text);
        if (!containers)
            return Result<Collected>(Error{fmt::format("Failed to parse '{}': {}", path, containers.error().message)});
        got.containers = std::move(*containers);
    }
    for (const auto& image : got.images) {
        // podman reports the image config's creation time (the build time for pulled images).
        const std::string config = prefix + "-images/" + image.id + "/" + image_config_name(image.id);
        std::string created = image.created;
        if (auto text = host.read_file(config, 1u << 20)) {
            if (auto c = parse_image_config_created(*text)) created = *c;
        }
        if (auto normal = normalise_rfc3339(created)) got.image_created[image.id] = *normal;
    }
    for (const char* db : {"/libpod/bolt_state.db", "/libpod/db.sql"}) {
        if (auto bytes = host.read_file(storage.graphroot + db, 256u << 20)) {
            for (auto& [id, info] : scan_libpod_db(std::as_bytes(std::span(bytes->data(), bytes->size()))))
                got.libpod[id] = info;
        }
    }
    return Result<Collected>(std::move(got));
}

void emit(const Storage& storage, const Collected& got, FactSink& sink, unsigned& image_index,
          std::vector<std::string>& problems)
{
    std::vector<const StorageImage*> images;
    for (const auto& image : got.images) images.push_back(&image);
    auto created_of = [&](const std::string& id) {
        auto it = got.image_created.find(id);
        return it == got.image_created.end() ? std::string{} : it->second;
    };
    // Newest first, as `podman images` lists them.
    std::stable_sort(images.begin(), images.end(), [&](const StorageImage* a, const StorageImage* b) {
        return created_of(a->id) > created_of(b->id);
    });
    const std::string origin = storage.graphroot + "/" + got.driver + "-images/images.json";
    for (const StorageImage* image : images) {
        const std::string key = fmt::format("image.{}.", image_index++);
        sink.set(key + "reference", image->names.empty() ? "<none>" : image->names.front(), origin);
        sink.set(key + "id", image->id, origin);
        if (!image->digest.empty()) sink.set(key + "digest", image->digest, origin);
        if (auto c = created_of(image->id); !c.empty()) sink.set(key + "created", c, origin);
        sink.set(key + "dangling", image->names.empty() ? "true" : "false", origin);
        sink.set(key + "storage", storage.kind, origin);
    }

    const std::string corigin = storage.graphroot + "/" + got.driver + "-containers/containers.json";
    for (const auto& c : got.containers) {
        if (c.names.empty()) continue;
        const std::string& name = c.names.front();
        const std::string key = "container." + name + ".";
        if (sink.facts().contains(key + "id")) continue; // the user's storage wins over root's
        sink.set(key + "id", c.id, corigin);
        sink.set(key + "storage", storage.kind, corigin);
        // libpod's createdTime is what podman reports; the storage layer's own time comes a few
        // milliseconds later and may fall in the next second.
        auto info = got.libpod.find(c.id);
        const bool from_db = info != got.libpod.end() && !info->second.created.empty();
        if (auto created = normalise_rfc3339(from_db ? info->second.created : c.created))
            sink.set(key + "created", *created, from_db ? storage.graphroot + "/libpod" : corigin);
        if (!c.image_name.empty()) {
            const ImageReference ref = parse_image_reference(c.image_name);
            sink.set(key + "image", c.image_name, corigin);
            sink.set(key + "image.repository", ref.repository, corigin);
            if (!ref.tag.empty()) {
                sink.set(key + "image.tag", ref.tag, corigin);
                sink.set(key + "image.tag_base", ref.tag_base, corigin);
            }
            if (!ref.build_time.empty()) sink.set(key + "image.build_time", ref.build_time, corigin);
        }
        sink.set(key + "image.id", c.image_id, corigin);
        auto image = std::find_if(got.images.begin(), got.images.end(),
                                  [&](const StorageImage& i) { return i.id == c.image_id; });
        if (image != got.images.end()) {
            if (!image->digest.empty()) sink.set(key + "image.digest", image->digest, origin);
            if (auto created = created_of(image->id); !created.empty())
                sink.set(key + "image.created", created, origin);
            // The tag has moved on since the container was made (a refreshed toolbox image).
            sink.set(key + "image.dangling", image->names.empty() ? "true" : "false", origin);
        } else {
            problems.push_back(
                fmt::format("container '{}' uses image {} that is not in '{}'", name, c.image_id, origin));
        }
        const std::string dborigin = storage.graphroot + "/libpod";
        if (info != got.libpod.end() && info->second.toolbox)
            sink.set(key + "toolbox", *info->second.toolbox ? "true" : "false", dborigin);
        else sink.unknown(key + "toolbox", "container labels not found in podman's libpod database");
        if (info != got.libpod.end() && info->second.state) sink.set(key + "state", *info->second.state, dborigin);
        else sink.unknown(key + "state", "container state not found (or ambiguous) in podman's libpod database");
        // Not marked unknown when the spec is not found: most containers set none of these, and
        // an unknown would leave every rule on the engine's environment undecided.
        if (info != got.libpod.end()) {
            for (const auto& [var, value] : info->second.env) sink.set(key + "env." + var, value, dborigin);
        }
    }
}

rules::ProbeStatus collect(const ProbeContext& context, FactSink& sink)
{
    const Host& host = context.host;
    std::vector<std::string> problems;
    const auto storages = find_storages(host, problems);
    unsigned image_index = 0;
    unsigned read_ok = 0;
    std::vector<std::string> failures;
    for (const auto& storage : storages) {
        auto got = read_storage(host, storage);
        if (!got) continue;
        if (!*got) {
            failures.push_back(got->error().message);
            sink.unknown("container.*", got->error().message);
            sink.unknown("image.*", got->error().message);
            continue;
        }
        ++read_ok;
        sink.set("containers.storage." + storage.kind, storage.graphroot + " (" + got->value().driver + ")");
        emit(storage, got->value(), sink, image_index, problems);
    }
    auto join = [](const std::vector<std::string>& parts) {
        std::string out;
        for (const auto& p : parts) out += (out.empty() ? "" : "; ") + p;
        return out;
    };
    if (!failures.empty() && read_ok == 0) return status_failed(join(failures));
    failures.insert(failures.end(), problems.begin(), problems.end());
    if (!failures.empty()) return status_partial(join(failures));
    if (read_ok == 0) return status_not_applicable("no podman storage found (podman/toolbox not used on this host)");
    return status_ok();
}

constexpr std::string_view k_sources[] = {
    "$CONTAINERS_STORAGE_CONF",
    "~/.config/containers/storage.conf",
    "/etc/containers/storage.conf",
    "/usr/share/containers/storage.conf",
    "~/.local/share/containers/storage/<driver>-{containers,images}/",
    "/var/lib/containers/storage/<driver>-{containers,images}/",
    "<graphroot>/libpod/{bolt_state.db,db.sql}",
};
constexpr std::string_view k_provides[] = {"container.*", "image.*", "containers.*"};

} // namespace

const ProbeInfo k_containers_probe{
    "containers", "podman/toolbox containers and images (user and root storage)", k_sources, k_provides, {}, false,
    &collect,
};

} // namespace halo::probes
