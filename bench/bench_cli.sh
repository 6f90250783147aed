#!/usr/bin/env bash
# Whole-process benchmarks of halo-check (issues 2 and 3), medians of RUNS runs, side by side:
#  1. halo-check check --facts FILE (goal: < 10 ms)
#  2. halo-check (every host probe, GPU probes included, on this machine) against the manual way
#     a user checks today: uname -r; rpm -qi linux-firmware (dpkg -s here); podman ps -a;
#     podman images (goal: at least 10x faster)
# Usage: bench/bench_cli.sh BUILD_DIR [RUNS]
set -euo pipefail
build=${1:?usage: bench_cli.sh BUILD_DIR [RUNS]}
runs=${2:-21}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/timing.sh"
hc="$build/halo-check"
facts="$here/../tests/data/facts/broken-fw-20251125-rocm.toml"
export NO_COLOR=1 MESA_SHADER_CACHE_DISABLE=true

check_facts=$(median_ms "$runs" "$hc" check --facts "$facts")
echo "check --facts (whole process)           median ${check_facts} ms"

manual() {
    uname -r
    if command -v rpm >/dev/null && rpm -q linux-firmware >/dev/null 2>&1; then rpm -qi linux-firmware; else dpkg -s firmware-amd-graphics mesa-vulkan-drivers; fi
    podman ps -a
    podman images
}
full=$(median_ms "$runs" "$hc")
host_only=$(median_ms "$runs" "$hc" --skip drm,vulkan,kfd)
by_hand=$(median_ms "$runs" manual)
echo "halo-check, all probes                  median ${full} ms"
echo "halo-check, host probes only            median ${host_only} ms"
echo "manual: uname; dpkg -s; podman ps; images median ${by_hand} ms"
awk -v a="$by_hand" -v b="$full" -v c="$host_only" 'BEGIN {printf "ratio manual / halo-check: %.1fx (all probes), %.1fx (host probes)\n", a/b, a/c}'
