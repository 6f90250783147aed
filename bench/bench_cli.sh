#!/usr/bin/env bash
# Whole-process benchmarks of halo-check, medians of RUNS runs, side by side,
# timed by bench_exec (fork/exec/wait, no shell in the measurement):
#  1. halo-check check --facts FILE (goal: < 10 ms)
#  2. halo-check with every host probe (os, memory, kernel, packages, boot, containers, engine)
#     against the manual way a user checks today: uname -r; rpm -qi linux-firmware (dpkg -s on
#     Debian); podman ps -a; podman images (goal: at least 10x faster); and the full check with
#     the GPU probes too.
# Usage: bench/bench_cli.sh BUILD_DIR [RUNS]
set -euo pipefail
build=${1:?usage: bench_cli.sh BUILD_DIR [RUNS]}
runs=${2:-21}
here=$(cd "$(dirname "$0")" && pwd)
hc="$build/halo-check"
ex="$build/bench/bench_exec"
facts="$here/../tests/data/facts/broken-fw-20251125-rocm.toml"
export NO_COLOR=1 MESA_SHADER_CACHE_DISABLE=true
if command -v rpm >/dev/null && rpm -q linux-firmware >/dev/null 2>&1; then
    manual='uname -r; rpm -qi linux-firmware; podman ps -a; podman images'
else
    manual='uname -r; dpkg -s firmware-amd-graphics mesa-vulkan-drivers; podman ps -a; podman images'
fi
printf '%-58s %8s %8s %8s\n' "what (ms)" median p10 p90
row() { local label=$1; shift; printf '%-58s %8s %8s %8s\n' "$label" $("$ex" "$runs" "$@"); }
row "true (process start floor)" /bin/true
row "halo-check --version (start-up)" "$hc" --version
row "halo-check check --facts FILE" "$hc" check --facts "$facts"
row "halo-check, host probes (--skip drm,vulkan,kfd)" "$hc" --skip drm,vulkan,kfd
row "halo-check, all probes (GPU probes isolated)" "$hc"
row "manual: $manual" sh -c "$manual"
