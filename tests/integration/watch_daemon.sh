#!/bin/bash
# halo-checkd watching a machine with real parts: a fixture root copy with a real rpmdb, the fake
# engine, a private dbus-daemon + Xvfb + dunst. While the daemon runs:
#  1. `rpm --root … -U` installs linux-firmware 20251125 → the after-reboot view turns broken
#     (state file, journal export with MESSAGE_ID/HALO_RULE, dunst history with the diff against
#     the last known good configuration);
#  2. a re-created toolbox (podman's containers.json rewritten) → a re-check with the new facts;
#  3. (second daemon, the nextboot fixture) a new BLS entry made the default → 6.18.5 will boot
#     under llama-rocm-7.1.1 → after-reboot broken naming the kernel rule;
#  4. then, with the after-reboot view already broken, linux-firmware 20251125 installed too: a
#     second, independent breakage under the first is news (journal and dunst), not silence.
# HALO_SCREENSHOT_OUT=FILE keeps a screenshot of the after-reboot notification.
set -u
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
W=$T
. "$HALO_SOURCE_DIR/tests/support/desktop.sh"
desktop_need
for tool in rpm rpmbuild; do command -v "$tool" >/dev/null || { echo "skip: $tool is not installed (apt install rpm)"; exit 77; }; done
old_cleanup() { :; }
trap 'desktop_stop; cleanup' EXIT
desktop_start || fail "could not start dbus-daemon/Xvfb/dunst: $(cat "$W/xvfb.log" "$W/dunst.log" 2>/dev/null)"

QUIET=2 # [daemon] watch_quiet, seconds; every wait below is QUIET + 4 s at most
LIMIT=$((QUIET + 4))

# make_root HOST CONTAINER: a fixture copy whose config runs the fake engine "in" CONTAINER.
make_root() {
    local host="$1" container="$2"
    R="$T/root-$host"
    "$HALO_SOURCE_DIR/tests/support/make_fixture_root.sh" "$host" "$R" || fail "make_fixture_root $host"
    mkdir -p "$R/etc/halo-check"
    engine_files_in_root "$R" || fail "engine files in $R"
    cat > "$R/etc/halo-check/config.toml" <<EOC
[engine]
name = "fake-llama"
container = "$container"
command = ["$FAKE", "--host", "127.0.0.1", "--port", "$PORT", "-m", "$T/model.gguf", "--alias", "test-model"]
liveness_interval = "200ms"
ready_timeout = "5s"
stop_timeout = "1s"
smoke_timeout = "2s"
[engine.env]
FAKE_LLAMA_LOAD_MS = "100"
[daemon]
last_known_good_after = "1s"
watch_quiet = "${QUIET}s"
EOC
}

# xdg-open would start a browser or editor, which this machine has none of: the one on PATH records
# what the daemon asked it to open, so "Show details" is exercised from dunst to the spawned program.
mkdir -p "$T/opener"
cat > "$T/opener/xdg-open" <<EOS
#!/bin/sh
printf '%s\n' "\$1" >> "$T/opened"
EOS
chmod +x "$T/opener/xdg-open"

start_watch_daemon() {
    PATH="$T/opener:$PATH" "$CHECKD" --root "$R" --config "$R/etc/halo-check/config.toml" --state-dir "$STATE" --no-dropins --no-journal \
        --journal-export "$T/export" > "$T/daemon.log" 2>&1 &
    DPID=$!
}

# jq-free JSON queries on the state file.
sj() { python3 -c "import json,sys; j=json.load(open('$STATE/state.json')); print($1)" 2>/dev/null; }
wait_until() { # wait_until SECONDS PYTHON_EXPR (true when it prints True)
    local limit="$1" expr="$2" i=0
    while [ "$i" -lt $((limit * 20)) ]; do
        [ "$(sj "$expr")" = True ] && return 0
        kill -0 "$DPID" 2>/dev/null || fail "halo-checkd exited"
        sleep 0.05; i=$((i + 1))
    done
    return 1
}

# ---- 1. a firmware package installed with rpm -------------------------------------------------
make_root strix-fedora43-good llama-rocm-7.2
start_watch_daemon
wait_for ready 10
wait_until 5 "j['last_known_good'] is not None" || fail "no last known good recorded within 5 s (last_known_good_after = 1s)"
[ -s "$STATE/last-known-good.toml" ] || fail "last-known-good.toml missing"
pass "engine ready, last known good recorded"
[ "$(sj "j['next_boot']['verdict']")" = ok ] || fail "after-reboot view not ok at the start"
desktop_history >/dev/null

