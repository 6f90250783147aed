#!/bin/bash
# halo-checkd following a real journal: .journal files made by systemd-journal-remote from export
# text holding the verbatim amdgpu lines of tests/data/logs/. Asserts the match, the coalescing
# (500 page-fault lines → one event, count 500), the version correlation (MES 0x83 facts →
# log.mes-hang-firmware-20251125), one coalesced notification in a real dunst, and that a GPU
# reset while the (fake) engine runs marks it unhealthy.
set -u
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
W=$T
. "$HALO_SOURCE_DIR/tests/support/desktop.sh"
desktop_need
JR=/lib/systemd/systemd-journal-remote
[ -x "$JR" ] || { echo "skip: $JR missing (apt install systemd-journal-remote)"; exit 77; }
command -v rpm >/dev/null || { echo "skip: rpm is not installed (apt install rpm)"; exit 77; }
trap 'desktop_stop; cleanup' EXIT
desktop_start || fail "could not start dbus-daemon/Xvfb/dunst"

LOGS="$DATA/logs"
BOOT=0123456789abcdef0123456789abcdef
# export_lines FILE...: journal export text, one kernel entry per non-comment line, 1 ms apart.
export_lines() {
    local now; now=$(date +%s%6N)
    grep -hv '^#' "$@" | while IFS= read -r line; do
        now=$((now + 1000))
        printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=%s\n_TRANSPORT=kernel\nSYSLOG_IDENTIFIER=kernel\nPRIORITY=3\n_HOSTNAME=fixture\nMESSAGE=%s\n\n' \
            "$now" "$now" "$BOOT" "$line"
    done
}
make_root() {
    R="$T/root-$1"
    "$HALO_SOURCE_DIR/tests/support/make_fixture_root.sh" "$1" "$R" || fail "make_fixture_root $1"
    mkdir -p "$R/etc/halo-check"
    engine_files_in_root "$R" || fail "engine files in $R"
    cat > "$R/etc/halo-check/config.toml" <<EOC
[engine]
name = "fake-llama"
container = "$2"
command = ["$FAKE", "--host", "127.0.0.1", "--port", "$PORT", "-m", "$T/model.gguf"]
liveness_interval = "300ms"
liveness_failures = 2
stop_timeout = "1s"
[engine.env]
FAKE_LLAMA_LOAD_MS = "100"
[daemon]
watch = false
EOC
}
sj() { python3 -c "import json,sys; j=json.load(open('$STATE/state.json')); print($1)" 2>/dev/null; }
wait_until() {
    local limit="$1" expr="$2" i=0
    while [ "$i" -lt $((limit * 20)) ]; do
        [ "$(sj "$expr")" = True ] && return 0
        kill -0 "$DPID" 2>/dev/null || fail "halo-checkd exited"
        sleep 0.05; i=$((i + 1))
    done
    return 1
}

# ---- 1. MES 0x83 machine: attribution and coalescing ---------------------------------------
make_root strix-fedora43-fw20251125-rocm llama-rocm-7.2
{
    export_lines "$LOGS/kernel-mes-hang-rocm5745.txt"
    line=$(grep -h 'GCVM_L2_PROTECTION_FAULT_STATUS' "$LOGS/kernel-page-fault-cpf-rocm5724.txt" | head -1)
    for i in $(seq 500); do printf '%s\n' "$line"; done > "$T/faults.txt"
    export_lines "$T/faults.txt"
} > "$T/kernel.export"
"$JR" --output="$T/kernel.journal" "$T/kernel.export" 2>"$T/jr.log" || fail "journal-remote: $(cat "$T/jr.log")"
"$CHECKD" --root "$R" --config "$R/etc/halo-check/config.toml" --state-dir "$STATE" --no-dropins \
    --journal-file "$T/kernel.journal" --journal-export "$T/export" > "$T/daemon.log" 2>&1 &
DPID=$!
# The coalescing window is 5 s (of the lines' own time); the event closes at most 5 s after.
wait_until 10 "any(e['pattern'] == 'log.mes-hang-firmware-20251125' and e['attributed'] for e in j['log_events'])" \
    || fail "no attributed MES hang event: $(sj "j['log_events']")"
