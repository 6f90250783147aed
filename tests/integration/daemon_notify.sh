#!/bin/bash
# The real sd_notify protocol: notify_listener binds an AF_UNIX datagram socket (as systemd does
# for Type=notify), runs the real halo-checkd with NOTIFY_SOCKET, WATCHDOG_USEC=400000 and
# WATCHDOG_PID, and records every datagram. Asserts READY=1 after the first evaluation, STATUS=
# lines, WATCHDOG=1 pings at about half the interval while the engine idles, and STOPPING=1.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"

write_config normal
"$HELPERS/notify_listener" "$T/notify.sock" 400000 -- \
    "$CHECKD" --config "$T/config.toml" --facts "$DATA/facts/ok-vulkan-radv.toml" --state-dir "$STATE" --no-dropins \
    > "$T/notify.log" 2> "$T/daemon.log" &
LPID=$!
for _ in $(seq 200); do grep -q 'STATUS=engine ready' "$T/notify.log" 2>/dev/null && break; sleep 0.05; done
sleep 1.5 # idle with a healthy engine: only the watchdog should speak
DPID=$(sed -n 's/^+[0-9]* \([0-9]*\) READY=1$/\1/p' "$T/notify.log")
[ -n "$DPID" ] || { cat "$T/notify.log"; fail "no READY=1"; }
echo "$(engine_pid)" >> "$T/engine-pids"
DAEMON_PID=$DPID
kill -TERM "$DPID"
wait "$LPID"; rc=$?
DPID=""
cat "$T/notify.log"
[ "$rc" = 0 ] || fail "halo-checkd exit code $rc"

# READY=1 comes after the first evaluation's STATUS= (the verdict is known when we say ready).
ready_line=$(grep -n ' READY=1$' "$T/notify.log" | head -1 | cut -d: -f1)
status_line=$(grep -n ' STATUS=' "$T/notify.log" | head -1 | cut -d: -f1)
[ -n "$status_line" ] && [ "$status_line" -le "$ready_line" ] || fail "no STATUS= before READY=1"
grep -q ' STATUS=engine starting: fake-llama (vulkan-radv) · verdict ok$' "$T/notify.log" || fail "starting STATUS="
grep -q ' STATUS=engine ready: fake-llama (vulkan-radv) · verdict ok$' "$T/notify.log" || fail "ready STATUS="
# Every message comes from the daemon's own pid (NotifyAccess=main).
senders=$(awk '$2 != "exit" {print $2}' "$T/notify.log" | sort -u)
[ "$senders" = "$DAEMON_PID" ] || fail "messages from other pids: $senders"
# Watchdog: 400 ms interval → sd-event pings every 200–300 ms; over ≥1.5 s idle that is ≥4 pings,
# and no gap longer than the interval itself.
pings=$(grep -c ' WATCHDOG=1$' "$T/notify.log")
[ "$pings" -ge 4 ] || fail "only $pings WATCHDOG=1 pings"
gap=$(grep ' WATCHDOG=1$' "$T/notify.log" | awk '{t=substr($1,2)+0; if (NR>1 && t-p>m) m=t-p; p=t} END {print m+0}')
[ "$gap" -lt 400 ] || fail "watchdog gap ${gap} ms ≥ WATCHDOG_USEC"
grep -q ' STOPPING=1$' "$T/notify.log" || fail "no STOPPING=1"
stops=$(grep -c ' STOPPING=1$' "$T/notify.log")
[ "$stops" = 1 ] || fail "STOPPING=1 sent $stops times, want once"
# STOPPING=1 before the final STATUS (engine stopped) and before exit.
stop_at=$(grep -n ' STOPPING=1$' "$T/notify.log" | head -1 | cut -d: -f1)
last_status=$(grep -n 'STATUS=engine stopped' "$T/notify.log" | tail -1 | cut -d: -f1)
[ -n "$last_status" ] && [ "$stop_at" -lt "$last_status" ] || fail "STOPPING=1 not sent when shutdown began"
pass "READY=1, STATUS=, WATCHDOG=1 every ≤${gap} ms ($pings pings), STOPPING=1"
