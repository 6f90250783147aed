// A tiny Vulkan ICD that misbehaves on purpose, built three ways (HALO_ICD_MODE):
//   1 = segfaults in vkCreateInstance, 2 = hangs in vkCreateInstance,
//   3 = reports one device with absurd properties (unterminated non-UTF-8 name, an unknown
//       driverID and device type, a million memory heaps).
// It implements just the loader–ICD interface the Vulkan loader needs to get that far
// (vk_icdNegotiateLoaderICDInterfaceVersion, vk_icdGetInstanceProcAddr, dispatchable handles
// that start with the loader's magic word).

#include <vulkan/vulkan.h>

#include <csignal>
#include <cstdint>
#include <cstring>
#include <unistd.h>

#ifndef HALO_ICD_MODE
#error "define HALO_ICD_MODE"
#endif

namespace {

constexpr std::uintptr_t k_loader_magic = 0x01CDC0DE;

struct Dispatchable {
    std::uintptr_t loader_data = k_loader_magic; // the loader overwrites it with its dispatch table
};

Dispatchable g_instance;
Dispatchable g_device;

VKAPI_ATTR VkResult VKAPI_CALL create_instance(const VkInstanceCreateInfo*, const VkAllocationCallbacks*,
                                               VkInstance* instance)
{
#if HALO_ICD_MODE == 1
    // The pointer itself is volatile so no optimiser can prove (and warn) that it is null.
    volatile int* volatile null_pointer = nullptr;
    *null_pointer = 42;
#elif HALO_ICD_MODE == 2
    for (;;) ::pause();
#endif
    g_instance.loader_data = k_loader_magic;
    *instance = reinterpret_cast<VkInstance>(&g_instance);
    return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL destroy_instance(VkInstance, const VkAllocationCallbacks*) {}

VKAPI_ATTR VkResult VKAPI_CALL enumerate_instance_extensions(const char*, uint32_t* count, VkExtensionProperties*)
{
    *count = 0;
    return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL enumerate_instance_version(uint32_t* version)
{
    *version = VK_API_VERSION_1_3;
    return VK_SUCCESS;
}

VKAPI_ATTR VkResult VKAPI_CALL enumerate_physical_devices(VkInstance, uint32_t* count, VkPhysicalDevice* devices)
{
    if (!devices) {
        *count = 1;
        return VK_SUCCESS;
    }
    if (*count < 1) return VK_INCOMPLETE;
    g_device.loader_data = k_loader_magic;
    devices[0] = reinterpret_cast<VkPhysicalDevice>(&g_device);
    *count = 1;
    return VK_SUCCESS;
}

void fill_garbage(char* field, std::size_t size)
{
    for (std::size_t i = 0; i < size; ++i) field[i] = static_cast<char>(i % 2 ? 0xff : 'A'); // no NUL anywhere
}

VKAPI_ATTR void VKAPI_CALL get_properties(VkPhysicalDevice, VkPhysicalDeviceProperties* p)
{
    std::memset(p, 0, sizeof *p);
    p->apiVersion = VK_API_VERSION_1_3;
    p->driverVersion = 0xffffffffu;
    p->vendorID = 0xdeadbeefu;
    p->deviceID = 0xffffffffu;
    p->deviceType = static_cast<VkPhysicalDeviceType>(12345);
    fill_garbage(p->deviceName, sizeof p->deviceName);
}

VKAPI_ATTR void VKAPI_CALL get_properties2(VkPhysicalDevice device, VkPhysicalDeviceProperties2* p)
{
    get_properties(device, &p->properties);
    for (auto* next = static_cast<VkBaseOutStructure*>(p->pNext); next; next = next->pNext) {
        if (next->sType != VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES) continue;
        auto* driver = reinterpret_cast<VkPhysicalDeviceDriverProperties*>(next);
        driver->driverID = static_cast<VkDriverId>(0x7fff0001);
        fill_garbage(driver->driverName, sizeof driver->driverName);
        fill_garbage(driver->driverInfo, sizeof driver->driverInfo);
        driver->conformanceVersion = {255, 255, 255, 255};
    }
}

VKAPI_ATTR void VKAPI_CALL get_memory_properties(VkPhysicalDevice, VkPhysicalDeviceMemoryProperties* m)
{
    std::memset(m, 0, sizeof *m);
    m->memoryHeapCount = 1000000;
    m->memoryTypeCount = 1000000;
    for (auto& heap : m->memoryHeaps) {
        heap.size = ~0ull;
        heap.flags = VK_MEMORY_HEAP_DEVICE_LOCAL_BIT;
    }
}

VKAPI_ATTR VkResult VKAPI_CALL enumerate_device_extensions(VkPhysicalDevice, const char*, uint32_t* count,
                                                           VkExtensionProperties*)
{
    *count = 0;
    return VK_SUCCESS;
}

VKAPI_ATTR void VKAPI_CALL get_queue_families(VkPhysicalDevice, uint32_t* count, VkQueueFamilyProperties*)
{
    *count = 0;
}

// The rest of what the loader requires an ICD to export; never reached by the probe.
VKAPI_ATTR void VKAPI_CALL get_features(VkPhysicalDevice, VkPhysicalDeviceFeatures* f) { std::memset(f, 0, sizeof *f); }
VKAPI_ATTR void VKAPI_CALL get_format_properties(VkPhysicalDevice, VkFormat, VkFormatProperties* p)
{
    std::memset(p, 0, sizeof *p);
}
VKAPI_ATTR VkResult VKAPI_CALL get_image_format_properties(VkPhysicalDevice, VkFormat, VkImageType, VkImageTiling,
                                                           VkImageUsageFlags, VkImageCreateFlags,
                                                           VkImageFormatProperties*)
{
    return VK_ERROR_FORMAT_NOT_SUPPORTED;
}
VKAPI_ATTR void VKAPI_CALL get_sparse_properties(VkPhysicalDevice, VkFormat, VkImageType, VkSampleCountFlagBits,
                                                 VkImageUsageFlags, VkImageTiling, uint32_t* count,
                                                 VkSparseImageFormatProperties*)
{
    *count = 0;
}
VKAPI_ATTR VkResult VKAPI_CALL create_device(VkPhysicalDevice, const VkDeviceCreateInfo*, const VkAllocationCallbacks*,
                                             VkDevice*)
{
    return VK_ERROR_INITIALIZATION_FAILED;
}
VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL get_device_proc_addr(VkDevice, const char*) { return nullptr; }
VKAPI_ATTR VkResult VKAPI_CALL enumerate_device_layers(VkPhysicalDevice, uint32_t* count, VkLayerProperties*)
{
    *count = 0;
    return VK_SUCCESS;
}

} // namespace

extern "C" {

VKAPI_ATTR VkResult VKAPI_CALL vk_icdNegotiateLoaderICDInterfaceVersion(uint32_t* version)
{
    if (*version > 5) *version = 5;
    return VK_SUCCESS;
}

VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vk_icdGetInstanceProcAddr(VkInstance, const char* name)
{
    struct Entry {
        const char* name;
        PFN_vkVoidFunction fn;
    };
    static const Entry entries[] = {
        {"vkCreateInstance", reinterpret_cast<PFN_vkVoidFunction>(create_instance)},
        {"vkDestroyInstance", reinterpret_cast<PFN_vkVoidFunction>(destroy_instance)},
        {"vkEnumerateInstanceExtensionProperties", reinterpret_cast<PFN_vkVoidFunction>(enumerate_instance_extensions)},
        {"vkEnumerateInstanceVersion", reinterpret_cast<PFN_vkVoidFunction>(enumerate_instance_version)},
        {"vkEnumeratePhysicalDevices", reinterpret_cast<PFN_vkVoidFunction>(enumerate_physical_devices)},
        {"vkGetPhysicalDeviceProperties", reinterpret_cast<PFN_vkVoidFunction>(get_properties)},
        {"vkGetPhysicalDeviceProperties2", reinterpret_cast<PFN_vkVoidFunction>(get_properties2)},
        {"vkGetPhysicalDeviceProperties2KHR", reinterpret_cast<PFN_vkVoidFunction>(get_properties2)},
        {"vkGetPhysicalDeviceMemoryProperties", reinterpret_cast<PFN_vkVoidFunction>(get_memory_properties)},
        {"vkEnumerateDeviceExtensionProperties", reinterpret_cast<PFN_vkVoidFunction>(enumerate_device_extensions)},
        {"vkGetPhysicalDeviceQueueFamilyProperties", reinterpret_cast<PFN_vkVoidFunction>(get_queue_families)},
        {"vkGetPhysicalDeviceFeatures", reinterpret_cast<PFN_vkVoidFunction>(get_features)},
        {"vkGetPhysicalDeviceFormatProperties", reinterpret_cast<PFN_vkVoidFunction>(get_format_properties)},
        {"vkGetPhysicalDeviceImageFormatProperties", reinterpret_cast<PFN_vkVoidFunction>(get_image_format_properties)},
        {"vkGetPhysicalDeviceSparseImageFormatProperties", reinterpret_cast<PFN_vkVoidFunction>(get_sparse_properties)},
        {"vkCreateDevice", reinterpret_cast<PFN_vkVoidFunction>(create_device)},
        {"vkGetDeviceProcAddr", reinterpret_cast<PFN_vkVoidFunction>(get_device_proc_addr)},
        {"vkEnumerateDeviceLayerProperties", reinterpret_cast<PFN_vkVoidFunction>(enumerate_device_layers)},
    };
    for (const Entry& e : entries)
        if (std::strcmp(e.name, name) == 0) return e.fn;
    return nullptr;
}

} // extern "C"
