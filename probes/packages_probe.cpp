#include "probes/packages_probe.hpp"

#include "probes/rpm_library.hpp"

#include "common/c_handle.hpp"
#include "common/text.hpp"

#include "rules/version.hpp"

#include <fmt/format.h>

#include <fcntl.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <memory>

namespace halo::probes {

std::string PackageVersion::evr() const
{
    std::string out = epoch.empty() ? version : fmt::format("{}:{}", epoch, version);
    if (!release.empty()) out += "-" + release;
    return out;
}

PackageVersion split_version(std::string_view full)
{
    PackageVersion v;
    if (const auto colon = full.find(':'); colon != std::string_view::npos && colon > 0) {
        const std::string_view epoch = full.substr(0, colon);
        if (epoch.find_first_not_of("0123456789") == std::string_view::npos) {
            v.epoch = std::string(epoch);
            full.remove_prefix(colon + 1);
        }
    }
    if (const auto dash = full.rfind('-'); dash != std::string_view::npos) {
        v.version = std::string(full.substr(0, dash));
        v.release = std::string(full.substr(dash + 1));
    } else {
        v.version = std::string(full);
    }
    return v;
}

namespace {

std::optional<std::int64_t> to_int(std::string_view s)
{
    std::int64_t v = 0;
    s = trim(s);
    const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
    return v;
}

void put_stanza(std::map<std::string, std::string>& fields, std::map<std::string, PackageVersion>& out,
                const std::set<std::string>& wanted)
{
    const auto name = fields.find("Package");
    const auto status = fields.find("Status");
    const auto version = fields.find("Version");
    if (name == fields.end() || status == fields.end() || version == fields.end()) return;
    if (!wanted.count(name->second)) return;
    // "want flag state": only the state "installed" means the files are on disk and configured.
    if (!status->second.ends_with(" installed")) return;
    PackageVersion v = split_version(version->second);
    v.name = name->second;
    if (auto arch = fields.find("Architecture"); arch != fields.end()) v.arch = arch->second;
    out[v.name] = std::move(v);
}

} // namespace

std::map<std::string, PackageVersion> parse_dpkg_status(std::string_view text, const std::set<std::string>& wanted)
{
    std::map<std::string, PackageVersion> out;
    const std::set<std::string_view> wanted_names(wanted.begin(), wanted.end()); // looked up without copies
    std::size_t pos = 0;
    while (pos < text.size()) {
        // One stanza: up to the next blank line. Most are unwanted; skip them by their Package line
        // without splitting their fields (a Debian desktop's status file is several MB).
        auto end = text.find("\n\n", pos);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view stanza = text.substr(pos, end - pos);
        pos = end + 2;
        const auto name_at = stanza.starts_with("Package:") ? 0 : stanza.find("\nPackage:");
        if (name_at == std::string_view::npos) continue;
        const auto name_begin = stanza.find(':', name_at) + 1;
        const auto name_end = std::min(stanza.find('\n', name_begin), stanza.size());
        if (!wanted_names.count(trim(stanza.substr(name_begin, name_end - name_begin)))) continue;

        std::map<std::string, std::string> fields;
        std::size_t line_pos = 0;
        while (line_pos < stanza.size()) {
            auto line_end = stanza.find('\n', line_pos);
            if (line_end == std::string_view::npos) line_end = stanza.size();
            const std::string_view line = stanza.substr(line_pos, line_end - line_pos);
            line_pos = line_end + 1;
            if (line.empty() || line.front() == ' ' || line.front() == '\t') continue; // continuation line
            const auto colon = line.find(':');
            if (colon == std::string_view::npos) continue;
            fields[std::string(line.substr(0, colon))] = std::string(trim(line.substr(colon + 1)));
        }
        put_stanza(fields, out, wanted);
    }
    return out;
}

Result<PackageVersion> parse_pacman_desc(std::string_view text)
{
    std::map<std::string, std::string> sections;
    std::string current;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view line = trim(text.substr(start, end - start));
        start = end + 1;
        if (line.size() > 2 && line.front() == '%' && line.back() == '%') {
            current = std::string(line.substr(1, line.size() - 2));
            continue;
        }
        if (line.empty()) {
            current.clear();
            continue;
        }
        if (!current.empty() && !sections.count(current)) sections[current] = std::string(line);
    }
    if (!sections.count("NAME") || !sections.count("VERSION")) return Error{"no %NAME% or %VERSION% section"};
    PackageVersion v = split_version(sections["VERSION"]);
    v.name = sections["NAME"];
    if (sections.count("INSTALLDATE")) v.installtime = to_int(sections["INSTALLDATE"]);
    if (sections.count("ARCH")) v.arch = sections["ARCH"];
    return v;
}

