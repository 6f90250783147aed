#!/usr/bin/env bash
# The knowledge-base entries from the 2026 field reports give no finding, not even an info one,
# on the known-good fixture hosts and on this machine; they fire on the live path (halo-check
# --root reading a fixture host) when the host has what the report describes.
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
export NO_COLOR=1 XDG_CONFIG_HOME=$(mktemp -d)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$XDG_CONFIG_HOME"' EXIT
root() { bash "$HALO_SOURCE_DIR/tests/support/make_fixture_root.sh" "$1" "$tmp/$1" || fail "fixture $1"; echo "$tmp/$1"; }
cfg() { echo "$1/etc/halo-check/config.toml"; }

# The ids of rocm-runtime.toml, iommu.toml, memory.toml, vulkan.toml, performance.toml and
# log-gpu-and-cache.toml, read from the files so that a new entry is covered without editing this.
new_ids=$(cd "$HALO_SOURCE_DIR/rules/kb" &&
          sed -n 's/^id = "\(.*\)"$/\1/p' rocm-runtime.toml iommu.toml memory.toml vulkan.toml performance.toml log-gpu-and-cache.toml |
          paste -sd, -)
[ -n "$new_ids" ] || fail "no ids read from rules/kb"
ours="[i for i in [f['id'] for f in j['findings']] + [u['id'] for u in j['undecided']] if i in '$new_ids'.split(',')]"

for host in "$HALO_SOURCE_DIR"/tests/data/hosts/*-good; do
    name=$(basename "$host")
    r=$(root "$name")
    run "$HALO_CHECK" --root "$r" --config "$(cfg "$r")" --json
    expect_rc 0
    expect_json "$ours" '[]'
done

# This machine (whatever it is: a CI runner, a VM without a GPU) is never judged by them falsely.
run "$HALO_CHECK" --json --no-dropins
[ "$rc" -ne 2 ] || fail "this machine is BROKEN: $out"
expect_json "$ours" '[]'

# The live path: the good host's engine given HSA_OVERRIDE_GFX_VERSION=12.0.1 in a ROCm toolbox.
r=$(root strix-fedora43-good)
run "$HALO_CHECK" run --root "$r" --config "$(cfg "$r")" --dry-run --json -- \
    env HSA_OVERRIDE_GFX_VERSION=12.0.1 toolbox run -c llama-rocm-7.14 llama-server -m /mnt/ai-models/x.gguf
expect_json '[f["matched"] for f in j["findings"] if f["id"]=="rocm.hsa-override-gfx-version-gfx12"][0]["engine.env.HSA_OVERRIDE_GFX_VERSION"]' 12.0.1
# [engine.env] gives the same fact, and a secret beside it is written nowhere.
{ cat "$(cfg "$r")"; printf '[engine.env]\nHSA_OVERRIDE_GFX_VERSION = "11.0.0"\nLLAMA_ARG_HF_TOKEN = "hf_never_shown"\n'; } >"$tmp/env.toml"
run "$HALO_CHECK" facts --root "$r" --config "$tmp/env.toml"
expect_rc 0
expect_out "'engine.env.HSA_OVERRIDE_GFX_VERSION' = '11.0.0'"
expect_no_out hf_never_shown
expect_no_out LLAMA_ARG_HF_TOKEN
done_ok
