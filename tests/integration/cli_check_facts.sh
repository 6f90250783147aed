#!/usr/bin/env bash
# halo-check check --facts: every facts fixture gives the verdict and exit code written at its top,
# in text and JSON; bad input exits 3 naming file, line and column; --fail-on and --strict.
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
cd "$DATA/facts"
export NO_COLOR=1 XDG_CONFIG_HOME=$(mktemp -d)

for f in *.toml *.json; do
    # The first line of the TOML twin says "Expected: verdict X, exit N".
    twin="${f%.*}.toml"
    expected=$(head -n1 "$twin" | sed -n 's/.*exit \([0-3]\).*/\1/p')
    verdict=$(head -n1 "$twin" | sed -n 's/.*verdict \([A-Z]*\).*/\1/p' | tr 'A-Z' 'a-z')
    [ -n "$expected" ] || fail "$f: no 'exit N' in its first line"
    run "$HALO_CHECK" check --facts "$f"
    expect_rc "$expected" "$f"
    expect_out "halo-check: ${verdict^^}"
    run "$HALO_CHECK" check --facts "$f" --json
    expect_rc "$expected" "$f --json"
    expect_json 'j["verdict"]' "$verdict"
    expect_json 'j["exit_code"]' "$expected"
    # Every rule id named in the header as a finding is in the JSON findings.
    for id in $(head -n3 "$twin" | grep -o '[a-z0-9-]*\.[a-z0-9.-]*[a-z0-9] (\(broken\|warning\|info\))' | cut -d' ' -f1); do
        expect_json "'$id' in [x['id'] for x in j['findings']]" True
    done
done

# The broken fixture names the firmware rule with the facts that matched, the fix and the links.
run "$HALO_CHECK" check --facts broken-fw-20251125-rocm.toml --json
expect_json '[x["matched"] for x in j["findings"] if x["id"]=="firmware.linux-firmware-20251125-rocm"][0]["package.linux-firmware.version"]' 20251125
expect_json 'all(x["fix"] and x["links"] for x in j["findings"] if x["severity"]!="info")' True
# The default report is short (title, evidence, fix); -v adds why and the links.
run "$HALO_CHECK" check --facts broken-fw-20251125-rocm.toml
expect_out "because: "
expect_out "fix:"
expect_no_out "see:     https://"
run "$HALO_CHECK" check --facts broken-fw-20251125-rocm.toml -v
expect_out "why:     "
expect_out "see:     https://"

# Undecided: the broken rule that waits on unknown facts is named with the reason.
run "$HALO_CHECK" check --facts undecided-gpu-unknown.toml --json
expect_json '[u["id"] for u in j["undecided"]].count("firmware.mes-0x83-rocm")' 1
expect_json 'list(j["undecided"][0]["unknown"].keys())[0]' 'gpu.*.firmware.mes'
run "$HALO_CHECK" check --facts undecided-gpu-unknown.toml
expect_out "UNDECIDED firmware.mes-0x83-rocm (would be broken)"
expect_out "Permission denied"

# --fail-on broken lets warnings pass; broken still fails.
run "$HALO_CHECK" check --facts warning-ctx-200k.toml --fail-on broken
expect_rc 0
expect_out "halo-check: WARNING"
run "$HALO_CHECK" check --facts broken-fw-20251125-rocm.toml --fail-on broken
expect_rc 2

# --strict: a machine no known-good entry covers is an untested combination.
tmp=$(mktemp -d)
printf '[facts]\n"host.os.id" = "arch"\n"engine.backend" = "cpu"\n"gpu.0.pci.vendor" = "0x1002"\n' > "$tmp/bare.toml"
# Without any probe's status the file says nothing about what it lacks: undecided, never OK.
run "$HALO_CHECK" check --facts "$tmp/bare.toml"
expect_rc 1
expect_out "carries no status for the engine probe"
cp "$tmp/bare.toml" "$tmp/untested.toml"
for p in os memory kernel boot packages drm kfd vulkan containers engine; do
    printf '[probes.%s]\nstatus = "ok"\n' "$p" >> "$tmp/untested.toml"
done
run "$HALO_CHECK" check --facts "$tmp/untested.toml"
expect_rc 0
# The same machine without its AMD GPU cannot run the stack: UNKNOWN, unless told otherwise.
grep -v 'gpu.0.pci.vendor' "$tmp/untested.toml" > "$tmp/nogpu.toml"
run "$HALO_CHECK" check --facts "$tmp/nogpu.toml"
expect_rc 3
expect_out "no Strix Halo GPU found"
run "$HALO_CHECK" check --facts "$tmp/nogpu.toml" --no-gpu-ok
expect_rc 0
run "$HALO_CHECK" check --facts "$tmp/untested.toml" --strict --json
expect_rc 1
expect_json 'j["untested"]' True
expect_json 'j["known_good"]' None
run "$HALO_CHECK" check --facts ok-vulkan-radv.toml --strict
expect_rc 0
expect_out "KNOWN-GOOD known-good.vulkan-radv-fedora"

# Bad facts: exit 3 with file:line:col.
run "$HALO_CHECK" check --facts bad/malformed.toml
expect_rc 3
expect_err "halo-check: error: bad/malformed.toml:"
run "$HALO_CHECK" check --facts bad/malformed.json
expect_rc 3
expect_err "halo-check: error: bad/malformed.json:"
run "$HALO_CHECK" check --facts bad/table-value.toml
expect_rc 3
expect_err "must be a string, number or boolean"
run "$HALO_CHECK" check --facts "$tmp/missing.toml"
expect_rc 3
expect_err "Failed to read facts file '$tmp/missing.toml': No such file or directory"
head -c 4096 /dev/urandom > "$tmp/random.bin"
run "$HALO_CHECK" check --facts "$tmp/random.bin"
expect_rc 3

# Colour only on a terminal and never with NO_COLOR.
run "$HALO_CHECK" check --facts broken-fw-20251125-rocm.toml
expect_no_out $'\e['
if command -v script >/dev/null; then
    out=$(env -u NO_COLOR TERM=xterm script -qec "'$HALO_CHECK' check --facts broken-fw-20251125-rocm.toml" /dev/null)
    grep -q $'\e\[' <<<"$out" || fail "no colour on a terminal"
    out=$(NO_COLOR=1 TERM=xterm script -qec "'$HALO_CHECK' check --facts broken-fw-20251125-rocm.toml" /dev/null)
    ! grep -q $'\e\[' <<<"$out" || fail "colour despite NO_COLOR"
    checks=$((checks + 2))
fi
rm -rf "$tmp"
done_ok
