#!/bin/bash
# halo-checkd supervising a real process that speaks llama-server's protocol (the fake engine):
# launch on an ok verdict, the smoke test figures, restart after SIGKILL, graceful stop (the
# engine gone with the daemon), and `halo-check status/stop/start/restart` over the control
# channel.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"

write_config normal
start_daemon "$DATA/facts/ok-vulkan-radv.toml"
wait_for ready
grep -q '"status": "engine ready: fake-llama (vulkan-radv) · verdict ok"' "$STATE/state.json" || fail "status line"
pid1=$(engine_pid)
[ -n "$pid1" ] && kill -0 "$pid1" || fail "no engine pid"
# The process group is the engine's own.
[ "$(ps -o pgid= -p "$pid1" | tr -d ' ')" = "$pid1" ] || fail "engine is not its own process group leader"
# Smoke test figures from usage/timings.
for _ in $(seq 50); do grep -q '"completion_tokens": 10' "$STATE/state.json" && break; sleep 0.05; done
grep -q '"predicted_per_second": 40' "$STATE/state.json" || fail "smoke figures not recorded"
grep -q '"smoke_last_good": {' "$STATE/state.json" || fail "no last-known-good smoke figures"
pass "launch on ok verdict, ready, smoke figures"

"$CHECK" status --state-dir "$STATE" > "$T/status.txt" || fail "halo-check status failed"
grep -q "engine:      fake-llama ready" "$T/status.txt" || { cat "$T/status.txt"; fail "status text"; }
grep -q "generation 40.0 t/s" "$T/status.txt" || fail "status smoke figures"
pass "halo-check status"

# SIGKILL of the engine → backoff → a new engine, ready again.
kill -KILL "$pid1"
wait_new_ready "$pid1"
pid2=$(engine_pid)
[ "$pid2" != "$pid1" ] || fail "engine pid did not change after SIGKILL"
grep -q 'killed by SIGKILL' "$STATE/state.json" || fail "restart reason not recorded"
pass "restart after SIGKILL ($pid1 → $pid2)"

# Control channel: stop, start, restart.
"$CHECK" stop --state-dir "$STATE" >/dev/null || fail "halo-check stop"
for _ in $(seq 100); do grep -q '"user_stopped": true' "$STATE/state.json" && [ "$(engine_state)" = stopped ] && break; sleep 0.05; done
wait_for stopped
wait_gone "$pid2" || fail "engine $pid2 still alive after halo-check stop"
grep -q '"user_stopped": true' "$STATE/state.json" || fail "user_stopped not recorded"
"$CHECK" start --state-dir "$STATE" >/dev/null || fail "halo-check start"
wait_for ready
pid3=$(engine_pid)
"$CHECK" restart --state-dir "$STATE" >/dev/null || fail "halo-check restart"
wait_new_ready "$pid3"
wait_gone "$pid3" || fail "old engine survived restart"
pass "halo-check stop/start/restart"

# Graceful stop: SIGTERM to the daemon stops the engine (it logs its clean-up line), exit 0.
pid4=$(engine_pid)
stop_daemon || fail "halo-checkd exit code $? after SIGTERM"
kill -0 "$pid4" 2>/dev/null && fail "engine $pid4 survived the daemon's graceful stop"
grep -q 'cleaning up before exit' "$T/daemon.log" || fail "engine was not stopped with SIGTERM (no clean-up line)"
grep -q '"state": "stopped"' "$STATE/state.json" || fail "final state not stopped"
pass "graceful stop"
