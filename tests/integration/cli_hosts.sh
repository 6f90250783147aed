#!/usr/bin/env bash
# Golden tests of the live path: halo-check --root on fixture hosts copied from real machines
# (with a real rpmdb built by rpm itself), halo-check run, halo-check facts round trip, and a
# run on this machine.
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
export NO_COLOR=1 XDG_CONFIG_HOME=$(mktemp -d)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$XDG_CONFIG_HOME"' EXIT
root() { bash "$HALO_SOURCE_DIR/tests/support/make_fixture_root.sh" "$1" "$tmp/$1" || fail "fixture $1"; echo "$tmp/$1"; }
# Each fixture is judged with the config it carries, named with --config: the configuration is a
# file on this machine, never looked up under --root.
cfg() { echo "$1/etc/halo-check/config.toml"; }

good=$(root strix-fedora43-good)
run "$HALO_CHECK" --root "$good" --config "$(cfg "$good")" --json
expect_rc 0
expect_json 'j["verdict"]' ok
expect_json 'j["known_good"]' known-good.vulkan-radv-fedora
expect_json '[f["id"] for f in j["findings"] if f["severity"] != "info"]' '[]'
expect_json 'j["probes"]["packages"]["status"]' ok
run "$HALO_CHECK" --root "$good" --config "$(cfg "$good")"
expect_out "gpu       0x1002:0x1586 amdgpu, MES 0x00000080"
expect_out "engine    vulkan in llama-vulkan-radv"

# MES 0x83 with a ROCm engine: broken, naming the firmware rule and the loaded MES.
bad=$(root strix-fedora43-fw20251125-rocm)
run "$HALO_CHECK" --root "$bad" --config "$(cfg "$bad")" --json
expect_rc 2
expect_json '[f["matched"] for f in j["findings"] if f["id"]=="firmware.mes-0x83-rocm"][0]["gpu.0.firmware.mes"]' 0x00000083
expect_json '"firmware.linux-firmware-20251125-rocm" in [f["id"] for f in j["findings"]]' True
# The same host with a Vulkan engine is not broken (the firmware warning stays).
vulkan_cmd=(toolbox run -c llama-vulkan-radv llama-server -m /mnt/ai-models/GLM-4.7-Flash-Q8/GLM-4.7-Flash-UD-Q8_K_XL.gguf
            -c 65536 --host 127.0.0.1 --port 8080)
run "$HALO_CHECK" run --root "$bad" --config "$(cfg "$bad")" --dry-run --json -- "${vulkan_cmd[@]}"
expect_rc 0
expect_json 'j["verdict"]' warning
expect_json '"firmware.mes-0x83-rocm" in [f["id"] for f in j["findings"]]' False
expect_json '"firmware.linux-firmware-20251125-installed" in [f["id"] for f in j["findings"]]' True
# halo-check run refuses the ROCm engine there and never starts it.
run "$HALO_CHECK" run --root "$bad" --config "$(cfg "$bad")" -- toolbox run -c llama-rocm-7.2 touch "$tmp/started"
expect_rc 2
expect_err "halo-check: refusing to run 'toolbox run -c llama-rocm-7.2 touch $tmp/started': verdict broken"
[ ! -e "$tmp/started" ] || fail "the refused command ran"

# run execs the command itself (same pid) when the verdict passes.
"$HALO_CHECK" run --root "$good" --config "$(cfg "$good")" -- sh -c 'echo $$ > "$0"' "$tmp/pid" 2>/dev/null &
pid=$!
wait "$pid"
[ "$(cat "$tmp/pid")" = "$pid" ] || fail "run did not exec in place: pid $(cat "$tmp/pid") vs $pid"
checks=$((checks + 1))
# An engine program that is not there is refused before exec (cli_engine_cannot_start.sh has the
# exec failure that remains possible after the check).
run "$HALO_CHECK" run --root "$good" --config "$(cfg "$good")" -- /nonexistent/llama-server
expect_rc 2
expect_err "halo-check: refusing to run '/nonexistent/llama-server': verdict broken"
expect_err "BROKEN engine.binary-not-found"