// ---- librpm -------------------------------------------------------------------------------------

namespace {

void free_ts(rpmts ts) noexcept { rpm_library().rpmtsFree(ts); }
void free_iterator(rpmdbMatchIterator mi) noexcept { rpm_library().rpmdbFreeIterator(mi); }
void free_header(Header h) noexcept { rpm_library().headerFree(h); }
void free_c(char* p) noexcept { std::free(p); }

using TsPtr = CHandle<std::remove_pointer_t<rpmts>, free_ts>;
using IteratorPtr = CHandle<std::remove_pointer_t<rpmdbMatchIterator>, free_iterator>;
using HeaderPtr = CHandle<std::remove_pointer_t<Header>, free_header>;
using CStringPtr = CHandle<char, free_c>;

// librpm's messages go to stderr by default; library code never prints, so collect them for the
// status reason instead.
struct RpmLog {
    std::string messages;
    // A message that could not be kept (no memory for it): the reason says so rather than
    // reading as if librpm had said nothing more.
    bool lost = false;

    std::string text() const
    {
        if (!lost) return messages;
        return messages.empty() ? "a librpm message was lost" : messages + "; a librpm message was lost";
    }
};

int collect_rpm_log(rpmlogRec rec, rpmlogCallbackData data) noexcept
{
    auto* log = static_cast<RpmLog*>(data);
    try {
        std::string_view text = rpm_library().rpmlogRecMessage(rec) ? rpm_library().rpmlogRecMessage(rec) : "";
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
        if (!text.empty() && log->messages.size() < 4096) {
            if (!log->messages.empty()) log->messages += "; ";
            log->messages += text;
        }
    } catch (...) {
        log->lost = true; // an exception must not unwind into librpm
    }
    return 0;
}

// Everything global librpm holds, for exactly one query: configuration, macros, log callback.
class RpmSession {
public:
    RpmSession(const std::string& dbpath)
    {
        m_previous_log = rpm_library().rpmlogSetCallback(collect_rpm_log, &m_log);
        m_configured = rpm_library().rpmReadConfigFiles(nullptr, nullptr) == 0;
        // Debian's rpm defaults to ~/.rpmdb; ask for the distribution's path explicitly.
        if (m_configured) rpm_library().rpmPushMacro(nullptr, "_dbpath", nullptr, dbpath.c_str(), RMIL_CMDLINE);
    }
    ~RpmSession()
    {
        rpm_library().rpmFreeRpmrc();
        rpm_library().rpmFreeMacros(nullptr);
        rpm_library().rpmlogSetCallback(m_previous_log, nullptr);
        rpm_library().rpmlogClose();
    }
    RpmSession(const RpmSession&) = delete;
    RpmSession& operator=(const RpmSession&) = delete;

    bool configured() const { return m_configured; }
    std::string log() const { return m_log.text(); }

private:
    RpmLog m_log;
    rpmlogCallback m_previous_log = nullptr;
    bool m_configured = false;
};

PackageVersion from_header(Header h)
{
    PackageVersion v;
    auto str = [&](rpmTagVal tag) {
        const char* s = rpm_library().headerGetString(h, tag);
        return std::string(s ? s : "");
    };
    v.name = str(RPMTAG_NAME);
    v.version = str(RPMTAG_VERSION);
    v.release = str(RPMTAG_RELEASE);
    v.arch = str(RPMTAG_ARCH);
    if (rpm_library().headerIsEntry(h, RPMTAG_EPOCH)) {
        CStringPtr epoch(rpm_library().headerGetAsString(h, RPMTAG_EPOCH));
        if (epoch) v.epoch = epoch.get();
    }
    if (rpm_library().headerIsEntry(h, RPMTAG_INSTALLTIME))
        v.installtime = static_cast<std::int64_t>(rpm_library().headerGetNumber(h, RPMTAG_INSTALLTIME));
    return v;
}

// SQLite adds side files next to a WAL database even for a read-only open. On a fixture root,
// remove the ones this query created, so reading never leaves anything behind; on a live host
// they exist already and belong to rpm.
class SideFileGuard {
public:
    SideFileGuard(std::filesystem::path dir, bool active) : m_dir(std::move(dir)), m_active(active)
    {
        if (!m_active) return;
        for (const char* name : k_names)
            if (std::error_code ec; !std::filesystem::exists(m_dir / name, ec)) m_absent.push_back(name);
    }
    ~SideFileGuard()
    {
        for (const char* name : m_absent) {
            std::error_code ec;
            const auto p = m_dir / name;
            if (std::string_view(name).ends_with("-wal") && std::filesystem::file_size(p, ec) != 0) continue;
            std::filesystem::remove(p, ec);
        }
    }
    SideFileGuard(const SideFileGuard&) = delete;
    SideFileGuard& operator=(const SideFileGuard&) = delete;

private:
    static constexpr std::array<const char*, 3> k_names = {"rpmdb.sqlite-shm", "rpmdb.sqlite-wal", ".rpm.lock"};
    std::filesystem::path m_dir;
    bool m_active;
    std::vector<const char*> m_absent;
};

bool rpmdb_present(const std::filesystem::path& dir)
{
    std::error_code ec;
    for (const char* name : {"rpmdb.sqlite", "Packages", "Packages.db"})
        if (std::filesystem::is_regular_file(dir / name, ec)) return true;
    return false;
}

} // namespace

