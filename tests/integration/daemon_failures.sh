#!/bin/bash
# halo-checkd against engines that fail: exit 1 at start (no restart loop), a model that fails to
# load, a crash with a known crash line (the state names the log pattern), repeated aborts
# (backoff, then give up), /health that stops answering, and chat that never answers (smoke test).
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
OK="$DATA/facts/ok-vulkan-radv.toml"

# exit 1 at once: failed, no restart.
write_config exit1
start_daemon "$OK"
wait_for failed
sleep 0.5
[ "$(engine_state)" = failed ] || fail "exit1 did not stay failed"
launches=$(grep -c 'launched as pid' "$T/daemon.log")
[ "$launches" = 1 ] || fail "exit1 engine launched $launches times (a restart loop)"
grep -q 'restarting will not help' "$STATE/state.json" || fail "failed reason"
grep -q 'invalid argument' "$STATE/state.json" || fail "failed reason lacks the engine's last line"
stop_daemon; pass "exit 1 early → failed, launched once"

# Model fails to load: 503 first, then exit 1 → failed.
write_config load-fail
start_daemon "$OK"
wait_for failed
grep -q 'exiting due to model loading error' "$STATE/state.json" || fail "load-fail reason"
stop_daemon; pass "model load failure → failed"

# A known crash line, then SIGABRT: the state names the log pattern, then it restarts.
write_config crash-line
RESTART_MAX=5 write_config crash-line
start_daemon "$OK"
wait_for ready
for _ in $(seq 100); do grep -q '"id": "log.memory-access-fault' "$STATE/state.json" && break; sleep 0.05; done
grep -q '"id": "log.memory-access-fault' "$STATE/state.json" || fail "crash pattern not in the state"
grep -q 'killed by SIGABRT' "$STATE/state.json" || fail "crash exit not recorded"
grep -q '"fix": ' "$STATE/state.json" || fail "crash pattern fix not recorded"
stop_daemon; pass "crash line → state names log pattern"

# Repeated aborts (vk::DeviceLostError): backoff restarts, then give up after max=2.
RESTART_MAX=2 write_config abort
FAKE_LLAMA_LOAD_MS=50 RESTART_MAX=2 write_config abort
start_daemon "$OK"
wait_for given_up 20
n=$(grep -c 'launched as pid' "$T/daemon.log")
[ "$n" = 3 ] || fail "expected 3 launches (1 + 2 restarts), got $n"
grep -q 'gave up after 2 restarts' "$STATE/state.json" || fail "given_up reason"
grep -q 'log.vulkan-device-lost' "$STATE/state.json" || fail "DeviceLost not attributed"
grep -q 'restart 2 of 2 in 200ms' "$T/daemon.log" || fail "backoff did not double (100ms → 200ms)"
sleep 0.5
[ "$(grep -c 'launched as pid' "$T/daemon.log")" = 3 ] || fail "launched again after giving up"
# halo-check restart leaves given_up.
"$CHECK" restart --state-dir "$STATE" >/dev/null || fail "halo-check restart"
wait_for ready 10
stop_daemon; pass "abort → backoff → given_up; restart leaves it"

# /health stops answering after ready: liveness failures → unhealthy → restart.
write_config health-dead
start_daemon "$OK"
wait_for ready
p1=$(engine_pid)
for _ in $(seq 100); do grep -q 'health checks failed in a row' "$STATE/state.json" && break; sleep 0.05; done
grep -q 'health checks failed in a row' "$STATE/state.json" || fail "health-dead not detected"
wait_gone "$p1" 5 || fail "unhealthy engine not stopped"
stop_daemon; pass "health-dead → unhealthy → restart"

# Health ok, chat never answers: the smoke test marks it unhealthy.
write_config no-generate
start_daemon "$OK"
wait_for ready
for _ in $(seq 100); do grep -q 'smoke test failed' "$STATE/state.json" && break; sleep 0.05; done
grep -q 'smoke test failed' "$STATE/state.json" || fail "no-generate not detected by the smoke test"
grep -q '"ok": false' "$STATE/state.json" || fail "failed smoke figures not recorded"
stop_daemon; pass "no-generate → smoke test → unhealthy"

# hang: ignores SIGTERM and stops answering → SIGKILL after stop_timeout.
write_config hang
start_daemon "$OK"
wait_for ready
p1=$(engine_pid)
for _ in $(seq 200); do grep -q 'sending SIGKILL' "$T/daemon.log" && break; sleep 0.05; done
grep -q 'sending SIGKILL' "$T/daemon.log" || fail "hung engine not escalated to SIGKILL"
wait_gone "$p1" 5 || fail "hung engine still alive"
stop_daemon; pass "hang → SIGTERM ignored → SIGKILL"
