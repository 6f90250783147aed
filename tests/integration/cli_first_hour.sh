#!/usr/bin/env bash
# What a new user meets in the first hour, on the fixture hosts: a verdict per backend without an
# engine configured, UNKNOWN without a GPU or with failed probes, BROKEN for a configured container
# or model that is not there, --config mistakes as errors, the report's order and headline,
# --oneline, -q, --only's "not checked", explain's values, rules validate's never-matching glob.
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
export NO_COLOR=1 XDG_CONFIG_HOME=$(mktemp -d)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$XDG_CONFIG_HOME"' EXIT
root() { bash "$HALO_SOURCE_DIR/tests/support/make_fixture_root.sh" "$1" "$tmp/$1" || fail "fixture $1"; echo "$tmp/$1"; }
cfg() { echo "$1/etc/halo-check/config.toml"; }

# No engine configured: judged for ROCm and for Vulkan, the best usable backend decides.
bad=$(root strix-fedora43-fw20251125-rocm)
run "$HALO_CHECK" --root "$bad"
expect_rc 1
expect_out "  ROCm:   BROKEN — firmware.mes-0x83-rocm"
expect_out "  Vulkan: WARNING — firmware.linux-firmware-20251125-installed"
expect_out "(no engine configured: the verdict is the best backend's, Vulkan)"
run "$HALO_CHECK" --root "$bad" --json
expect_json 'j["backend"]' vulkan
expect_json '[(b["backend"], b["verdict"]) for b in j["backends"]]' "[('rocm', 'broken'), ('vulkan', 'warning')]"
# With an engine configured, its backend alone decides (ROCm here).
run "$HALO_CHECK" --root "$bad" --config "$(cfg "$bad")" --oneline
expect_rc 2
[[ "$out" =~ ^BROKEN\ firmware\.mes-0x83-rocm\ \(\+[0-9]+\)$ ]] || fail "--oneline printed '$out'"
checks=$((checks + 1))
run "$HALO_CHECK" --root "$bad" --config "$(cfg "$bad")" -q
expect_rc 2
[ -z "$out" ] || fail "-q printed '$out'"
checks=$((checks + 1))

# A machine without an AMD GPU: UNKNOWN, unless told a GPU is not needed.
deb=$(root debian12-nogpu)
run "$HALO_CHECK" --root "$deb"
expect_rc 3
expect_out "halo-check: UNKNOWN — no Strix Halo GPU found"
run "$HALO_CHECK" --root "$deb" --oneline
expect_out "UNKNOWN no Strix Halo GPU found"
run "$HALO_CHECK" --root "$deb" --no-gpu-ok
[ "$rc" -ne 3 ] || fail "--no-gpu-ok still UNKNOWN: $out"
checks=$((checks + 1))

# minimal: os, kernel and memory probes failed; never a plain OK.
run "$HALO_CHECK" --root "$(root minimal)" --no-gpu-ok
expect_rc 1
expect_out "halo-check: WARNING — 2 undecided"
run "$HALO_CHECK" --root "$tmp/minimal"
expect_rc 3
expect_out "halo-check: UNKNOWN — no Strix Halo GPU found (no AMD GPU among the DRM devices), 2 undecided"

# --only: the rules whose probes were not run are "not checked", not undecided.
good=$(root strix-fedora43-good)
run "$HALO_CHECK" --root "$good" --config "$(cfg "$good")" --only kernel,os --no-gpu-ok
expect_rc 0
expect_out "not checked (--only/--skip)"
expect_no_out "undecided"
# --strict: the headline names what made the warning.
run "$HALO_CHECK" check --facts "$DATA/facts/warning-ctx-200k.toml" --strict
expect_no_out "0 broken"
run "$HALO_CHECK" --root "$good" --only kernel,os --strict --no-gpu-ok
expect_rc 1
expect_out "halo-check: WARNING — untested: no known-good combination matches (--strict)"

# A configured container that does not exist, and a model that cannot be read: BROKEN.
printf '[engine]\nname = "x"\ncommand = ["toolbox", "run", "-c", "no-such-box", "llama-server", "-m", "/nonexistent/m.gguf"]\n' >"$tmp/missing.toml"
run "$HALO_CHECK" --root "$good" --config "$tmp/missing.toml" --json
expect_rc 2
expect_json '"engine.container-missing" in [f["id"] for f in j["findings"]]' True
expect_json '"engine.model-unreadable" in [f["id"] for f in j["findings"]]' True

