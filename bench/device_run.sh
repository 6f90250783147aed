#!/bin/bash
# What ran on a lent NVIDIA H200 machine (Ubuntu 24.04, driver 580.159.04) from the repository
# root, with a Release build carried in .devkit/ (binaries + their Debian 12 libraries) and the
# GL/Vulkan loader packages in .gl/; results in bench/results/nvidia-h200-*.
R=$PWD
for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
# The test binary looks for tests/data where it was built: HALO_BUILT_SOURCE_DIR names that
# source directory, and a link there points at this copy.
if [ -n "${HALO_BUILT_SOURCE_DIR:-}" ]; then mkdir -p "$(dirname "$HALO_BUILT_SOURCE_DIR")" && ln -sfn "$R" "$HALO_BUILT_SOURCE_DIR"; fi
export LD_LIBRARY_PATH=$R/.devkit/lib:/usr/local/nvidia/lib64 PATH=$R/.devkit/bin:$PATH NO_COLOR=1 MESA_SHADER_CACHE_DISABLE=true
echo "== host"; uname -r; cat /etc/os-release | head -2; nvidia-smi -L 2>&1 | head -3; ls -la /dev/dri 2>&1 | head; ls /sys/class/drm 2>&1 | head
for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    [ -f "$f" ] && { echo "ICD manifest: $f"; cat "$f"; export VK_DRIVER_FILES=$f; break; }
done
ldconfig -p | grep -E "libGLX_nvidia|libnvidia-glcore" | head -3
echo "== halo-check facts --only drm,vulkan,kfd"
halo-check facts --only drm,vulkan,kfd 2>&1 | tee $OUT/facts-gpu.toml
echo "== halo-check -v (whole report)"
halo-check -v 2>&1 | tee $OUT/report.txt; echo "exit: ${PIPESTATUS[0]}"
echo "== vulkaninfo --summary"
vulkaninfo --summary 2>&1 | tee $OUT/vulkaninfo.txt | sed -n '/Devices:/,$p' | head -40
echo "== GPU probe unit tests (faulty ICDs, isolation, drm, kfd; lavapipe ones excluded: no Mesa there)"
halo_tests "[isolation],[drm],[kfd]" 2>&1 | tail -5
halo_tests "a Vulkan driver that segfaults in vkCreateInstance,a Vulkan driver that hangs in vkCreateInstance,a Vulkan driver with absurd properties,a malformed ICD manifest is not reported as out of memory" 2>&1 | tail -5
echo "== bench"
bench_gpu_probes --runs 11 2>&1 | tail -25 | tee $OUT/bench.txt