pass "version correlation: MES 0x83 facts → log.mes-hang-firmware-20251125"
wait_until 10 "any(e['pattern'] == 'log.page-fault-mes-0x83' and e['count'] >= 500 for e in j['log_events'])" \
    || fail "no coalesced page-fault event: $(sj "[(e['pattern'], e['count']) for e in j['log_events']]")"
n=$(sj "len([e for e in j['log_events'] if e['pattern'] == 'log.page-fault-mes-0x83'])")
[ "$n" = 1 ] || fail "page faults in $n events, want 1"
pass "coalescing: page-fault lines → one event ($(sj "[e['count'] for e in j['log_events'] if e['pattern'] == 'log.page-fault-mes-0x83'][0]") lines)"
grep -q '^MESSAGE_ID=20508c22c1bb44c298d67d99901013fb$' "$T/export" || fail "no gpu-reset journal entry"
grep -q '^HALO_RULE=log.page-fault-mes-0x83$' "$T/export" || fail "no page-fault journal entry"
pass "journal export: log events with MESSAGE_ID and HALO_RULE"
sleep 0.3
h=$(desktop_history)
[ "$(grep -c '^halo-check|' <<<"$h")" -ge 1 ] || fail "no notification: $h"
[ "$(grep -c '^halo-check|.*(5[0-9][0-9] lines)' <<<"$h")" = 1 ] || [ "$(grep -c '^halo-check|.*500' <<<"$h")" -ge 1 ] \
    || fail "no coalesced notification mentioning the count: $h"
pass "dunst: one coalesced notification for the burst"
cursor=$(sj "j['log_monitor']['cursor']")
[ -n "$cursor" ] || fail "no journal cursor in the state file"
stop_daemon || fail "halo-checkd exit status $?"
# A restart resumes after the cursor: nothing is reported twice.
ev_before=$(grep -c '^HALO_EVENT=log-pattern$\|^HALO_EVENT=gpu-reset$' "$T/export")
"$CHECKD" --root "$R" --config "$R/etc/halo-check/config.toml" --state-dir "$STATE" --no-dropins \
    --journal-file "$T/kernel.journal" --journal-export "$T/export" >> "$T/daemon.log" 2>&1 &
DPID=$!
sleep 1.5
stop_daemon || fail "second run exit status $?"
ev_after=$(grep -c '^HALO_EVENT=log-pattern$\|^HALO_EVENT=gpu-reset$' "$T/export")
[ "$ev_before" = "$ev_after" ] || fail "restart re-reported log events ($ev_before → $ev_after)"
pass "restart: the persisted cursor keeps old lines from being reported again"

# ---- 2. a GPU reset while the engine runs -----------------------------------------------------
rm -rf "$STATE"; : > "$T/export"
make_root strix-fedora43-good llama-vulkan-radv
mkdir "$T/jdir"
"$CHECKD" --root "$R" --config "$R/etc/halo-check/config.toml" --state-dir "$STATE" --no-dropins \
    --journal-dir "$T/jdir" --journal-export "$T/export" > "$T/daemon.log" 2>&1 &
DPID=$!
wait_for ready 10
printf 'amdgpu 0000:c1:00.0: amdgpu: GPU reset begin!\n' > "$T/reset.txt"
export_lines "$T/reset.txt" | "$JR" --output="$T/jdir/reset.journal" - 2>"$T/jr.log" || fail "journal-remote: $(cat "$T/jr.log")"
i=0
until grep -q '^HALO_ENGINE_STATE=unhealthy$' "$T/export"; do
    [ $i -ge 200 ] && fail "engine not marked unhealthy within 10 s of the GPU reset"
    sleep 0.05; i=$((i + 1))
done
pass "GPU reset while the engine runs: engine marked unhealthy"
grep -q "marked unhealthy: GPU reset" "$T/daemon.log" || fail "no 'marked unhealthy' line"
# The fake engine still answers: the health check keeps it (ready again, same process).
wait_for ready 5
pass "health check decided: the engine answers, kept"
stop_daemon || fail "exit status $?"
exit 0
