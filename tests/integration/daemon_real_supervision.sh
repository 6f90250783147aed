#!/bin/bash
# The supervision behaviours the fake engine shows (daemon_supervision.sh, daemon_failures.sh,
# daemon_policy.sh), against the real llama-server: the control verbs, refusal on a broken
# verdict and launch after a fix, a hung engine (SIGSTOP: /health stops answering and SIGTERM
# cannot act) found by liveness and killed, repeated crashes (SIGABRT) backed off and given up,
# and no orphan after the daemon's own kill -9.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/real_lib.sh"
FACTS="$T/facts.toml"
cp "$OK_FACTS" "$FACTS"
# real_config [RESTART_MAX]
real_config() {
    cat > "$T/config.toml" <<EOC
[engine]
name = "llama-server"
command = ["$LLAMA", "--host", "127.0.0.1", "--port", "$PORT", "-m", "$MODEL", "-c", "512", "-np", "1"]
liveness_interval = "300ms"
liveness_failures = 2
stop_timeout = "1s"
smoke_timeout = "60s"
ready_timeout = "2m"
[engine.restart]
max = ${1:-5}
window = "5m"
backoff_initial = "100ms"
backoff_max = "400ms"
EOC
}

# Control verbs against the real engine.
real_config
start_daemon "$FACTS" --no-watch
wait_for ready 120
p1=$(engine_pid)
"$CHECK" stop --state-dir "$STATE" >/dev/null || fail "halo-check stop"
wait_for stopped 30
wait_gone "$p1" 10 || fail "llama-server $p1 still runs after halo-check stop"
"$CHECK" start --state-dir "$STATE" >/dev/null || fail "halo-check start"
wait_new_ready "$p1" 120
p2=$(engine_pid)
"$CHECK" restart --state-dir "$STATE" >/dev/null || fail "halo-check restart"
wait_new_ready "$p2" 120
status=$("$CHECK" status --state-dir "$STATE") || fail "halo-check status exited $?"
echo "$status" | grep -q "ready" || fail "halo-check status does not say ready: $status"
pass "halo-check stop/start/restart/status with the real engine"

# A hung engine: SIGSTOP leaves the socket open but nothing answers; liveness fails twice, the
# SIGTERM cannot be handled while stopped, and SIGKILL after stop_timeout ends it.
p3=$(engine_pid)
kill -STOP "$p3"
wait_gone "$p3" 30 || { kill -CONT "$p3"; fail "the stopped llama-server $p3 was not killed"; }
grep -q 'health checks failed in a row' "$STATE/state.json" "$T/daemon.log" || fail "the hang was not found by liveness"
grep -q 'sending SIGKILL' "$T/daemon.log" || fail "the hung engine was not escalated to SIGKILL"
wait_new_ready "$p3" 120
pass "hung llama-server (SIGSTOP) → liveness → SIGKILL → restarted"
stop_daemon || fail "daemon exit code"

# Repeated crashes: SIGABRT is a crash (last_crash), restarts back off, then the daemon gives up.
real_config 2
start_daemon "$FACTS" --no-watch
for round in 1 2 3; do
    wait_for ready 120
    p=$(engine_pid)
    kill -ABRT "$p"
    wait_gone "$p" 10 || fail "llama-server $p survived SIGABRT (round $round)"
done
wait_for given_up 30
json_has '"exit": "killed by SIGABRT' || fail "the SIGABRT was not recorded as the last crash"
grep -q 'gave up after 2 restarts' "$STATE/state.json" || fail "no give-up after 2 restarts"
n=$(grep -c 'launched as pid' "$T/daemon.log")
[ "$n" = 3 ] || fail "expected 3 launches (1 + 2 restarts), got $n"
"$CHECK" restart --state-dir "$STATE" >/dev/null || fail "halo-check restart"
wait_for ready 120
pass "SIGABRT ×3 → crash recorded, backoff, given_up; restart leaves it"
stop_daemon || fail "daemon exit code"

# Refused on a broken verdict, never launched; launched once a reload sees the fix.
real_config
cp "$DATA/facts/broken-fw-20251125-rocm.toml" "$FACTS"
start_daemon "$FACTS" --no-watch
wait_for refused 30
sleep 0.5
grep -q 'launched as pid' "$T/daemon.log" && fail "an engine was launched on a broken verdict"
cp "$OK_FACTS" "$FACTS"
kill -HUP "$DPID"
wait_for ready 120
pass "broken verdict → refused, not launched; reload after the fix → ready"

# kill -9 of the daemon: PR_SET_PDEATHSIG takes the real engine down too, and frees the port.
p4=$(engine_pid)
kill -KILL "$DPID"; wait "$DPID" 2>/dev/null; DPID=""
wait_gone "$p4" 10 || fail "llama-server $p4 orphaned after kill -9 of halo-checkd"
[ -z "$(http_status "$PORT")" ] || fail "port $PORT still answers after the engine died"
pass "no orphan after kill -9 of the daemon; the port is free"
