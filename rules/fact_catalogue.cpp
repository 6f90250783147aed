#include "rules/fact_catalogue.hpp"

#include "rules/facts.hpp"

#include <array>

namespace halo::rules {

namespace {

// Keep in step with docs/facts.md: tests/unit/rules/test_fact_catalogue.cpp compares the two.
// Probe ids name the probe that sets the key; "engine" keys come from the engine's command line,
// its container and its model file.
constexpr std::array k_catalogue = std::to_array<CatalogueEntry>({
    // host
    {"host.os.id", "os", "fedora", "ID from os-release"},
    {"host.os.version_id", "os", "43", "VERSION_ID from os-release"},
    {"host.os.name", "os", "Fedora Linux 43 (Workstation Edition)", "PRETTY_NAME from os-release"},
    {"host.os.id_like", "os", "debian", "ID_LIKE from os-release, when present"},
    {"host.mem.total_bytes", "memory", "130003492864", "MemTotal from /proc/meminfo, in bytes"},
    // kernel and boot
    {"kernel.release", "kernel", "6.18.5-200.fc43.x86_64", "the running kernel (uname -r)"},
    {"kernel.cmdline", "kernel", "BOOT_IMAGE=(hd0,gpt2)/vmlinuz-6.18.9-200.fc43.x86_64 ro amd_iommu=off",
     "the full kernel command line (/proc/cmdline)"},
    {"kernel.cmdline.*", "kernel", "32505856",
     "one kernel parameter by name (kernel.cmdline.ttm.pages_limit); a flag without a value is true"},
    {"kernel.tainted", "kernel", "0", "/proc/sys/kernel/tainted as a number"},
    {"kernel.tainted.flags", "kernel", "OE", "the taint letters set (as in the kernel's oops header)"},
    {"kernel.ttm.pages_limit", "kernel", "32505856", "the effective TTM page limit (/sys/module/ttm/parameters)"},
    {"kernel.next_boot.release", "boot", "6.18.5-200.fc43.x86_64", "the kernel the next boot will start"},
    {"kernel.next_boot.entry", "boot", "/boot/loader/entries/…-6.18.5-200.fc43.x86_64.conf",
     "the boot entry the next boot will use"},
    {"kernel.next_boot.differs", "boot", "true", "whether the next boot starts another kernel than the running one"},
    {"kernel.installed", "boot", "6.18.3-200.fc43.x86_64 6.18.5-200.fc43.x86_64",
     "the installed kernels, space separated, oldest first"},
    {"boot.initramfs.mtime", "boot", "2026-01-12T09:14:03Z", "when the next boot's initramfs was written (RFC 3339)"},
    {"boot.initramfs.older_than_firmware", "boot", "true",
     "whether that initramfs is older than the installed GPU firmware package"},
    // packages
    {"packages.manager", "packages", "rpm", "the package database read: rpm, dpkg or pacman"},
    {"package.*.version", "packages", "20251125", "an installed package's version (package.linux-firmware.version)"},
    {"package.*.release", "packages", "1.fc43", "its release"},
    {"package.*.epoch", "packages", "0", "its epoch, when it has one"},
    {"package.*.evr", "packages", "20251125-1.fc43", "EPOCH:VERSION-RELEASE in one string"},
    {"package.*.installtime", "packages", "2026-01-05T18:22:41Z", "when it was installed (RFC 3339)"},
    // GPU (DRM, sysfs, debugfs)
    {"gpu.*.pci.vendor", "drm", "0x1002", "PCI vendor id"},
    {"gpu.amdgpu.loaded", "drm", "true", "whether the amdgpu module is loaded (/sys/module/amdgpu)"},
    {"gpu.count", "drm", "1", "DRM devices found"},
    {"gpu.*.pci.device", "drm", "0x1586", "PCI device id (0x1586 = Strix Halo)"},
    {"gpu.*.pci.revision", "drm", "0xc1", "PCI revision"},
    {"gpu.*.pci.slot", "drm", "0000:c1:00.0", "PCI address"},
    {"gpu.*.render_node", "drm", "/dev/dri/renderD128", "the DRM render node"},
    {"gpu.*.driver", "drm", "amdgpu", "the kernel driver bound to the device"},
    {"gpu.*.driver_version", "drm", "3.64.0", "the DRM driver interface version"},
    {"gpu.*.firmware.source", "drm", "/sys/kernel/debug/dri/1/amdgpu_firmware_info",
     "where the loaded firmware versions were read"},
    {"gpu.*.firmware.*", "drm", "0x00000080",
     "a loaded firmware version by microcode name (gpu.0.firmware.mes, .mes_kiq, .me, .pfp, .mec, .rlc, .smc, "
     ".sdma0, .vcn, .imu, …)"},
    {"gpu.*.vbios", "drm", "113-STRXLGEN-001", "the VBIOS version"},
    {"gpu.*.mem.vram_total", "drm", "536870912", "dedicated VRAM in bytes (mem_info_vram_total)"},
    {"gpu.*.mem.gtt_total", "drm", "133143986176", "GTT size in bytes (mem_info_gtt_total)"},
    {"gpu.*.sensor.busy_percent", "drm", "3", "GPU busy, percent (gpu_busy_percent; changes by itself)"},
    {"gpu.*.sensor.vram_used", "drm", "254758912", "VRAM in use, bytes (mem_info_vram_used; changes by itself)"},
    {"gpu.*.sensor.gtt_used", "drm", "70506459136", "GTT in use, bytes (mem_info_gtt_used; changes by itself)"},
    {"gpu.*.sensor.temp_millicelsius", "drm", "46000",
     "GPU edge temperature, millidegrees Celsius (hwmon temp1_input; changes by itself)"},
    {"gpu.*.sensor.power_microwatts", "drm", "18000000",
     "GPU package power, microwatts (hwmon power1_average, else power1_input; changes by itself)"},
    {"gpu.amdgpu.module_version", "drm", "6.16.6",
     "/sys/module/amdgpu/version (only an out-of-tree DKMS driver has it)"},
    {"gpu.amdgpu.in_tree", "drm", "true", "whether amdgpu is the kernel's own driver (no DKMS module)"},
    {"npu.pci.device", "drm", "0x17f0", "the NPU's PCI device id (an AMD processing accelerator, class 0x1180)"},
    {"npu.pci.slot", "drm", "0000:c3:00.1", "the NPU's PCI address"},
    {"npu.driver", "drm", "amdxdna", "the driver bound to the NPU, or none (amd_iommu=off leaves it unbound)"},
    // ROCm / KFD
    {"rocm.kfd.present", "kfd", "true", "whether /dev/kfd exists"},
    {"rocm.kfd.accessible", "kfd", "false", "whether the checking user can open /dev/kfd read-write"},
    {"rocm.render.accessible", "kfd", "true", "whether the checking user can open the render node"},
    {"rocm.kfd.groups", "kfd", "render", "the group owning /dev/kfd"},
    {"rocm.user_in_render_group", "kfd", "true", "whether the checking user is in that group"},
    {"rocm.host.version", "kfd", "7.2.0", "the ROCm installed on the host, when any (/opt/rocm/.info/version)"},
    {"rocm.agent.*.gfx_target", "kfd", "gfx1151", "a KFD topology node's gfx target"},
    {"rocm.user_in_video_group", "kfd", "true", "whether the user is in the video group"},
    {"rocm.render.groups", "kfd", "render", "the groups that would grant access to the render node"},
    {"rocm.render.present", "kfd", "true", "whether that render node exists"},
    {"rocm.render.node", "kfd", "/dev/dri/renderD128", "the render node of the first GPU agent"},
    {"rocm.kfd.mode", "kfd", "0660", "/dev/kfd's permission bits"},
    {"rocm.agent_count", "kfd", "1", "GPU agents in the KFD topology"},
    {"rocm.agent.*.domain", "kfd", "0", "the node's PCI domain"},
    {"rocm.agent.*.node", "kfd", "1", "the KFD topology node number"},
    {"rocm.agent.*.gfx_target_version", "kfd", "110501", "the node's raw gfx_target_version"},
    {"rocm.agent.*.name", "kfd", "gfx1151", "its name"},
    {"rocm.agent.*.simd_count", "kfd", "80", "its SIMD count (80 = 8060S, 64 = 8050S, 32 = 8040S)"},
    {"rocm.agent.*.drm_render_minor", "kfd", "128", "its render node minor"},
    {"rocm.agent.*.vendor_id", "kfd", "4098", "its vendor id, decimal as KFD prints it"},
    {"rocm.agent.*.device_id", "kfd", "5510", "its device id, decimal"},
    {"rocm.agent.*.location_id", "kfd", "49664", "its PCI location, decimal"},
    // Vulkan
    {"vulkan.loader_version", "vulkan", "1.3.239", "the Vulkan loader's instance version"},
    {"vulkan.gpu_count", "vulkan", "1", "physical devices that are not CPU renderers"},
    {"vulkan.*.heap_count", "vulkan", "2", "memory heaps the device reports"},
    {"vulkan.device_count", "vulkan", "2", "all physical devices, CPU renderers included"},
    {"vulkan.software_only", "vulkan", "false", "true when the only devices are CPU renderers (llvmpipe, lavapipe)"},
    {"vulkan.*.name", "vulkan", "AMD Radeon 8060S Graphics (RADV GFX1151)", "a physical device's name"},
    {"vulkan.*.type", "vulkan", "integrated_gpu", "its type: integrated_gpu, discrete_gpu, virtual_gpu, cpu, other"},
    {"vulkan.*.vendor_id", "vulkan", "0x1002", "its vendor id"},
    {"vulkan.*.device_id", "vulkan", "0x1586", "its device id"},
    {"vulkan.*.driver_id", "vulkan", "MESA_RADV", "its driver (MESA_RADV, AMD_OPEN_SOURCE = AMDVLK, MESA_LLVMPIPE, …)"},
    {"vulkan.*.driver_name", "vulkan", "radv", "its driver name"},
    {"vulkan.*.driver_info", "vulkan", "Mesa 25.2.8", "its driver info string"},
    {"vulkan.*.api_version", "vulkan", "1.4.318", "its Vulkan API version"},
    {"vulkan.*.driver_version", "vulkan", "25.2.8", "its driver version"},
    {"vulkan.*.conformance_version", "vulkan", "1.4.0.0", "its conformance version"},
    {"vulkan.*.heap.*.size", "vulkan", "133143986176", "a memory heap's size in bytes"},
    {"vulkan.*.heap.*.device_local", "vulkan", "true", "whether that heap is device-local"},
    // containers and images (podman)
    {"container.*.image", "containers", "docker.io/kyuz0/amd-strix-halo-toolboxes:rocm-7.2",
     "a container's image reference"},
    {"container.*.image.dangling", "containers", "false",
     "true when the container's image lost its tag to a newer pull"},
    {"container.*.env.*", "containers", "11.5.1",
     "a GPU-runtime or llama.cpp variable in the container's own environment (its OCI spec: the image's Env and "
     "podman create -e), recorded under the same names as engine.env.*"},
    {"container.*.created", "containers", "2026-04-27T08:02:05Z", "when the container was created (RFC 3339)"},
    {"container.*.id", "containers", "309f084c02c2…", "the container's id"},
    {"container.*.image.repository", "containers", "docker.io/kyuz0/amd-strix-halo-toolboxes", "its repository"},
    {"container.*.image.tag", "containers", "rocm-7.2", "its tag as written"},
    {"container.*.image.tag_base", "containers", "rocm-7.2",
     "the tag without an immutable build suffix (rocm-7.2_20260125T091500 → rocm-7.2)"},
    {"container.*.image.build_time", "containers", "2026-01-25T09:15:00Z",
     "the build time from an immutable tag's suffix, when the tag has one"},
    {"container.*.image.digest", "containers",
     "sha256:ceb96cb6a9933f866719d19456eec48243be31ff044ea61c7d0bc8ede936de26", "the image digest"},
    {"container.*.image.id", "containers", "3f1e5c2a9b7d", "the local image id"},
    {"container.*.image.created", "containers", "2026-01-25T09:31:12Z", "when the image was built (RFC 3339)"},
    {"container.*.toolbox", "containers", "true", "whether it is a Toolbx container"},
    {"container.*.state", "containers", "running", "its state: created, running, exited, …"},
    {"container.*.storage", "containers", "user", "whose storage holds it: user or system"},
    {"image.*.reference", "containers", "docker.io/kyuz0/amd-strix-halo-toolboxes:vulkan-radv", "a local image"},
    {"image.*.storage", "containers", "user", "which storage holds the image (user or root)"},
    {"image.*.digest", "containers", "sha256:1e76…", "a local image's digest"},
    {"containers.storage.*", "containers", "/home/user/.local/share/containers/storage (overlay)",
     "the podman storage read (user, root) and its driver"},
    {"image.*.id", "containers", "3f1e5c2a9b7d", "its id"},
    {"image.*.created", "containers", "2026-01-25T09:31:12Z", "when it was built"},
    {"image.*.dangling", "containers", "false", "whether no tag points at it any more"},
    // the engine (llama-server)
    {"engine.container", "engine", "llama-vulkan-radv", "the container the engine runs in"},
    {"engine.wrapper", "engine", "toolbox", "how it is started: toolbox, distrobox, podman or none"},
    {"engine.binary", "engine", "llama-server", "the engine program"},
    {"engine.binary.found", "engine", "true",
     "whether the engine program is an executable file (on $PATH or at its path; source: where, or why not); only for "
     "a command run on the host"},
    {"engine.image", "engine", "docker.io/kyuz0/amd-strix-halo-toolboxes:vulkan-radv", "its container's image"},
    {"engine.image.tag", "engine", "vulkan-radv", "that image's tag as written"},
    {"engine.image.tag_base", "engine", "vulkan-radv", "that tag without an immutable build suffix"},
    {"engine.image.build_time", "engine", "2026-01-25T09:15:00Z", "the build time from an immutable tag's suffix"},
    {"engine.image.created", "engine", "2026-01-25T09:31:12Z", "when that image was built (RFC 3339)"},
    {"engine.image.digest", "engine", "sha256:ceb96cb6a9933f866719d19456eec48243be31ff044ea61c7d0bc8ede936de26",
     "that image's digest"},
    {"engine.model.gguf_version", "engine", "3", "the GGUF format version"},
    {"engine.model.file_type_name", "engine", "Q8_0", "general.file_type as its name"},
    {"engine.model.hf_repo", "engine", "unsloth/GLM-4.7-Flash-GGUF", "llama-server -hf, when given"},
    {"engine.load_mode", "engine", "none", "llama-server --load-mode, when given"},
    {"engine.image.id", "engine", "93481d7f…", "the engine container's image id"},
    {"engine.container.exists", "engine", "true", "whether the engine's container exists in podman storage"},
    {"engine.name", "engine", "glm-4.7-flash", "the engine's name from the configuration"},
    {"engine.backend", "engine", "vulkan", "the compute backend: rocm, vulkan or cpu"},
    {"engine.model.path", "engine", "/models/GLM-4.7-Flash-UD-Q8_K_XL.gguf", "the model file (-m)"},
    {"engine.model.readable", "engine", "true",
     "whether the model file can be opened (false: the reason is the source)"},
    {"engine.model.gguf", "engine", "true", "whether the model file starts with the GGUF magic"},
    {"engine.model.name", "engine", "GLM-4.7-Flash", "general.name from the GGUF header"},
    {"engine.model.architecture", "engine", "deepseek2", "general.architecture from the GGUF header"},
    {"engine.model.size_label", "engine", "27B",
     "general.size_label from the GGUF header (30B-A3B for a mixture of experts)"},
    {"engine.model.file_type", "engine", "7", "general.file_type (7 = Q8_0, 15 = Q4_K_M, …)"},
    {"engine.model.size_bytes", "engine", "34359738368", "the model's size on disk, all split parts together"},
    {"engine.model.context_length", "engine", "202752", "the context length the model was trained for"},
    {"engine.model.split_count", "engine", "1", "how many files the model is split into"},
    {"engine.ctx_size", "engine", "65536", "the context size asked for (-c; 0 = the model's own)"},
    {"engine.flash_attn", "engine", "on", "flash attention: on, off or auto (-fa)"},
    {"engine.host", "engine", "127.0.0.1", "the address it listens on (--host; 127.0.0.1 when not given)"},
    {"engine.port", "engine", "8080", "the port it listens on (--port)"},
    {"engine.mmap", "engine", "off", "whether the model is memory-mapped (--no-mmap = off)"},
    {"engine.n_gpu_layers", "engine", "999", "layers offloaded to the GPU (-ngl)"},
    {"engine.jinja", "engine", "true", "whether the chat template runs through Jinja (--jinja)"},
    {"engine.reasoning_budget", "engine", "0", "--reasoning-budget (0 disables thinking)"},
    {"engine.prefill_assistant", "engine", "off",
     "whether an assistant prefill is allowed (--no-prefill-assistant = off)"},
    {"engine.alias", "engine", "glm-4.7-flash", "the model name it serves (--alias)"},
    {"engine.api_key", "engine", "set", "set when the engine wants an API key (--api-key …); never the key"},
    {"engine.direct_io", "engine", "on", "llama-server --direct-io (on) or --no-direct-io (off), when given"},
    {"engine.env.*", "engine", "11.5.1",
     "a GPU-runtime or llama.cpp variable in the engine's environment (engine.env.HSA_OVERRIDE_GFX_VERSION), from "
     "its container's environment, [engine.env], env NAME=… or podman exec -e (later ones win); only HSA_, HIP_, "
     "ROCR_, ROCM_, HCC_, AMD_, GGML_, RADV_, MESA_, "
     "VK_ and LLAMA_ARG_ names without KEY, TOKEN, SECRET or PASSWORD"},
});

} // namespace

std::span<const CatalogueEntry> fact_catalogue() { return k_catalogue; }

bool in_catalogue(std::string_view key)
{
    // Both directions: a concrete key lies under a pattern, and a rule's key with `*` segments
    // (container.*.image.tag) names the same family as the catalogue's pattern.
    for (const CatalogueEntry& entry : k_catalogue)
        if (key_matches(entry.pattern, key) || key_matches(key, entry.pattern)) return true;
    return false;
}

} // namespace halo::rules
