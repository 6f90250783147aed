#include "probes/drm_probe.hpp"

#include "common/c_handle.hpp"
#include "common/fd.hpp"
#include "common/text.hpp"

#include <fmt/core.h>

#include <amdgpu.h>
#include <amdgpu_drm.h>
#include <xf86drm.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>
#include <sstream>
#include <vector>

namespace halo::probes {

namespace {

std::string trimmed(std::string_view s) { return std::string(trim(s)); }

// Kernel UAPI values newer than bookworm's libdrm 2.4.114 headers (include/uapi/drm/amdgpu_drm.h).
constexpr unsigned k_fw_cap = 0x16, k_fw_rlcp = 0x17, k_fw_rlcv = 0x18, k_fw_mes_kiq = 0x19, k_fw_mes = 0x1a,
                   k_fw_imu = 0x1b, k_fw_vpe = 0x1c;

struct Ucode {
    const char* name; // as amdgpu_firmware_info prints it
    unsigned type;
    unsigned index;
};

// In amdgpu_firmware_info's order. TA sub-firmwares are left to debugfs: their index numbering
// has changed between kernels.
constexpr Ucode k_ucodes[] = {
    {"VCE", AMDGPU_INFO_FW_VCE, 0},
    {"UVD", AMDGPU_INFO_FW_UVD, 0},
    {"MC", AMDGPU_INFO_FW_GMC, 0},
    {"ME", AMDGPU_INFO_FW_GFX_ME, 0},
    {"PFP", AMDGPU_INFO_FW_GFX_PFP, 0},
    {"CE", AMDGPU_INFO_FW_GFX_CE, 0},
    {"RLC", AMDGPU_INFO_FW_GFX_RLC, 0},
    {"RLC SRLC", AMDGPU_INFO_FW_GFX_RLC_RESTORE_LIST_CNTL, 0},
    {"RLC SRLG", AMDGPU_INFO_FW_GFX_RLC_RESTORE_LIST_GPM_MEM, 0},
    {"RLC SRLS", AMDGPU_INFO_FW_GFX_RLC_RESTORE_LIST_SRM_MEM, 0},
    {"RLCP", k_fw_rlcp, 0},
    {"RLCV", k_fw_rlcv, 0},
    {"MEC", AMDGPU_INFO_FW_GFX_MEC, 0},
    {"IMU", k_fw_imu, 0},
    {"SOS", AMDGPU_INFO_FW_SOS, 0},
    {"ASD", AMDGPU_INFO_FW_ASD, 0},
    {"SMC", AMDGPU_INFO_FW_SMC, 0},
    {"VCN", AMDGPU_INFO_FW_VCN, 0},
    {"DMCU", AMDGPU_INFO_FW_DMCU, 0},
    {"DMCUB", AMDGPU_INFO_FW_DMCUB, 0},
    {"TOC", AMDGPU_INFO_FW_TOC, 0},
    {"CAP", k_fw_cap, 0},
    {"MES_KIQ", k_fw_mes_kiq, 0},
    {"MES", k_fw_mes, 0},
    {"VPE", k_fw_vpe, 0},
};

std::string hex_word(std::uint32_t v) { return fmt::format("0x{:08x}", v); }

using VersionPtr = CHandle<drmVersion, drmFreeVersion>;

class DrmDevices {
public:
    DrmDevices() = default;
    DrmDevices(const DrmDevices&) = delete;
    DrmDevices& operator=(const DrmDevices&) = delete;
    ~DrmDevices()
    {
        if (count > 0) drmFreeDevices(devices, count);
    }
    drmDevicePtr devices[64] = {};
    int count = 0;
};

class AmdgpuDevice {
public:
    explicit AmdgpuDevice(int fd)
    {
        std::uint32_t major = 0, minor = 0;
        if (amdgpu_device_initialize(fd, &major, &minor, &m_dev) != 0) m_dev = nullptr;
    }
    AmdgpuDevice(const AmdgpuDevice&) = delete;
    AmdgpuDevice& operator=(const AmdgpuDevice&) = delete;
    ~AmdgpuDevice()
    {
        if (m_dev) amdgpu_device_deinitialize(m_dev);
    }
    amdgpu_device_handle get() const noexcept { return m_dev; }

private:
    amdgpu_device_handle m_dev = nullptr;
};

// debugfs dri directories by the PCI slot they belong to (their `name` file says "dev=SLOT").
std::map<std::string, std::string> debugfs_dirs(const Host& host)
{
    std::map<std::string, std::string> by_slot;
    auto entries = host.list_dir("/sys/kernel/debug/dri");
    if (!entries) return by_slot;
    for (const auto& entry : *entries) {
        const std::string dir = "/sys/kernel/debug/dri/" + entry;
        if (!host.exists(dir + "/amdgpu_firmware_info")) continue;
        std::string slot;
        if (auto name = host.read_value(dir + "/name")) {
            const auto at = name->find("dev=");
            if (at != std::string::npos) slot = name->substr(at + 4, name->find_first_of(" \n", at + 4) - at - 4);
        }
        if (slot.empty() && entry.find(':') != std::string::npos) slot = entry;
        if (!slot.empty()) by_slot.emplace(slot, dir);
    }
    return by_slot;
}

struct Device {
    std::string prefix; // "gpu.0."
    std::string sysfs;  // "/sys/class/drm/card0/device" or "/sys/bus/pci/devices/SLOT"
    std::string slot;   // "0000:c1:00.0"
    std::string driver; // "amdgpu"
};

// amdgpu's hwmon directory (device/hwmon/hwmonN): edge temperature in millidegrees Celsius, power
// in microwatts. An APU may have power1_input and no power1_average, so either is taken.
void read_hwmon(const Host& host, const Device& d, FactSink& sink)
{
    auto dirs = host.list_dir(d.sysfs + "/hwmon");
    if (!dirs) return;
    for (const std::string& entry : *dirs) {
        if (!entry.starts_with("hwmon")) continue;
        const std::string dir = d.sysfs + "/hwmon/" + entry;
        auto read_number = [&host](const std::string& path) -> std::optional<std::string> {
            auto text = host.read_value(path);
            if (!text || !to_number(trimmed(*text))) return std::nullopt;
            return trimmed(*text);
        };
        if (auto temp = read_number(dir + "/temp1_input"))
            sink.set(d.prefix + "sensor.temp_millicelsius", *temp, dir + "/temp1_input");
        for (const char* file : {"power1_average", "power1_input"}) {
            if (auto power = read_number(dir + "/" + file)) {
                sink.set(d.prefix + "sensor.power_microwatts", *power, dir + "/" + file);
                break;
            }
        }
        return; // amdgpu registers one hwmon device per GPU
    }
}

void read_sysfs_memory(const Host& host, const Device& d, FactSink& sink)
{
    for (auto [file, key] :
         {std::pair{"mem_info_vram_total", "mem.vram_total"}, std::pair{"mem_info_gtt_total", "mem.gtt_total"}}) {
        const std::string path = d.sysfs + "/" + file;
        if (auto text = host.read_value(path); text && to_number(trimmed(*text)))
            sink.set(d.prefix + key, trimmed(*text), path);
    }
    // Gauges that change by themselves (rules::volatile_key_patterns keeps them out of diffs); the
    // fleet export reads them, since amd-smi reports N/A for them on gfx1151.
    for (auto [file, key] :
         {std::pair{"gpu_busy_percent", "sensor.busy_percent"}, std::pair{"mem_info_vram_used", "sensor.vram_used"},
          std::pair{"mem_info_gtt_used", "sensor.gtt_used"}}) {
        const std::string path = d.sysfs + "/" + file;
        if (auto text = host.read_value(path); text && to_number(trimmed(*text)))
            sink.set(d.prefix + key, trimmed(*text), path);
    }
    read_hwmon(host, d, sink);
    const std::string vbios = d.sysfs + "/vbios_version";
    if (auto text = host.read_value(vbios); text && !trimmed(*text).empty())
        sink.set(d.prefix + "vbios", trimmed(*text), vbios);
}

// The second source (and a fixture's only one). Fills what the ioctls did not give.
bool read_debugfs_firmware(const Host& host, const Device& d, const std::map<std::string, std::string>& dirs,
                           FactSink& sink)
{
    auto it = dirs.find(d.slot);
    if (it == dirs.end()) return false;
    const std::string path = it->second + "/amdgpu_firmware_info";
    auto text = host.read_value(path);
    if (!text) return false;
    const auto info = parse_amdgpu_firmware_info(*text);
    if (info.versions.empty()) return false;
    auto& facts = sink.facts();
    for (const auto& [name, version] : info.versions) {
        const std::string key = d.prefix + "firmware." + name;
        if (!facts.contains(key)) sink.set(key, version, path);
    }
    if (info.vbios && !facts.contains(d.prefix + "vbios")) sink.set(d.prefix + "vbios", *info.vbios, path);
    return true;
}

// libdrm_amdgpu on an open render node: loaded firmware, VBIOS, memory totals.
bool query_amdgpu(int fd, const Device& d, FactSink& sink)
{
    AmdgpuDevice dev(fd);
    if (!dev.get()) return false;
    bool any = false;
    for (const Ucode& u : k_ucodes) {
        std::uint32_t version = 0, feature = 0;
        if (amdgpu_query_firmware_version(dev.get(), u.type, 0, u.index, &version, &feature) != 0) continue;
        sink.set(d.prefix + "firmware." + firmware_key(u.name), hex_word(version), "amdgpu_query_firmware_version");
        any = true;
    }
    for (unsigned i = 0; i < 8; ++i) {
        std::uint32_t version = 0, feature = 0;
        if (amdgpu_query_firmware_version(dev.get(), AMDGPU_INFO_FW_SDMA, 0, i, &version, &feature) != 0) break;
        sink.set(fmt::format("{}firmware.sdma{}", d.prefix, i), hex_word(version), "amdgpu_query_firmware_version");
    }
    drm_amdgpu_info_vbios vbios{};
    drm_amdgpu_info request{};
    request.return_pointer = reinterpret_cast<std::uintptr_t>(&vbios);
    request.return_size = sizeof vbios;
    request.query = AMDGPU_INFO_VBIOS;
    request.vbios_info.type = AMDGPU_INFO_VBIOS_INFO;
    if (drmCommandWrite(fd, DRM_AMDGPU_INFO, &request, sizeof request) == 0) {
        const auto* pn = reinterpret_cast<const char*>(vbios.vbios_pn);
        std::string text(pn, strnlen(pn, sizeof vbios.vbios_pn));
        if (!trimmed(text).empty()) sink.set(d.prefix + "vbios", trimmed(text), "AMDGPU_INFO_VBIOS_INFO");
    }
    drm_amdgpu_memory_info memory{};
    if (amdgpu_query_info(dev.get(), AMDGPU_INFO_MEMORY, sizeof memory, &memory) == 0) {
        auto& facts = sink.facts();
        if (!facts.contains(d.prefix + "mem.vram_total"))
            sink.set(d.prefix + "mem.vram_total", std::to_string(memory.vram.total_heap_size), "AMDGPU_INFO_MEMORY");
        if (!facts.contains(d.prefix + "mem.gtt_total"))
            sink.set(d.prefix + "mem.gtt_total", std::to_string(memory.gtt.total_heap_size), "AMDGPU_INFO_MEMORY");
    }
    return any;
}

void finish_firmware_source(const Host& host, const Device& d, bool ioctl,
                            const std::map<std::string, std::string>& dirs, FactSink& sink)
{
    const bool debugfs = read_debugfs_firmware(host, d, dirs, sink);
    if (ioctl) sink.set(d.prefix + "firmware.source", debugfs ? "ioctl+debugfs" : "ioctl");
    else if (debugfs) sink.set(d.prefix + "firmware.source", "debugfs");
}

// Live: libdrm enumerates; ioctls on each render node.
rules::ProbeStatus collect_live(const Host& host, FactSink& sink, std::vector<std::string>& problems)
{
    DrmDevices list;
    const int n = drmGetDevices2(0, list.devices, 64);
    if (n == -ENOENT || n == 0) return status_not_applicable("no DRM devices");
    if (n < 0) return status_failed(fmt::format("drmGetDevices2 failed: {}", std::strerror(-n)));
    list.count = n;
    const auto dirs = debugfs_dirs(host);
    int index = 0;
    for (int i = 0; i < n; ++i) {
        const drmDevicePtr dev = list.devices[i];
        if (dev->bustype != DRM_BUS_PCI) continue;
        Device d;
        d.prefix = fmt::format("gpu.{}.", index++);
        const auto* bus = dev->businfo.pci;
        const auto* info = dev->deviceinfo.pci;
        d.slot = fmt::format("{:04x}:{:02x}:{:02x}.{:x}", bus->domain, bus->bus, bus->dev, bus->func);
        d.sysfs = "/sys/bus/pci/devices/" + d.slot;
        sink.set(d.prefix + "pci.vendor", fmt::format("0x{:04x}", info->vendor_id), "drmGetDevices2");
        sink.set(d.prefix + "pci.device", fmt::format("0x{:04x}", info->device_id), "drmGetDevices2");
        sink.set(d.prefix + "pci.revision", fmt::format("0x{:02x}", info->revision_id), "drmGetDevices2");
        sink.set(d.prefix + "pci.slot", d.slot, "drmGetDevices2");
        const bool has_render = dev->available_nodes & (1 << DRM_NODE_RENDER);
        const char* node = has_render ? dev->nodes[DRM_NODE_RENDER] : dev->nodes[DRM_NODE_PRIMARY];
        if (has_render) sink.set(d.prefix + "render_node", node, "drmGetDevices2");
        read_sysfs_memory(host, d, sink);
        bool ioctl = false;
        const Fd fd(::open(node, O_RDWR | O_CLOEXEC | O_NOCTTY));
        if (!fd) {
            problems.push_back(fmt::format("Failed to open '{}': {}; firmware versions come from debugfs only", node,
                                           std::strerror(errno)));
        } else if (VersionPtr version{drmGetVersion(fd.get())}) {
            d.driver.assign(version->name, static_cast<std::size_t>(std::max(version->name_len, 0)));
            sink.set(d.prefix + "driver", d.driver, "drmGetVersion");
            sink.set(
                d.prefix + "driver_version",
                fmt::format("{}.{}.{}", version->version_major, version->version_minor, version->version_patchlevel),
                "drmGetVersion");
            if (d.driver == "amdgpu") ioctl = query_amdgpu(fd.get(), d, sink);
        }
        finish_firmware_source(host, d, ioctl, dirs, sink);
    }
    sink.set("gpu.count", std::to_string(index), "drmGetDevices2");
    if (index == 0) return status_not_applicable("no DRM devices");
    return status_ok();
}

// A fixture root: the same facts from sysfs alone (and debugfs when the fixture has it).
rules::ProbeStatus collect_sysfs(const Host& host, FactSink& sink, std::vector<std::string>& problems)
{
    auto entries = host.list_dir("/sys/class/drm");
    if (!entries) return status_not_applicable("no DRM devices");
    std::vector<std::pair<unsigned long, std::string>> cards;
    for (const auto& e : *entries)
        if (e.starts_with("card"))
            if (auto number = to_number(std::string_view(e).substr(4))) cards.emplace_back(*number, e);
    std::sort(cards.begin(), cards.end());
    const auto dirs = debugfs_dirs(host);
    int index = 0;
    for (const auto& [number, card] : cards) {
        Device d;
        d.prefix = fmt::format("gpu.{}.", index);
        d.sysfs = "/sys/class/drm/" + card + "/device";
        auto uevent_text = host.read_value(d.sysfs + "/uevent");
        if (!uevent_text) {
            problems.push_back(uevent_text.error().message);
            continue;
        }
        ++index;
        const auto uevent = parse_uevent(*uevent_text);
        for (auto [file, key] : {std::pair{"vendor", "pci.vendor"}, std::pair{"device", "pci.device"},
                                 std::pair{"revision", "pci.revision"}}) {
            if (auto text = host.read_value(d.sysfs + "/" + file))
                sink.set(d.prefix + key, trimmed(*text), d.sysfs + "/" + file);
        }
        if (auto it = uevent.find("PCI_SLOT_NAME"); it != uevent.end()) {
            d.slot = it->second;
            sink.set(d.prefix + "pci.slot", d.slot, d.sysfs + "/uevent");
        }
        if (auto it = uevent.find("DRIVER"); it != uevent.end()) {
            d.driver = it->second;
            sink.set(d.prefix + "driver", d.driver, d.sysfs + "/uevent");
        }
        if (auto nodes = host.list_dir(d.sysfs + "/drm")) {
            for (const auto& node : *nodes)
                if (node.starts_with("renderD"))
                    sink.set(d.prefix + "render_node", "/dev/dri/" + node, d.sysfs + "/drm");
        }
        read_sysfs_memory(host, d, sink);
        finish_firmware_source(host, d, false, dirs, sink);
    }
    sink.set("gpu.count", std::to_string(index), "/sys/class/drm");
    if (index == 0) return status_not_applicable("no DRM devices");
    return status_ok();
}

void collect_modules(const Host& host, FactSink& sink)
{
    const char* pages = "/sys/module/ttm/parameters/pages_limit";
    if (auto text = host.read_value(pages); text && to_number(trimmed(*text)))
        sink.set("kernel.ttm.pages_limit", trimmed(*text), pages);
    if (host.exists("/sys/module/amdgpu")) {
        if (auto version = host.read_value("/sys/module/amdgpu/version"); version && !trimmed(*version).empty()) {
            sink.set("gpu.amdgpu.module_version", trimmed(*version), "/sys/module/amdgpu/version");
            sink.set("gpu.amdgpu.in_tree", "false", "/sys/module/amdgpu/version");
        } else {
            // The in-tree driver has no version file: normal, not a failure.
            sink.set("gpu.amdgpu.in_tree", "true", "/sys/module/amdgpu");
        }
        sink.set("gpu.amdgpu.loaded", "true", "/sys/module/amdgpu");
    } else {
        sink.set("gpu.amdgpu.loaded", "false", "/sys/module/amdgpu");
    }
}

// The NPU (XDNA) is a PCI processing accelerator (class 0x1180xx) of AMD's, with no DRM node:
// whether it is there, and whether its driver (amdxdna) bound to it. amd_iommu=off leaves it
// unbound, which is what the rules want to tell.
void collect_npu(const Host& host, FactSink& sink)
{
    const std::string root = "/sys/bus/pci/devices";
    auto entries = host.list_dir(root);
    if (!entries) return;
    for (const std::string& slot : *entries) {
        const std::string dir = root + "/" + slot;
        auto vendor = host.read_value(dir + "/vendor");
        auto pci_class = host.read_value(dir + "/class");
        if (!vendor || !pci_class || trimmed(*vendor) != "0x1022" || !trimmed(*pci_class).starts_with("0x1180"))
            continue;
        if (auto device = host.read_value(dir + "/device"))
            sink.set("npu.pci.device", trimmed(*device), dir + "/device");
        sink.set("npu.pci.slot", slot, dir);
        std::string driver;
        if (auto uevent = host.read_value(dir + "/uevent")) {
            const auto values = parse_uevent(*uevent);
            if (auto it = values.find("DRIVER"); it != values.end()) driver = it->second;
        }
        sink.set("npu.driver", driver.empty() ? "none" : driver, dir + "/uevent");
        return; // one NPU per machine
    }
}

rules::ProbeStatus collect_drm(const ProbeContext& context, FactSink& sink)
{
    const Host& host = context.host;
    collect_modules(host, sink);
    collect_npu(host, sink);
    std::vector<std::string> problems;
    rules::ProbeStatus status =
        host.is_live() ? collect_live(host, sink, problems) : collect_sysfs(host, sink, problems);
    if (status.state == rules::ProbeState::ok && !problems.empty()) {
        std::string reason = problems.front();
        if (problems.size() > 1) reason += fmt::format(" (and {} more)", problems.size() - 1);
        return status_partial(std::move(reason));
    }
    return status;
}

// What a user recognises, not our call names: the device nodes and what the driver is asked.
constexpr std::string_view k_sources[] = {"/dev/dri/* through libdrm (the GPUs and their driver)",
                                          "the amdgpu driver: loaded firmware versions, VBIOS, memory sizes",
                                          "/sys/class/drm/card*/device/",
                                          "/sys/class/drm/card*/device/hwmon/hwmon*/",
                                          "/sys/kernel/debug/dri/*/amdgpu_firmware_info",
                                          "/sys/module/ttm/parameters/pages_limit",
                                          "/sys/module/amdgpu/version",
                                          "/sys/bus/pci/devices/*/ (the NPU)"};
constexpr std::string_view k_provides[] = {"gpu.*", "kernel.ttm.pages_limit", "npu.*"};

} // namespace

std::string firmware_key(std::string_view ucode_name)
{
    std::string key;
    for (char c : trimmed(ucode_name)) {
        if (c == ' ' || c == '-') key += '_';
        else key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return key;
}

AmdgpuFirmwareInfo parse_amdgpu_firmware_info(std::string_view text)
{
    AmdgpuFirmwareInfo info;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("VBIOS version:")) {
            auto v = trimmed(std::string_view(line).substr(14));
            if (!v.empty()) info.vbios = v;
            continue;
        }
        const auto feature = line.find(" feature version:");
        const auto fw = line.find("firmware version: ");
        if (feature == std::string::npos || feature == 0 || fw == std::string::npos || fw < feature) continue;
        std::string_view version = std::string_view(line).substr(fw + 18);
        version = version.substr(0, version.find(' ')); // SMC appends " (100.2.0)"
        if (version.size() < 3 || !version.starts_with("0x") ||
            !std::all_of(version.begin() + 2, version.end(),
                         [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); }))
            continue;
        std::string normalized(version);
        std::transform(normalized.begin(), normalized.end(), normalized.begin(),
                       [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
        info.versions[firmware_key(std::string_view(line).substr(0, feature))] = normalized;
    }
    return info;
}

std::map<std::string, std::string> parse_uevent(std::string_view text)
{
    std::map<std::string, std::string> values;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        const auto eq = line.find('=');
        if (eq == std::string::npos || eq == 0) continue;
        values[line.substr(0, eq)] = trimmed(std::string_view(line).substr(eq + 1));
    }
    return values;
}

const ProbeInfo k_drm_probe{
    "drm",      "DRM devices; amdgpu loaded firmware (MES…), VBIOS, VRAM/GTT, TTM limit; the NPU",
    k_sources,  k_provides,
    {},         true,
    collect_drm};

} // namespace halo::probes
