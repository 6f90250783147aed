#!/usr/bin/env bash
# `halo-check export`: node-problem-detector's exit contract per verdict (BROKEN is 1, never 2),
# its one-line message of at most 80 bytes; the NFD features.d file (expiry first, label values
# valid per Kubernetes' rules); the Prometheus text from a probed fixture host, with the amdgpu
# gauges; --output written atomically; bad input named with what to do.
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
export NO_COLOR=1 XDG_CONFIG_HOME=$(mktemp -d) XDG_STATE_HOME=$(mktemp -d)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$XDG_CONFIG_HOME" "$XDG_STATE_HOME"' EXIT
facts="$DATA/facts"

# npd: exit per verdict and --fail-on. halo-check check exits 2 for BROKEN; npd must say 1.
npd() { run "$HALO_CHECK" export --format npd --no-dropins --facts "$@"; }
npd "$facts/ok-vulkan-radv.toml"
expect_rc 0 "ok"
[ "$out" = "OK" ] || fail "ok message '$out'"
npd "$facts/warning-ctx-200k.toml"
expect_rc 1 "warning with --fail-on warning (the default)"
expect_out "WARNING: engine.ctx-size-over-128k"
npd "$facts/warning-ctx-200k.toml" --fail-on broken
expect_rc 0 "warning with --fail-on broken"
npd "$facts/broken-fw-20251125-rocm.toml"
expect_rc 1 "broken"
expect_out "BROKEN: "
npd "$facts/broken-fw-20251125-rocm.toml" --fail-on broken
expect_rc 1 "broken with --fail-on broken"
run "$HALO_CHECK" check --no-dropins --facts "$facts/broken-fw-20251125-rocm.toml"
expect_rc 2 "check itself says 2 for the same facts"
npd "$facts/broken-fw-20251125-rocm.toml" --next-boot
expect_rc 1 "broken after reboot too"
expect_out "BROKEN after reboot: "
# Every message: one line of at most 80 bytes.
for f in "$facts"/*.toml; do
    npd "$f"
    [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "$f: more than one line"
    [ "$(printf '%s' "$out" | wc -c)" -le 80 ] || fail "$f: message of $(printf '%s' "$out" | wc -c) bytes"
    [ "$rc" -ne 2 ] || fail "$f: npd exit 2 (node-problem-detector reads it as unknown)"
    checks=$((checks + 1))
done
# Cannot decide (facts unreadable): 3, which node-problem-detector reads as Unknown.
head -c 2048 /dev/urandom >"$tmp/garbage.toml"
npd "$tmp/garbage.toml"
expect_rc 3 "unreadable facts"
expect_err "$tmp/garbage.toml"
run "$HALO_CHECK" export --format npd --no-dropins --facts "$facts/ok-vulkan-radv.toml" --output "$tmp/x"
expect_rc 3 "npd with --output"
expect_err "leave --output out"

# nfd: written atomically with --output; expiry = now + 2 × --interval; valid label values.
before=$(date +%s)
run "$HALO_CHECK" export --format nfd --no-dropins --facts "$facts/broken-fw-20251125-rocm.toml" --interval 90s \
    --output "$tmp/features.d-halo-check"
expect_rc 0 "nfd --output"
[ -z "$out" ] || fail "nfd --output printed '$out'"
python3 - "$tmp/features.d-halo-check" "$before" <<'PY' || fail "nfd file"
import datetime, re, sys
lines = open(sys.argv[1]).read().split("\n")
assert lines[-1] == "", "no final newline"
first = lines[0]
assert first.startswith("# +expiry-time="), first
expiry = datetime.datetime.strptime(first.split("=", 1)[1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
delta = expiry.timestamp() - int(sys.argv[2])
assert 175 <= delta <= 190, f"expiry {delta}s after the export, expected 2 x 90s"
name = re.compile(r"^halo-check\.io/[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$")
value = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
labels = {}
for line in lines[1:-1]:
    key, _, val = line.partition("=")
    assert name.match(key) and len(key.split("/", 1)[1]) <= 63, f"label name {key!r}"
    assert value.match(val) and len(val) <= 63, f"label value {val!r}"
    labels[key] = val
assert labels["halo-check.io/verdict"] == "broken", labels
assert labels["halo-check.io/rocm-ok"] == "false", labels
assert labels["halo-check.io/vulkan-ok"] == "false", labels
assert labels["halo-check.io/kernel"], labels
PY
checks=$((checks + 1))
run "$HALO_CHECK" export --format nfd --no-dropins --facts "$facts/ok-vulkan-radv.toml"
expect_out "halo-check.io/verdict=ok"
expect_out "halo-check.io/vulkan-ok=true"
run "$HALO_CHECK" export --format nfd --no-dropins --facts "$facts/ok-vulkan-radv.toml" --interval soon
expect_rc 3 "bad --interval"
expect_err "--interval 'soon' is not a duration"

# prometheus from a probed fixture host (the broken one): both views, the rule, the gauges.
bad=$(bash "$HALO_SOURCE_DIR/tests/support/make_fixture_root.sh" strix-fedora43-fw20251125-rocm "$tmp/bad") || fail "fixture"
bad="$tmp/bad"
run "$HALO_CHECK" export --root "$bad" --config "$bad/etc/halo-check/config.toml" --no-dropins
expect_rc 0 "prometheus"
expect_out 'halo_check_verdict{view="now"} 2'
expect_out 'halo_check_finding{rule="firmware.linux-firmware-20251125-rocm",severity="broken",view="now"} 1'
expect_out 'halo_check_gpu_busy_ratio{gpu="0"} 0.03'
expect_out 'halo_check_gpu_gtt_used_bytes{gpu="0"} 70506459136'
expect_out 'halo_check_gpu_temperature_celsius{gpu="0"} 46'
expect_out 'halo_check_gpu_power_watts{gpu="0"} 18'
expect_out 'halo_check_stack_info{kernel="6.18.5-200.fc43.x86_64",linux_firmware="20251125-1.fc43",mes="0x00000083"'
expect_no_out 'halo_check_engine_state'
run "$HALO_CHECK" export --no-dropins --facts "$facts/ok-vulkan-radv.toml" --output "$tmp/no/such/dir/x.prom"
expect_rc 3 "unwritable --output"
expect_err "$tmp/no/such/dir"
expect_err "nothing was exported"

# With halo-checkd's state file: the engine's figures.
mkdir -p "$tmp/state"
cat >"$tmp/state/state.json" <<'JSON'
{"version": 1, "engine": {"state": "ready", "since": "2026-12-01T10:00:00Z", "reason": "", "restarts": [],
 "restarts_total": 3, "smoke": {"ok": true, "at": "2026-12-01T10:00:05Z", "prompt_per_second": 640.5,
 "predicted_per_second": 51.25}}}
JSON
run "$HALO_CHECK" export --no-dropins --facts "$facts/ok-vulkan-radv.toml" --state-dir "$tmp/state"
expect_out 'halo_check_engine_state{state="ready"} 1'
expect_out 'halo_check_engine_ready 1'
expect_out 'halo_check_engine_restarts_total 3'
expect_out 'halo_check_smoke_generation_tokens_per_second 51.25'
if command -v promtool >/dev/null; then
    lint=$(promtool check metrics <<<"$out" 2>&1) || fail "promtool check metrics: $lint"
    [ -z "$lint" ] || fail "promtool check metrics: $lint"
    checks=$((checks + 1))
fi
done_ok
