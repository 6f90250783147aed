#!/bin/bash
# A state.json the daemon cannot use never keeps it from starting: a field of another type, a FIFO
# (which would hang a blocking open) and a symlink to /dev/zero (which would flood memory) are each
# logged, set aside as state.json.bad-<time>, and the daemon comes up READY with a fresh state,
# pinging the watchdog all along.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
write_config normal

# up_with_state: runs the daemon under a watchdog socket until READY=1, then stops it.
up_with_state() {
    local what="$1"
    "$HELPERS/notify_listener" "$T/notify.sock" 400000 -- \
        "$CHECKD" --config "$T/config.toml" --facts "$DATA/facts/ok-vulkan-radv.toml" --state-dir "$STATE" \
        --no-dropins > "$T/notify.log" 2> "$T/daemon.log" &
    LPID=$!
    for _ in $(seq 200); do grep -q ' READY=1$' "$T/notify.log" 2>/dev/null && break; sleep 0.05; done
    DPID=$(sed -n 's/^+[0-9]* \([0-9]*\) READY=1$/\1/p' "$T/notify.log")
    [ -n "$DPID" ] || { kill -KILL "$LPID" 2>/dev/null; cat "$T/notify.log"; fail "$what: no READY=1"; }
    sleep 0.5
    echo "$(engine_pid)" >> "$T/engine-pids"
    kill -TERM "$DPID"; wait "$LPID"; local rc=$?; DPID=""
    [ "$rc" = 0 ] || fail "$what: halo-checkd exit code $rc"
    gap=$(grep ' WATCHDOG=1$' "$T/notify.log" | awk '{t=substr($1,2)+0; if (NR>1 && t-p>m) m=t-p; p=t} END {print m+0}')
    [ "$gap" -lt 400 ] || fail "$what: watchdog gap ${gap} ms ≥ WATCHDOG_USEC"
    grep -q "Failed to read state file.*set aside as '$STATE/state.json.bad-" "$T/daemon.log" \
        || fail "$what: not logged as set aside"
    grep -q '"engine"' "$STATE/state.json" || fail "$what: no fresh state.json written"
}

mkdir -p "$STATE"
echo '{"log_monitor":{"cursor":1}}' > "$STATE/state.json"
up_with_state "mistyped field"
aside=$(ls "$STATE"/state.json.bad-*) || fail "mistyped state not set aside"
grep -q '"cursor":1' "$aside" || fail "the set-aside file is not the old state"
grep -q 'type_error' "$T/daemon.log" || fail "the log does not say what was wrong"
pass "mistyped state.json → logged, set aside, fresh start"

rm -f "$STATE"/state.json*
mkfifo "$STATE/state.json"
up_with_state "FIFO"
[ -p "$(ls "$STATE"/state.json.bad-*)" ] || fail "the FIFO was not set aside"
grep -q 'not a regular file' "$T/daemon.log" || fail "FIFO: the log does not say why"
pass "FIFO as state.json → no hang, set aside, READY"

rm -f "$STATE"/state.json*
ln -s /dev/zero "$STATE/state.json"
up_with_state "/dev/zero"
[ -L "$(ls "$STATE"/state.json.bad-*)" ] || fail "the /dev/zero link was not set aside"
pass "symlink to /dev/zero as state.json → not followed, set aside, READY"