Result<std::map<std::string, PackageVersion>> query_rpmdb(const std::string& root, const std::string& dbpath,
                                                          const std::vector<std::string>& names)
{
    std::error_code ec;
    const std::filesystem::path abs_root = std::filesystem::absolute(root, ec);
    const std::filesystem::path dir = abs_root / std::filesystem::path(dbpath).relative_path();
    // Asking librpm about a missing database makes it create an empty one: check first.
    if (!rpmdb_present(dir)) return Error{fmt::format("No RPM database in '{}'", dir.string())};

    auto library = load_rpm_library();
    if (!library) return library.error();
    SideFileGuard side_files(dir, abs_root != "/");
    RpmSession session(dbpath);
    if (!session.configured())
        return Error{fmt::format("Failed to read the rpm configuration: {}",
                                 session.log().empty() ? "unknown error" : session.log())};

    TsPtr ts(rpm_library().rpmtsCreate());
    if (!ts) return Error{"Failed to create an rpm transaction set"};
    if (rpm_library().rpmtsSetRootDir(ts.get(), abs_root.c_str()) != 0)
        return Error{fmt::format("Failed to set rpm root '{}'", abs_root.string())};
    if (rpm_library().rpmtsOpenDB(ts.get(), O_RDONLY) != 0)
        return Error{fmt::format("Failed to open the RPM database in '{}': {}", dir.string(),
                                 session.log().empty() ? "unknown error" : session.log())};

    std::map<std::string, PackageVersion> found;
    for (const std::string& name : names) {
        IteratorPtr mi(rpm_library().rpmtsInitIterator(ts.get(), RPMDBI_NAME, name.c_str(), 0));
        if (!mi) continue; // no match (or the index is unreadable: checked below via the log)
        while (Header h = rpm_library().rpmdbNextIterator(mi.get())) {
            PackageVersion v = from_header(h); // h belongs to the iterator
            auto it = found.find(name);
            if (it == found.end() || rules::evr_compare(v.evr(), it->second.evr()) > 0) found[name] = std::move(v);
        }
    }
    if (found.empty() && !session.log().empty())
        return Error{fmt::format("Failed to query the RPM database in '{}': {}", dir.string(), session.log())};
    return found;
}

// ---- the probe ------------------------------------------------------------------------------------

const std::vector<std::string>& default_packages()
{
    static const std::vector<std::string> list = {"linux-firmware",
                                                  "amd-gpu-firmware",
                                                  "linux-firmware-amdgpu",
                                                  "firmware-amd-graphics",
                                                  "kernel-core",
                                                  "mesa-vulkan-drivers",
                                                  "podman",
                                                  "toolbox",
                                                  "rocm-runtime",
                                                  "hsa-rocr"};
    return list;
}