# Next boot lands on a kernel that llama-rocm-7.1.1 cannot run: fine now, broken after reboot.
next=$(root strix-fedora43-nextboot-broken)
run "$HALO_CHECK" --root "$next" --config "$(cfg "$next")" --json
expect_rc 1
expect_json '"rocm.next-boot-kernel-breaks-rocm" in [f["id"] for f in j["findings"]]' True
expect_json '"rocm.kernel-6.18.4-needs-fixed-rocm" in [f["id"] for f in j["findings"]]' False
run "$HALO_CHECK" --root "$next" --config "$(cfg "$next")" --next-boot --json
expect_rc 2
expect_json '[f["matched"]["kernel.release"] for f in j["findings"] if f["id"]=="rocm.kernel-6.18.4-needs-fixed-rocm"]' "['6.18.5-200.fc43.x86_64']"

# A Debian host without a GPU: GPU probes say plainly that nothing is there.
deb=$(root debian12-nogpu)
run "$HALO_CHECK" --root "$deb" --config "$(cfg "$deb")" --json
expect_json 'j["probes"]["drm"]["status"]' not_applicable
expect_json 'j["probes"]["packages"]["status"]' ok
run "$HALO_CHECK" --root "$deb" --config "$(cfg "$deb")"
expect_out "gpu       none found (drm probe not_applicable: no DRM devices)"
expect_out "firmware  firmware-amd-graphics 20230210-5"

# A nearly empty root: failed probes are shown with their reasons, never a crash.
min=$(root minimal)
run "$HALO_CHECK" --root "$min" --json
expect_json 'j["probes"]["kernel"]["status"]' failed
expect_json '"osrelease" in j["probes"]["kernel"]["reason"]' True
run "$HALO_CHECK" --root "$tmp/does-not-exist"
expect_rc 3
expect_err "Failed to read root '$tmp/does-not-exist': not a directory"

# facts → check --facts gives the same verdict; --only/--skip select probes.
run "$HALO_CHECK" facts --root "$bad" --config "$(cfg "$bad")"
expect_rc 0
printf '%s\n' "$out" > "$tmp/bad-facts.toml"
run "$HALO_CHECK" check --facts "$tmp/bad-facts.toml" --json
expect_rc 2
run "$HALO_CHECK" facts --root "$bad" --config "$(cfg "$bad")" --json
printf '%s\n' "$out" > "$tmp/bad-facts.json"
run "$HALO_CHECK" check --facts "$tmp/bad-facts.json"
expect_rc 2
run "$HALO_CHECK" --root "$bad" --config "$(cfg "$bad")" --skip drm --json
expect_json '"firmware.mes-0x83-rocm" in [f["id"] for f in j["findings"]]' False
expect_json 'j["probes"]["drm"]["status"]' not_run
run "$HALO_CHECK" facts --root "$bad" --config "$(cfg "$bad")" --only drm,kfd
expect_out "'gpu.0.firmware.mes' = '0x00000083'"
expect_no_out "'kernel.release' = '6.18"
run "$HALO_CHECK" facts --only drn
expect_rc 3
expect_err "unknown probe 'drn', did you mean 'drm'?"
run "$HALO_CHECK" probes
for p in os memory kernel packages boot drm vulkan kfd containers engine; do expect_out "$p "; done

# This machine, with the embedded rules and no config: a real report and a meaningful code. A
# machine without an AMD GPU cannot run the stack: UNKNOWN, saying so.
run "$HALO_CHECK"
if grep -qs '^0x1002$' /sys/class/drm/card*/device/vendor; then
    [ "$rc" -le 2 ] || fail "halo-check on this machine (an AMD GPU) exited $rc"
else
    expect_rc 3
    expect_out "halo-check: UNKNOWN — no Strix Halo GPU found"
fi
expect_out "machine:"
expect_out "kernel    $(uname -r)"
# A llama-server run on the host (no container, no image) is shown, with the way to state its
# backend, instead of "none configured".
cfg=$(mktemp)
printf '[engine]\nname = "host"\ncommand = ["/opt/llama/llama-server", "-m", "/nonexistent/m.gguf", "--port", "8081"]\n' >"$cfg"
run "$HALO_CHECK" --config "$cfg" --only engine
expect_out 'engine    /opt/llama/llama-server on the host, backend unknown (state it: [engine] backend = "vulkan" or "rocm"), model /nonexistent/m.gguf'
expect_no_out "none configured"
printf '[engine]\nname = "host"\nbackend = "vulkan"\ncommand = ["/opt/llama/llama-server", "-m", "/nonexistent/m.gguf"]\n' >"$cfg"
run "$HALO_CHECK" --config "$cfg" --only engine
expect_out 'engine    vulkan on the host, model /nonexistent/m.gguf'
rm -f "$cfg"
done_ok
