#!/usr/bin/env bash
# Reading podman's containers two ways, side by side, on the same vfs storage:
#   (a) the storage metadata files (the containers probe, in-process and as a whole process)
#   (b) the podman CLI's JSON: `podman ps -a --format json` + `podman images --format json`
# Usage: bench/containers_bench.sh BUILD_DIR [RUNS]
set -euo pipefail
B=${1:?build dir}; N=${2:-20}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
printf '[storage]\ndriver = "vfs"\ngraphroot = "%s/storage"\nrunroot = "%s/run"\n' "$T" "$T" >"$T/storage.conf"
export CONTAINERS_STORAGE_CONF="$T/storage.conf"
R=docker.io/kyuz0/amd-strix-halo-toolboxes
for tag in vulkan-radv vulkan-amdvlk rocm-6.4.4 rocm-7.1.1 rocm-7.2 rocm7-nightlies; do
    mkdir -p "$T/r-$tag"; echo "$tag" >"$T/r-$tag/m"; tar -C "$T/r-$tag" -cf "$T/$tag.tar" .
    podman import -q "$T/$tag.tar" "$R:$tag" >/dev/null
    podman create -q --name "llama-$tag" --label com.github.containers.toolbox=true "$R:$tag" /bin/true >/dev/null
done
"$B/bench/containers_bench" 500
ms() { python3 -c "import sys,statistics; v=sorted(float(x) for x in sys.stdin); print(f'median {statistics.median(v):.1f} ms, p90 {v[int(len(v)*0.9)]:.1f} ms')"; }
for i in $(seq "$N"); do
    s=$(date +%s%N); "$B/tests/helpers/engine/halo_run_probe" --root / --env HOME=/nonexistent \
        --env "CONTAINERS_STORAGE_CONF=$T/storage.conf" containers >/dev/null; e=$(date +%s%N)
    echo "scale=3; ($e-$s)/1000000" | bc
done | ms | sed 's/^/probe as a whole process (storage files): /'
for i in $(seq "$N"); do
    s=$(date +%s%N); timeout 10 podman ps -a --format json </dev/null >/dev/null
    timeout 10 podman images --format json </dev/null >/dev/null; e=$(date +%s%N)
    echo "scale=3; ($e-$s)/1000000" | bc
done | ms | sed 's/^/podman ps -a + podman images (JSON): /'
