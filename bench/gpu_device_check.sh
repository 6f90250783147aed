#!/bin/bash
# Run on a machine with a real GPU and Vulkan driver, from the repository root after a build
# (default build dir: build; override with BUILD=dir). Prints the drm, vulkan and kfd facts the
# probes read from the live system, runs the GPU probe unit tests, and the GPU bench.
set -u
BUILD=${BUILD:-build}
dump="$BUILD/tests/helpers/gpu/halo_probe_dump"
tests="$BUILD/tests/halo_tests"
for f in "$dump" "$tests"; do
    [ -x "$f" ] || { echo "gpu_device_check: error: '$f' not built; run cmake --build $BUILD first" >&2; exit 1; }
done
echo "== host"; uname -r; command -v nvidia-smi >/dev/null && nvidia-smi -L
echo; echo "== halo-check facts --only drm,vulkan (or the probe dump when the CLI lacks it)"
if [ -x "$BUILD/halo-check" ] && "$BUILD/halo-check" facts --only drm,vulkan,kfd 2>/dev/null; then :; else
    "$dump" drm vulkan kfd
fi
echo; echo "== vulkaninfo --summary (for comparison)"
command -v vulkaninfo >/dev/null && vulkaninfo --summary 2>&1 | sed -n '/Devices:/,$p'
echo; echo "== GPU probe unit tests"
MESA_SHADER_CACHE_DISABLE=true "$tests" "[isolation],[drm],[kfd],[vulkan]"
rc=$?
echo; echo "== bench (in-process vs isolated; GPU probes vs vulkaninfo)"
[ -x "$BUILD/bench/bench_gpu_probes" ] && "$BUILD/bench/bench_gpu_probes" --runs 11
exit $rc
