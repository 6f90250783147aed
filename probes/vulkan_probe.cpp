#include "probes/vulkan_probe.hpp"

#include <fmt/core.h>
#include <fmt/ranges.h>

// The loader is opened with dlopen (load_vulkan below), not linked: the probe runs in an
// isolated child, so the checker itself never loads it, and every other run of halo-check skips
// its load cost.
#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <sstream>
#include <type_traits>

namespace halo::probes {

namespace {

constexpr std::string_view k_summary_path = "/halo-fixture/vulkaninfo-summary.txt";
constexpr const char* k_loader_variables[] = {"VK_DRIVER_FILES", "VK_ICD_FILENAMES", "VK_ADD_DRIVER_FILES",
                                              "VK_LOADER_DEBUG"};

// The loader's entry points, resolved through vkGetInstanceProcAddr as the loader intends.
PFN_vkGetInstanceProcAddr vkGetInstanceProcAddr = nullptr;
PFN_vkEnumerateInstanceVersion vkEnumerateInstanceVersion = nullptr;
PFN_vkCreateInstance vkCreateInstance = nullptr;
PFN_vkDestroyInstance vkDestroyInstance = nullptr;
PFN_vkEnumeratePhysicalDevices vkEnumeratePhysicalDevices = nullptr;
PFN_vkGetPhysicalDeviceProperties vkGetPhysicalDeviceProperties = nullptr;
PFN_vkGetPhysicalDeviceProperties2 vkGetPhysicalDeviceProperties2 = nullptr;
PFN_vkGetPhysicalDeviceMemoryProperties vkGetPhysicalDeviceMemoryProperties = nullptr;
PFN_vkEnumerateDeviceExtensionProperties vkEnumerateDeviceExtensionProperties = nullptr;

// Opens libvulkan.so.1 once and resolves the global entry points.
Result<void> load_vulkan()
{
    static const Result<void> loaded = []() -> Result<void> {
        void* handle = ::dlopen("libvulkan.so.1", RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            const char* why = ::dlerror();
            return Error{fmt::format("Failed to load the Vulkan loader 'libvulkan.so.1': {}; install libvulkan1 "
                                     "(vulkan-loader)",
                                     why ? why : "unknown error")};
        }
        vkGetInstanceProcAddr = reinterpret_cast<PFN_vkGetInstanceProcAddr>(::dlsym(handle, "vkGetInstanceProcAddr"));
        if (!vkGetInstanceProcAddr) return Error{"'libvulkan.so.1' has no vkGetInstanceProcAddr"};
        auto global = [](const char* name) { return vkGetInstanceProcAddr(VK_NULL_HANDLE, name); };
        vkEnumerateInstanceVersion =
            reinterpret_cast<PFN_vkEnumerateInstanceVersion>(global("vkEnumerateInstanceVersion"));
        vkCreateInstance = reinterpret_cast<PFN_vkCreateInstance>(global("vkCreateInstance"));
        if (!vkCreateInstance) return Error{"the Vulkan loader has no vkCreateInstance"};
        return {};
    }();
    return loaded;
}

// Instance-level entry points, after vkCreateInstance.
bool load_instance_functions(VkInstance instance)
{
    auto get = [instance](const char* name) { return vkGetInstanceProcAddr(instance, name); };
    vkDestroyInstance = reinterpret_cast<PFN_vkDestroyInstance>(get("vkDestroyInstance"));
    vkEnumeratePhysicalDevices = reinterpret_cast<PFN_vkEnumeratePhysicalDevices>(get("vkEnumeratePhysicalDevices"));
    vkGetPhysicalDeviceProperties =
        reinterpret_cast<PFN_vkGetPhysicalDeviceProperties>(get("vkGetPhysicalDeviceProperties"));
    vkGetPhysicalDeviceProperties2 =
        reinterpret_cast<PFN_vkGetPhysicalDeviceProperties2>(get("vkGetPhysicalDeviceProperties2"));
    vkGetPhysicalDeviceMemoryProperties =
        reinterpret_cast<PFN_vkGetPhysicalDeviceMemoryProperties>(get("vkGetPhysicalDeviceMemoryProperties"));
    vkEnumerateDeviceExtensionProperties =
        reinterpret_cast<PFN_vkEnumerateDeviceExtensionProperties>(get("vkEnumerateDeviceExtensionProperties"));
    return vkDestroyInstance && vkEnumeratePhysicalDevices && vkGetPhysicalDeviceProperties &&
           vkGetPhysicalDeviceProperties2 && vkGetPhysicalDeviceMemoryProperties &&
           vkEnumerateDeviceExtensionProperties;
}

struct InstanceDeleter {
    void operator()(VkInstance instance) const noexcept { vkDestroyInstance(instance, nullptr); }
};
using InstancePtr = std::unique_ptr<std::remove_pointer_t<VkInstance>, InstanceDeleter>;

// Applies the Host's loader-variable overrides to the process environment while alive.
class ScopedLoaderEnv {
public:
    explicit ScopedLoaderEnv(const Host& host)
    {
        for (const char* name : k_loader_variables) {
            const auto wanted = host.env(name);
            const char* current = std::getenv(name);
            if (!wanted || (current && *wanted == current)) continue;
            m_saved.emplace_back(name, current ? std::optional<std::string>(current) : std::nullopt);
            ::setenv(name, wanted->c_str(), 1);
        }
    }
    ScopedLoaderEnv(const ScopedLoaderEnv&) = delete;
    ScopedLoaderEnv& operator=(const ScopedLoaderEnv&) = delete;
    ~ScopedLoaderEnv()
    {
        for (const auto& [name, value] : m_saved) {
            if (value) ::setenv(name, value->c_str(), 1);
            else ::unsetenv(name);
        }
    }

private:
    std::vector<std::pair<const char*, std::optional<std::string>>> m_saved;
};

std::string api_version(std::uint32_t v)
{
    return fmt::format("{}.{}.{}", VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v), VK_API_VERSION_PATCH(v));
}

std::string_view type_name(VkPhysicalDeviceType type)
{
    switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated_gpu";
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete_gpu";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual_gpu";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "cpu";
    default: return "other";
    }
}