namespace {

constexpr std::array<std::string_view, 2> k_rpm_dbpaths = {"/usr/lib/sysimage/rpm", "/var/lib/rpm"};

constexpr std::array<std::string_view, 7> k_sources = {
    "librpm: /usr/lib/sysimage/rpm",    "librpm: /var/lib/rpm",         "/var/lib/dpkg/status",
    "/var/lib/dpkg/info/*.list",        "/var/lib/pacman/local/*/desc", "facts: host.os.id, host.os.id_like",
    "librpm's configuration (%_dbpath)"};
constexpr std::array<std::string_view, 2> k_provides = {"packages.manager", "package.*"};
constexpr std::array<std::string_view, 1> k_reads = {"os"}; // host.os.* picks the package manager

void emit(FactSink& sink, const PackageVersion& v, std::string_view origin)
{
    const std::string prefix = "package." + v.name;
    sink.set(prefix + ".version", v.version, origin);
    if (!v.release.empty()) sink.set(prefix + ".release", v.release, origin);
    if (!v.epoch.empty()) sink.set(prefix + ".epoch", v.epoch, origin);
    sink.set(prefix + ".evr", v.evr(), origin);
    if (v.installtime) sink.set(prefix + ".installtime", std::to_string(*v.installtime), origin);
}

rules::ProbeStatus collect_rpm(const ProbeContext& context, FactSink& sink, std::string_view dbpath,
                               const std::vector<std::string>& names)
{
    auto found = query_rpmdb(context.host.root().string(), std::string(dbpath), names);
    if (!found) return status_failed(found.error().message);
    sink.set("packages.manager", "rpm", dbpath);
    for (const auto& [name, v] : *found) emit(sink, v, dbpath);
    return status_ok();
}

rules::ProbeStatus collect_dpkg(const ProbeContext& context, FactSink& sink, const std::vector<std::string>& names)
{
    auto text = context.host.read_file("/var/lib/dpkg/status", 256u << 20);
    if (!text) return status_failed(text.error().message);
    if (text->find('\0') != std::string::npos)
        return status_failed("Failed to parse '/var/lib/dpkg/status': contains NUL bytes, not a dpkg status file");
    sink.set("packages.manager", "dpkg", "/var/lib/dpkg/status");
    auto found = parse_dpkg_status(*text, std::set<std::string>(names.begin(), names.end()));
    for (auto& [name, v] : found) {
        // dpkg records no install time; the file list it writes on install is the usual stand-in.
        for (const std::string& list : {fmt::format("/var/lib/dpkg/info/{}:{}.list", name, v.arch),
                                        fmt::format("/var/lib/dpkg/info/{}.list", name)}) {
            if (auto info = context.host.stat(list)) {
                v.installtime = info->mtime_ns / 1'000'000'000;
                break;
            }
        }
        emit(sink, v, "/var/lib/dpkg/status");
    }
    return status_ok();
}

rules::ProbeStatus collect_pacman(const ProbeContext& context, FactSink& sink, const std::vector<std::string>& names)
{
    constexpr std::string_view k_local = "/var/lib/pacman/local";
    auto dirs = context.host.list_dir(k_local);
    if (!dirs) return status_failed(dirs.error().message);
    sink.set("packages.manager", "pacman", k_local);
    const std::set<std::string> wanted(names.begin(), names.end());
    std::vector<std::string> problems;
    for (const std::string& dir : *dirs) {
        // NAME-PKGVER-PKGREL: the name is everything before the last two '-'.
        const auto d1 = dir.rfind('-');
        const auto d2 = d1 == std::string::npos || d1 == 0 ? std::string::npos : dir.rfind('-', d1 - 1);
        if (d2 == std::string::npos || !wanted.count(dir.substr(0, d2))) continue;
        const std::string path = fmt::format("{}/{}/desc", k_local, dir);
        auto text = context.host.read_file(path, 1u << 20);
        auto v = text ? parse_pacman_desc(*text) : Result<PackageVersion>(text.error());
        if (!v) {
            problems.push_back(text ? fmt::format("Failed to parse '{}': {}", path, v.error().message)
                                    : text.error().message);
            continue;
        }
        emit(sink, *v, path);
    }
    if (!problems.empty()) return status_partial(fmt::format("{}", fmt::join(problems, "; ")));
    return status_ok();
}

rules::ProbeStatus collect(const ProbeContext& context, FactSink& sink)
{
    const Host& host = context.host;
    const std::vector<std::string>& names = context.packages.empty() ? default_packages() : context.packages;

    std::optional<std::string_view> rpm_dbpath;
    for (std::string_view dbpath : k_rpm_dbpaths) {
        if (rpmdb_present(host.path(dbpath))) {
            rpm_dbpath = dbpath;
            break;
        }
    }
    const bool dpkg = host.exists("/var/lib/dpkg/status");
    const bool pacman = host.exists("/var/lib/pacman/local");

    // A Debian host with rpm installed (or an Arch host with dpkg) has several databases; the
    // distribution's own manager is the one that installed the firmware and kernel.
    const std::string os =
        sink.facts().get("host.os.id").value_or("") + " " + sink.facts().get("host.os.id_like").value_or("");
    auto os_is = [&](std::string_view word) {
        return (" " + os + " ").find(fmt::format(" {} ", word)) != std::string::npos;
    };
    if (dpkg && (os_is("debian") || os_is("ubuntu"))) return collect_dpkg(context, sink, names);
    if (pacman && os_is("arch")) return collect_pacman(context, sink, names);
    if (rpm_dbpath) return collect_rpm(context, sink, *rpm_dbpath, names);
    if (dpkg) return collect_dpkg(context, sink, names);
    if (pacman) return collect_pacman(context, sink, names);
    return status_not_applicable("no RPM, dpkg or pacman database under the root");
}

} // namespace

const ProbeInfo k_packages_probe = {
    "packages", "Installed versions of firmware, kernel, Mesa, podman and ROCm packages",
    k_sources,  k_provides,
    k_reads,    false,
    collect,
};

} // namespace halo::probes
