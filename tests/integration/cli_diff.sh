#!/bin/bash
# `halo-check diff`: two files, one file against a probed fixture root, the last known good from
# --state-dir, JSON, exit codes (0 same, 1 changed, 3 cannot read) and damaged input.
set -u
data="$HALO_SOURCE_DIR/tests/data"
good="$data/facts/ok-vulkan-radv.toml"
broken="$data/facts/broken-kernel-6.18.5-rocm-7.1.1.toml"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; shift; [ $# -gt 0 ] && printf '%s\n' "$@"; fail=1; }

out=$("$HALO_CHECK" diff "$good" "$broken"); rc=$?
if [ $rc -eq 1 ] && grep -qx '  kernel.release 6.18.9-200.fc43.x86_64 → 6.18.5-200.fc43.x86_64' <<<"$out" \
   && ! grep -q 'boot.initramfs.mtime' <<<"$out" && grep -q 'not shown; --all shows them' <<<"$out"; then
    ok "two files: changed keys, volatile ones counted but not shown, exit 1"
else
    bad "two files" "rc=$rc" "$out"
fi
out=$("$HALO_CHECK" diff --all "$good" "$broken"); rc=$?
if [ $rc -eq 1 ] && grep -q '  boot.initramfs.mtime ' <<<"$out"; then ok "--all shows volatile keys"; else bad "--all" "$out"; fi

out=$("$HALO_CHECK" diff "$good" "$data/facts/ok-vulkan-radv.json"); rc=$?
if [ $rc -eq 0 ] && grep -qx 'No changes' <<<"$out"; then ok "TOML and JSON of the same facts: no changes, exit 0"; else bad "same" "rc=$rc" "$out"; fi

out=$("$HALO_CHECK" diff --json "$good" "$broken"); rc=$?
if [ $rc -eq 1 ] && python3 -c '
import json, sys
d = json.load(sys.stdin)
k = [c for c in d["changes"] if c["key"] == "kernel.release"][0]
assert k == {"key": "kernel.release", "kind": "changed", "old": "6.18.9-200.fc43.x86_64", "new": "6.18.5-200.fc43.x86_64"}, k
assert d["ignored"] > 0 and d["a"]["origin"].endswith("ok-vulkan-radv.toml")
assert any(c["kind"] == "added" and c["old"] is None for c in d["changes"])
' <<<"$out"; then ok "--json"; else bad "--json" "$out"; fi

# The last known good, as the daemon stores it (header line + facts file), against a probed root.
mkdir "$W/state"
{ echo "# halo-check last known good, recorded 2026-01-12T08:54:03Z"; cat "$broken"; } >"$W/state/last-known-good.toml"
out=$("$HALO_CHECK" diff --state-dir "$W/state" --root "$data/hosts/strix-fedora43-good" --only os,kernel 2>&1); rc=$?
if [ $rc -eq 1 ] && grep -q '^last known good (recorded 2026-01-12T08:54:03Z) → this machine now' <<<"$out" \
   && grep -q '  kernel.release 6.18.5-200.fc43.x86_64 → 6.18.9-200.fc43.x86_64' <<<"$out"; then
    ok "last known good against a probed fixture root"
else
    bad "last known good" "rc=$rc" "$out"
fi

# Damaged or missing input: exit 3 and the path in the message.
printf '[facts]\n"kernel.release" = "6.18' >"$W/state/last-known-good.toml"
out=$("$HALO_CHECK" diff --state-dir "$W/state" 2>&1); rc=$?
if [ $rc -eq 3 ] && grep -q "$W/state/last-known-good.toml:" <<<"$out"; then ok "damaged last known good: exit 3 with path"; else bad "damaged" "rc=$rc" "$out"; fi
out=$("$HALO_CHECK" diff --state-dir "$W/empty" 2>&1); rc=$?
if [ $rc -eq 3 ] && grep -q "No last known good facts recorded yet" <<<"$out"; then ok "none recorded: exit 3"; else bad "none" "rc=$rc" "$out"; fi
head -c 4096 /dev/urandom >"$W/garbage"
out=$("$HALO_CHECK" diff "$W/garbage" "$good" 2>&1); rc=$?
if [ $rc -eq 3 ] && grep -q "$W/garbage" <<<"$out"; then ok "garbage file: exit 3 with path"; else bad "garbage" "rc=$rc" "$out"; fi

# Three or more files, one per node: the matrix of facts that differ, a column per node named by
# its host (the file's name when hosts repeat), exit 1; the same facts on every node: exit 0.
sed 's/^host = .*/host = "halo-a"/' "$good" >"$W/a.toml"
sed 's/^host = .*/host = "halo-b"/' "$good" >"$W/b.toml"
sed -e 's/^host = .*/host = "halo-c"/' -e '0,/^"kernel.release" = .*/s//"kernel.release" = "6.18.5-200.fc43.x86_64"/' \
    -e '0,/^"container.llama-vulkan-radv.image.digest" = .*/s//"container.llama-vulkan-radv.image.digest" = "sha256:0000"/' \
    "$good" >"$W/c.toml"
grep -q '^"kernel.release"' "$W/c.toml" && grep -q 'sha256:0000' "$W/c.toml" || bad "fixture edit" "$(grep -n 'kernel.release\|image.digest' "$good")"
out=$("$HALO_CHECK" diff "$W/a.toml" "$W/b.toml" "$W/c.toml"); rc=$?
if [ $rc -eq 1 ] && grep -Eq '^fact +halo-a +halo-b +halo-c$' <<<"$out" \
   && grep -Eq '^kernel.release +6.18.9-200.fc43.x86_64 +6.18.9-200.fc43.x86_64 +6.18.5-200.fc43.x86_64$' <<<"$out" \
   && grep -Eq '^container.llama-vulkan-radv.image.digest +sha256:ceb9[0-9a-f]+ +sha256:ceb9[0-9a-f]+ +sha256:0000$' <<<"$out" \
   && grep -qx '2 facts differ between the 3 nodes' <<<"$out"; then
    ok "three files: the matrix of facts that differ, one column per node"
else
    bad "three files" "rc=$rc" "$out"
fi
out=$("$HALO_CHECK" diff "$W/a.toml" "$W/b.toml" "$W/a.toml" "$good"); rc=$?
if [ $rc -eq 0 ] && grep -qx 'The 4 nodes. facts are the same' <<<"$out"; then ok "four files, same facts: exit 0"; else bad "same fleet" "rc=$rc" "$out"; fi
out=$("$HALO_CHECK" diff --json "$W/a.toml" "$W/b.toml" "$W/c.toml"); rc=$?
if [ $rc -eq 1 ] && python3 -c '
import json, sys
d = json.load(sys.stdin)
assert [n["name"] for n in d["nodes"]] == ["halo-a", "halo-b", "halo-c"], d["nodes"]
rows = {r["key"]: r["values"] for r in d["differ"]}
assert rows["kernel.release"] == ["6.18.9-200.fc43.x86_64", "6.18.9-200.fc43.x86_64", "6.18.5-200.fc43.x86_64"], rows
assert len(rows) == 2, rows
' <<<"$out"; then ok "three files --json: nodes and the differing keys"; else bad "three files --json" "rc=$rc" "$out"; fi
out=$("$HALO_CHECK" diff "$W/a.toml" "$W/b.toml" "$W/garbage" 2>&1); rc=$?
if [ $rc -eq 3 ] && grep -q "$W/garbage" <<<"$out"; then ok "three files, one unreadable: exit 3 with path"; else bad "fleet garbage" "rc=$rc" "$out"; fi
exit $fail