std::string result_name(VkResult r)
{
    switch (r) {
    case VK_ERROR_OUT_OF_HOST_MEMORY: return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED: return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_LAYER_NOT_PRESENT: return "VK_ERROR_LAYER_NOT_PRESENT";
    case VK_ERROR_EXTENSION_NOT_PRESENT: return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER: return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_INCOMPLETE: return "VK_INCOMPLETE";
    default: return fmt::format("VkResult {}", static_cast<int>(r));
    }
}

bool has_extension(VkPhysicalDevice device, const char* name)
{
    std::uint32_t count = 0;
    if (vkEnumerateDeviceExtensionProperties(device, nullptr, &count, nullptr) != VK_SUCCESS) return false;
    count = std::min<std::uint32_t>(count, 4096);
    std::vector<VkExtensionProperties> props(count);
    if (vkEnumerateDeviceExtensionProperties(device, nullptr, &count, props.data()) < 0) return false;
    for (std::uint32_t i = 0; i < std::min<std::uint32_t>(count, static_cast<std::uint32_t>(props.size())); ++i)
        if (std::strncmp(props[i].extensionName, name, VK_MAX_EXTENSION_NAME_SIZE) == 0) return true;
    return false;
}

template <std::size_t N>
std::string fixed_text(const char (&field)[N])
{
    return sanitize_text(std::string_view(field, strnlen(field, N)));
}