rpmfile=$("$HALO_SOURCE_DIR/tests/support/make_rpm.sh" "$T/rpms" linux-firmware 20251125 1.fc43) || fail "make_rpm"
rpm --root "$R" --dbpath /usr/lib/sysimage/rpm -U --justdb --nodeps --oldpackage --nosignature "$rpmfile" || fail "rpm -U"
t0=$(date +%s%N)
wait_until $LIMIT "j['next_boot']['verdict'] == 'broken' and any(f['id'] == 'firmware.linux-firmware-20251125-rocm' for f in j['next_boot']['findings'])" \
    || fail "after-reboot view not broken by firmware.linux-firmware-20251125-rocm within ${LIMIT}s"
echo "note: after-reboot verdict in the state file $(( ($(date +%s%N) - t0) / 1000000 )) ms after rpm -U"
pass "state file: after-reboot broken, firmware.linux-firmware-20251125-rocm"
[ "$(engine_state)" = ready ] || fail "the running engine was touched (stop_on_refusal is false)"
pass "healthy engine kept running"

python3 - "$T/export" <<'PY' || fail "journal export lacks the next-boot-changed entry"
import sys
entries = open(sys.argv[1], "rb").read().split(b"\n\n")
ok = [e for e in entries if b"MESSAGE_ID=ceb1df9571b74748b43d1b1c60485666\n" in e
      and b"HALO_RULE=firmware.linux-firmware-20251125-rocm\n" in e and b"HALO_VERDICT=broken\n" in e
      and b"HALO_EVENT=next-boot-changed\n" in e]
sys.exit(0 if ok else 1)
PY
pass "journal export: next-boot-changed with MESSAGE_ID, HALO_RULE, HALO_VERDICT"
grep -q "^HALO_EVENT=system-changed$" "$T/export" || fail "no system-changed entry"

sleep 0.3
# "Show details": dunst invokes the notification's default action on the daemon's bus connection.
dunstctl action 0
for _ in $(seq 100); do [ -s "$T/opened" ] && break; sleep 0.05; done
[ "$(cat "$T/opened" 2>/dev/null)" = "$STATE/report.txt" ] || fail "Show details did not open $STATE/report.txt: $(cat "$T/opened" 2>/dev/null) $(tail -5 "$T/daemon.log")"
grep -q 'firmware.linux-firmware-20251125-rocm' "$STATE/report.txt" || fail "the details report lacks the rule"
sleep 0.3
zombies=$(ps -o stat= --ppid "$DPID" | grep -c '^Z' || true)
[ "$zombies" = 0 ] || fail "the daemon left $zombies unreaped xdg-open process(es)"
pass "Show details: dunst's action opened the report with xdg-open, reaped"
h=$(desktop_history)
if [ -n "${HALO_SCREENSHOT_OUT:-}" ]; then :; fi
grep -q '^halo-check|Rebooting now will break your ROCm engine (llama-rocm-7.2)|' <<<"$h" || fail "no after-reboot notification in dunst: $h"
grep '^halo-check|Rebooting now will break' <<<"$h" | grep -q 'linux-firmware 20251125' || fail "notification body lacks the cause: $h"
grep '^halo-check|Rebooting now will break' <<<"$h" | grep -q 'package.linux-firmware.version 20260110 → 20251125' \
    || fail "notification lacks the diff against the last known good: $h"
pass "dunst: after-reboot notification with the cause and the diff"

# halo-check status shows the diff against the last known good.
st=$("$CHECK" status --state-dir "$STATE") || fail "halo-check status failed"
grep -q "package.linux-firmware.version 20260110 → 20251125" <<<"$st" || fail "status lacks the last-known-good diff: $st"
pass "halo-check status: changed since last known good"

# ---- 2. the toolbox re-created (the refresh script) ---------------------------------------------
cj="$R/home/user/.local/share/containers/storage/overlay-containers/containers.json"
python3 - "$cj" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for c in d:
    if "llama-rocm-7.2" in c["names"]:
        c["id"] = "ab" * 32
        c["created"] = "2026-05-01T10:00:00.00Z"
