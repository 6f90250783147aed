#!/usr/bin/env bash
# One command for every benchmark: builds a Release tree in build-bench/ and runs each bench.
# Usage: bench/run_all.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-21}
cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DHALO_BUILD_TESTS=ON -DHALO_BUILD_BENCH=ON >/dev/null
cmake --build build-bench -j"$(nproc)" >/dev/null
export NO_COLOR=1 MESA_SHADER_CACHE_DISABLE=true
echo "== rules evaluation as the rule set grows"
build-bench/bench/bench_rules tests/data/facts/broken-fw-20251125-rocm.toml 51
echo "== knowledge feed: signature verification of 1 MiB, rule loading 2,000 -> 20,000"
build-bench/bench/bench_feed 11
echo "== fleet export per re-check (render + atomic writes) vs the check"
export_root=$(mktemp -d)
HALO_SOURCE_DIR="$PWD" bash tests/support/make_fixture_root.sh strix-fedora43-fw20251125-rocm "$export_root/host" >/dev/null
build-bench/bench/bench_export --root "$export_root/host" --config "$export_root/host/etc/halo-check/config.toml" \
    --runs 51 --dir "$export_root/out"
rm -rf "$export_root"
echo "== whole-process halo-check"
bench/bench_cli.sh build-bench "$runs"
echo "== GPU probes: isolation cost and vulkaninfo --summary"
VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.x86_64.json build-bench/bench/bench_gpu_probes --runs "$runs" || true
echo "== container storage: files vs podman CLI"
bench/containers_bench.sh build-bench "$runs" || true
for extra in bench/daemon_idle.sh bench/reprobe_bench.sh bench/real_engine_bench.sh bench/regression_bench.sh bench/engine_check_bench.sh; do
    [ -x "$extra" ] && { echo "== $extra"; "$extra" build-bench || true; }
done
echo "== bench/watch_daemon_bench.sh"
HALO_SOURCE_DIR="$PWD" HALO_BINARY_DIR="$PWD/build-bench" bench/watch_daemon_bench.sh || true