// One physical device's facts. Returns a problem description, or "" when all was sane.
std::string describe_device(VkPhysicalDevice device, std::uint32_t instance_api, const std::string& prefix,
                            FactSink& sink, bool& is_cpu)
{
    std::string problem;
    VkPhysicalDeviceProperties props{};
    vkGetPhysicalDeviceProperties(device, &props);
    VkPhysicalDeviceDriverProperties driver{};
    driver.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES;
    bool have_driver = false;
    const std::uint32_t usable_api = std::min(props.apiVersion, instance_api);
    if (usable_api >= VK_API_VERSION_1_1 &&
        (usable_api >= VK_API_VERSION_1_2 || has_extension(device, VK_KHR_DRIVER_PROPERTIES_EXTENSION_NAME))) {
        VkPhysicalDeviceProperties2 props2{};
        props2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
        props2.pNext = &driver;
        vkGetPhysicalDeviceProperties2(device, &props2);
        have_driver = true;
    }
    const char* call = have_driver ? "vkGetPhysicalDeviceProperties2" : "vkGetPhysicalDeviceProperties";
    is_cpu = props.deviceType == VK_PHYSICAL_DEVICE_TYPE_CPU;
    sink.set(prefix + "name", fixed_text(props.deviceName), call);
    sink.set(prefix + "type", std::string(type_name(props.deviceType)), call);
    sink.set(prefix + "vendor_id", fmt::format("0x{:04x}", props.vendorID), call);
    sink.set(prefix + "device_id", fmt::format("0x{:04x}", props.deviceID), call);
    sink.set(prefix + "api_version", api_version(props.apiVersion), call);
    sink.set(prefix + "driver_version", decode_driver_version(props.vendorID, props.driverVersion), call);
    if (have_driver) {
        sink.set(prefix + "driver_id", vulkan_driver_id_name(driver.driverID), call);
        sink.set(prefix + "driver_name", fixed_text(driver.driverName), call);
        sink.set(prefix + "driver_info", fixed_text(driver.driverInfo), call);
        const auto& c = driver.conformanceVersion;
        sink.set(prefix + "conformance_version", fmt::format("{}.{}.{}.{}", c.major, c.minor, c.subminor, c.patch),
                 call);
    }
    VkPhysicalDeviceMemoryProperties memory{};
    vkGetPhysicalDeviceMemoryProperties(device, &memory);
    std::uint32_t heaps = memory.memoryHeapCount;
    if (heaps > VK_MAX_MEMORY_HEAPS) {
        problem = fmt::format("the driver of device {} reported {} memory heaps (at most {} exist); read the first {}",
                              prefix.substr(7, prefix.size() - 8), heaps, VK_MAX_MEMORY_HEAPS, VK_MAX_MEMORY_HEAPS);
        heaps = VK_MAX_MEMORY_HEAPS;
    }
    sink.set(prefix + "heap_count", std::to_string(heaps), "vkGetPhysicalDeviceMemoryProperties");
    for (std::uint32_t i = 0; i < heaps; ++i) {
        const auto& heap = memory.memoryHeaps[i];
        sink.set(fmt::format("{}heap.{}.size", prefix, i), std::to_string(heap.size),
                 "vkGetPhysicalDeviceMemoryProperties");
        sink.set(fmt::format("{}heap.{}.device_local", prefix, i),
                 (heap.flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) ? "true" : "false",
                 "vkGetPhysicalDeviceMemoryProperties");
    }
    return problem;
}

rules::ProbeStatus summarize(int total, int gpus, const std::vector<std::string>& software,
                             std::vector<std::string> problems, FactSink& sink, std::string_view origin)
{
    sink.set("vulkan.device_count", std::to_string(total), origin);
    sink.set("vulkan.gpu_count", std::to_string(gpus), origin);
    sink.set("vulkan.software_only", gpus == 0 && total > 0 ? "true" : "false", origin);
    if (!problems.empty()) {
        std::string reason = problems.front();
        if (problems.size() > 1) reason += fmt::format(" (and {} more)", problems.size() - 1);
        return status_partial(std::move(reason));
    }
    rules::ProbeStatus status = status_ok();
    if (total == 0) status.reason = "no Vulkan devices";
    else if (gpus == 0) status.reason = fmt::format("no GPU Vulkan driver: only {}", fmt::join(software, ", "));
    return status;
}