# --config mistakes: a missing file and an unknown key are errors, as in halo-checkd.
run "$HALO_CHECK" --root "$good" --config "$tmp/nope.toml"
expect_rc 3
expect_err "halo-check: error: Failed to read config '$tmp/nope.toml'"
[ "$(wc -l <<<"$out")" -le 1 ] || fail "a missing --config still printed a report"
checks=$((checks + 1))
printf '[engine]\nnmae = "x"\ncommand = ["llama-server"]\n' >"$tmp/typo.toml"
run "$HALO_CHECK" --root "$good" --config "$tmp/typo.toml"
expect_rc 3
expect_err "nmae"
expect_err "halo-check config validate"
run "$HALO_CHECK" config validate --config "$tmp/typo.toml"
expect_rc 3
expect_err "$tmp/typo.toml:2:8: unknown key 'nmae' in [engine]"
run "$HALO_CHECK" config validate --config "$(cfg "$good")"
expect_rc 0
expect_out "valid (engine"

# The report: broken first, then the next boot, then the other warnings; the short form.
next=$(root strix-fedora43-nextboot-broken)
run "$HALO_CHECK" --root "$next" --config "$(cfg "$next")"
first=$(grep -m1 -E '^(BROKEN|WARNING|INFO) ' <<<"$out")
[ "$first" = "WARNING rocm.next-boot-kernel-breaks-rocm" ] || fail "first finding is '$first'"
checks=$((checks + 1))
expect_no_out "  why:"
run "$HALO_CHECK" --root "$next" --config "$(cfg "$next")" -v
expect_out "  why:"
expect_out "  see:"

# explain: each condition with its value, multi-line fixes keep their indentation.
run "$HALO_CHECK" explain firmware.mes-0x83-rocm
expect_out '  when:     "engine.backend" = "rocm"'
expect_out '"gpu.*.firmware.mes" = ["0x00000083", "0x83"]'
printf '[[rule]]\nid = "t.multi"\nseverity = "warning"\ntitle = "t"\nlinks = ["https://example.org"]\nfix = """\nfirst\n  indented\n"""\nwhen = { "kernel.release" = ">= 6.18" }\n' >"$tmp/multi.toml"
run "$HALO_CHECK" explain --rules "$tmp/multi.toml" t.multi
expect_out "$(printf '  fix:      first\n              indented')"

# rules validate: a glob that was meant as a comparison.
printf '[[rule]]\nid = "t.glob"\nseverity = "warning"\ntitle = "t"\nfix = "f"\nlinks = ["https://example.org"]\nwhen = { "kernel.release" = "=> 6.18" }\n' >"$tmp/glob.toml"
run "$HALO_CHECK" rules validate "$tmp/glob.toml"
expect_rc 0
expect_err 'is a glob that can never match a version; did you mean ">= 6.18"?'

# One rule for where state lives: status and diff read the same directory, the configuration's
# [daemon] state_dir first, then $XDG_STATE_HOME/halo-check (as halo-checkd).
mkdir -p "$XDG_CONFIG_HOME/halo-check"
printf '[engine]\ncommand = ["llama-server"]\n[daemon]\nstate_dir = "%s"\n' "$tmp/st" >"$XDG_CONFIG_HOME/halo-check/config.toml"
run "$HALO_CHECK" status
expect_err "'$tmp/st/state.json'"
run "$HALO_CHECK" diff
expect_err "'$tmp/st/last-known-good.toml'"
rm "$XDG_CONFIG_HOME/halo-check/config.toml"
XDG_STATE_HOME="$tmp/xs" run "$HALO_CHECK" status
expect_err "'$tmp/xs/halo-check/state.json'"
XDG_STATE_HOME="$tmp/xs" run "$HALO_CHECK" diff
expect_err "'$tmp/xs/halo-check/last-known-good.toml'"

# facts names the machine it describes.
run "$HALO_CHECK" facts --only os
expect_out "host = '$(hostname)'"

# probes: what is read, in words a user knows, not our call names.
run "$HALO_CHECK" probes
expect_no_out "drmGetDevices2"
expect_no_out "vkCreateInstance"
expect_no_out "rpm_library()"
done_ok