tmp = sys.argv[1] + ".tmp"
json.dump(d, open(tmp, "w"))
import os; os.rename(tmp, sys.argv[1])
PY
wait_until $LIMIT "any(l.startswith('container.llama-rocm-7.2.id ') and l.endswith('ab' * 32) for l in j['changes']['lines'])" \
    || fail "no re-check with the new container id within ${LIMIT}s: $(sj "j['changes']")"
grep -q "HALO_CATEGORIES=containers" "$T/export" || fail "no system-changed entry for containers"
pass "re-created container: re-checked, state shows the new container facts"
stop_daemon || fail "halo-checkd exit status $?"

# ---- 3. a new BLS entry becomes the default ------------------------------------------------------
rm -rf "$STATE"; : > "$T/export"
make_root strix-fedora43-nextboot-broken llama-rocm-7.1.1
entry=3f2a9c61d0b84e5f9a7c2b1e6d4f8a90-6.18.5-200.fc43.x86_64
mv "$R/boot/loader/entries/$entry.conf" "$T/$entry.conf"
sed -i "s/^saved_entry=.*/saved_entry=3f2a9c61d0b84e5f9a7c2b1e6d4f8a90-6.18.3-200.fc43.x86_64/" "$R/boot/grub2/grubenv"
start_watch_daemon
wait_for ready 10
[ "$(sj "j['next_boot']['verdict']")" != broken ] || fail "after-reboot broken before the change: $(sj "j['next_boot']")"
cp "$T/$entry.conf" "$R/boot/loader/entries/$entry.conf"
sed -i "s/^saved_entry=.*/saved_entry=$entry/" "$R/boot/grub2/grubenv"
wait_until $LIMIT "j['next_boot']['verdict'] == 'broken' and any(f['id'] == 'rocm.kernel-6.18.4-needs-fixed-rocm' for f in j['next_boot']['findings'])" \
    || fail "new default kernel: after-reboot view not broken within ${LIMIT}s: $(sj "j['next_boot']")"
[ "$(sj "j['next_boot']['kernel']")" = 6.18.5-200.fc43.x86_64 ] || fail "next-boot kernel: $(sj "j['next_boot']['kernel']")"
pass "new BLS default 6.18.5: after-reboot broken, rocm.kernel-6.18.4-needs-fixed-rocm"
sleep 0.3
h=$(desktop_history)
grep -q '^halo-check|Rebooting now will break your ROCm engine (llama-rocm-7.1.1)|Kernel 6.18.5-200.fc43 will start' <<<"$h" \
    || fail "no kernel after-reboot notification: $h"
pass "dunst: 'Rebooting now will break your ROCm engine (llama-rocm-7.1.1)'"

# ---- 4. a new breakage under the old one ---------------------------------------------------------
rpm --root "$R" --dbpath /usr/lib/sysimage/rpm -U --justdb --nodeps --oldpackage --nosignature "$rpmfile" || fail "rpm -U (nextboot host)"
wait_until $LIMIT "any(f['id'] == 'firmware.linux-firmware-20251125-rocm' for f in j['next_boot']['findings'])" \
    || fail "firmware 20251125 under the kernel breakage: not in the after-reboot findings within ${LIMIT}s: $(sj "j['next_boot']")"
[ "$(sj "j['next_boot']['verdict']")" = broken ] || fail "after-reboot verdict: $(sj "j['next_boot']['verdict']")"
python3 - "$T/export" <<'PY' || fail "journal export lacks the new-finding entry: $(grep -a '^MESSAGE=' "$T/export" | tail -5)"
import sys
entries = open(sys.argv[1], "rb").read().split(b"\n\n")
ok = [e for e in entries if b"HALO_EVENT=next-boot-changed\n" in e
      and b"HALO_RULE=firmware.linux-firmware-20251125-rocm\n" in e
      and b"MESSAGE=New finding after a reboot, verdict still broken: firmware.linux-firmware-20251125-rocm" in e]
sys.exit(0 if ok else 1)
PY
pass "journal: 'New finding after a reboot, verdict still broken: firmware.linux-firmware-20251125-rocm'"
sleep 0.3
h=$(desktop_history)
grep '^halo-check|Rebooting now will break your ROCm engine (llama-rocm-7.1.1)|' <<<"$h" |
    grep -q 'linux-firmware 20251125 breaks ROCm on Strix Halo' || fail "no notification naming the new breakage: $h"
pass "dunst: the after-reboot notification now leads with the new breakage"
stop_daemon || fail "halo-checkd exit status $?"
exit 0