rules::ProbeStatus collect_live(const Host& host, FactSink& sink)
{
    ScopedLoaderEnv env(host);
    if (auto loaded = load_vulkan(); !loaded) return status_failed(loaded.error().message);
    std::uint32_t loader = VK_API_VERSION_1_0;
    if (!vkEnumerateInstanceVersion || vkEnumerateInstanceVersion(&loader) != VK_SUCCESS) loader = VK_API_VERSION_1_0;
    sink.set("vulkan.loader_version", api_version(loader), "vkEnumerateInstanceVersion");
    if (loader < VK_API_VERSION_1_1)
        return status_failed(fmt::format("the Vulkan loader is {} but 1.1 or newer is needed to read driver properties",
                                         api_version(loader)));

    VkApplicationInfo app{};
    app.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
    app.pApplicationName = "halo-check";
    app.apiVersion = std::min<std::uint32_t>(loader, VK_API_VERSION_1_3);
    VkInstanceCreateInfo create{};
    create.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
    create.pApplicationInfo = &app;
    VkInstance raw = VK_NULL_HANDLE;
    const VkResult r = vkCreateInstance(&create, nullptr, &raw);
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER) {
        sink.set("vulkan.device_count", "0", "vkCreateInstance");
        sink.set("vulkan.gpu_count", "0", "vkCreateInstance");
        return status_not_applicable("no Vulkan driver: vkCreateInstance found no usable ICD "
                                     "(VK_ERROR_INCOMPATIBLE_DRIVER); install mesa-vulkan-drivers for RADV");
    }
    if (r == VK_ERROR_OUT_OF_HOST_MEMORY)
        return status_failed("vkCreateInstance returned VK_ERROR_OUT_OF_HOST_MEMORY, which the loader also returns "
                             "for a malformed ICD manifest (JSON in /usr/share/vulkan/icd.d, /etc/vulkan/icd.d or "
                             "VK_DRIVER_FILES); run 'VK_LOADER_DEBUG=error,warn vulkaninfo --summary' to see which");
    if (r != VK_SUCCESS) return status_failed(fmt::format("vkCreateInstance failed: {}", result_name(r)));
    if (!load_instance_functions(raw)) {
        if (vkDestroyInstance) vkDestroyInstance(raw, nullptr);
        return status_failed("the Vulkan loader did not provide the instance functions (vkGetInstanceProcAddr)");
    }
    InstancePtr instance(raw);

    std::uint32_t count = 0;
    VkResult er = vkEnumeratePhysicalDevices(instance.get(), &count, nullptr);
    if (er != VK_SUCCESS) return status_failed(fmt::format("vkEnumeratePhysicalDevices failed: {}", result_name(er)));
    count = std::min<std::uint32_t>(count, 64);
    std::vector<VkPhysicalDevice> devices(count);
    er = vkEnumeratePhysicalDevices(instance.get(), &count, devices.data());
    if (er < 0) return status_failed(fmt::format("vkEnumeratePhysicalDevices failed: {}", result_name(er)));
    devices.resize(std::min<std::size_t>(count, devices.size()));

    int gpus = 0;
    std::vector<std::string> software, problems;
    for (std::size_t i = 0; i < devices.size(); ++i) {
        const std::string prefix = fmt::format("vulkan.{}.", i);
        bool is_cpu = false;
        if (auto problem = describe_device(devices[i], app.apiVersion, prefix, sink, is_cpu); !problem.empty())
            problems.push_back(std::move(problem));
        if (is_cpu) {
            auto name =
                sink.facts().get(prefix + "driver_name").value_or(sink.facts().get(prefix + "name").value_or("?"));
            software.push_back(name);
        } else {
            ++gpus;
        }
    }
    return summarize(static_cast<int>(devices.size()), gpus, software, std::move(problems), sink,
                     "vkEnumeratePhysicalDevices");
}

rules::ProbeStatus collect_fixture(const Host& host, FactSink& sink)
{
    auto text = host.read_file(k_summary_path);
    if (!text) return status_not_applicable("Vulkan can only be probed on the live system");
    const std::string origin(k_summary_path);
    const auto devices = parse_vulkaninfo_summary(*text);
    int gpus = 0;
    std::vector<std::string> software;
    for (std::size_t i = 0; i < devices.size(); ++i) {
        const std::string prefix = fmt::format("vulkan.{}.", i);
        const auto& d = devices[i];
        auto put = [&](const char* from, const char* key) {
            if (auto it = d.find(from); it != d.end()) sink.set(prefix + key, it->second, origin);
        };
        put("deviceName", "name");
        put("deviceType", "type");
        put("vendorID", "vendor_id");
        put("deviceID", "device_id");
        put("apiVersion", "api_version");
        put("driverVersion", "driver_version");
        put("driverID", "driver_id");
        put("driverName", "driver_name");
        put("driverInfo", "driver_info");
        put("conformanceVersion", "conformance_version");
        const auto type = d.find("deviceType");
        if (type != d.end() && type->second == "cpu")
            software.push_back(d.count("driverName") ? d.at("driverName") : "cpu");
        else ++gpus;
    }
    if (auto it = text->find("Vulkan Instance Version:"); it != std::string::npos) {
        std::istringstream in(text->substr(it + 24));
        std::string version;
        if (in >> version) sink.set("vulkan.loader_version", version, origin);
    }
    return summarize(static_cast<int>(devices.size()), gpus, software, {}, sink, origin);
}

rules::ProbeStatus collect_vulkan(const ProbeContext& context, FactSink& sink)
{
    if (!context.host.is_live()) return collect_fixture(context.host, sink);
    return collect_live(context.host, sink);
}

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(),
                   [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
    return s;
}

constexpr std::string_view k_sources[] = {
    "the Vulkan loader (libvulkan): its version, the devices, their drivers and memory",
    "/usr/share/vulkan/icd.d/*.json"};
constexpr std::string_view k_provides[] = {"vulkan.*"};

} // namespace

std::string vulkan_driver_id_name(std::uint32_t id)
{
    static constexpr std::string_view names[] = {
        "",
        "AMD_PROPRIETARY",
        "AMD_OPEN_SOURCE",
        "MESA_RADV",
        "NVIDIA_PROPRIETARY",
        "INTEL_PROPRIETARY_WINDOWS",
        "INTEL_OPEN_SOURCE_MESA",
        "IMAGINATION_PROPRIETARY",
        "QUALCOMM_PROPRIETARY",
        "ARM_PROPRIETARY",
        "GOOGLE_SWIFTSHADER",
        "GGP_PROPRIETARY",
        "BROADCOM_PROPRIETARY",
        "MESA_LLVMPIPE",
        "MOLTENVK",
        "COREAVI_PROPRIETARY",
        "JUICE_PROPRIETARY",
        "VERISILICON_PROPRIETARY",
        "MESA_TURNIP",
        "MESA_V3DV",
        "MESA_PANVK",
        "SAMSUNG_PROPRIETARY",
        "MESA_VENUS",
        "MESA_DOZEN",
        "MESA_NVK",
        "IMAGINATION_OPEN_SOURCE_MESA",
        "MESA_HONEYKRISP",
        "VULKAN_SC_EMULATION_ON_VULKAN",
    };
    if (id >= 1 && id < std::size(names)) return std::string(names[id]);
    return fmt::format("UNKNOWN_{}", id);
}

std::string decode_driver_version(std::uint32_t vendor_id, std::uint32_t v)
{
    if (vendor_id == 0x10de)
        return fmt::format("{}.{}.{}.{}", (v >> 22) & 0x3ff, (v >> 14) & 0xff, (v >> 6) & 0xff, v & 0x3f);
    return fmt::format("{}.{}.{}", VK_API_VERSION_MAJOR(v), VK_API_VERSION_MINOR(v), VK_API_VERSION_PATCH(v));
}

std::vector<std::map<std::string, std::string>> parse_vulkaninfo_summary(std::string_view text)
{
    std::vector<std::map<std::string, std::string>> devices;
    const auto start = text.find("Devices:");
    if (start == std::string_view::npos) return devices;
    std::istringstream in{std::string(text.substr(start))};
    for (std::string line; std::getline(in, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.starts_with("GPU") && line.ends_with(":")) {
            devices.emplace_back();
            continue;
        }
        if (devices.empty() || line.empty() || (line[0] != '\t' && line[0] != ' ')) continue;
        const auto eq = line.find('=');
        if (eq == std::string::npos) continue;
        const auto key_begin = line.find_first_not_of(" \t");
        std::string key = line.substr(key_begin, eq - key_begin);
        key.erase(key.find_last_not_of(" \t") + 1);
        std::string value = line.substr(eq + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        // "1.4.318 (4211006)": keep the readable part.
        if ((key == "apiVersion" || key == "driverVersion") && value.find(" (") != std::string::npos)
            value.erase(value.find(" ("));
        if (key == "driverID" && value.starts_with("DRIVER_ID_")) value.erase(0, 10);
        if (key == "deviceType" && value.starts_with("PHYSICAL_DEVICE_TYPE_")) value = lower(value.substr(21));
        devices.back()[key] = sanitize_text(value);
    }
    return devices;
}

std::string sanitize_text(std::string_view bytes)
{
    std::string out;
    out.reserve(bytes.size());
    std::size_t i = 0;
    while (i < bytes.size()) {
        const auto c = static_cast<unsigned char>(bytes[i]);
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
        bool valid = len > 0 && i + len <= bytes.size();
        for (std::size_t k = 1; valid && k < len; ++k)
            valid = (static_cast<unsigned char>(bytes[i + k]) & 0xc0) == 0x80;
        if (valid && len == 2 && c < 0xc2) valid = false; // overlong
        if (!valid) {
            out += '?';
            ++i;
            continue;
        }
        if (len == 1 && (c < 0x20 || c == 0x7f)) out += '?';
        else out.append(bytes.substr(i, len));
        i += len;
    }
    return out;
}

const ProbeInfo k_vulkan_probe{"vulkan",
                               "Vulkan loader and devices: driverID, driver name/version, API version, heaps",
                               k_sources,
                               k_provides,
                               {},
                               true,
                               collect_vulkan};

} // namespace halo::probes
