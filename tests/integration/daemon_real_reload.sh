#!/bin/bash
# A reload that changes the engine's command, against the real llama-server: --port and -c
# changed in the config, then SIGHUP. The engine is restarted as planned: the old process gets
# SIGTERM, the new one answers on the new port, no restart is counted, and the state file and
# `halo-check status` describe the process that runs (its ctx and port). A reload that changes
# only timings (`halo-check reload`) keeps the same process.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/real_lib.sh"
PORT2=$(another_port "$PORT") || fail "no second free port"

# engine_config PORT CTX LIVENESS
engine_config() {
    cat > "$T/config.toml" <<EOC
[engine]
name = "llama-server"
command = ["$LLAMA", "--host", "127.0.0.1", "--port", "$1", "-m", "$MODEL", "-c", "$2", "-np", "1"]
liveness_interval = "$3"
liveness_failures = 2
stop_timeout = "10s"
smoke_timeout = "60s"
ready_timeout = "5m"
[engine.restart]
backoff_initial = "200ms"
EOC
}

engine_config "$PORT" 512 300ms
start_daemon "$OK_FACTS" --no-watch
wait_for ready 120
p1=$(engine_pid)
[ "$(http_status "$PORT")" = 200 ] || fail "the first engine does not answer on port $PORT"
json_has "\"--port\",\"$PORT\"" || fail "state.json does not show the first command's port"
pass "real llama-server ready on port $PORT with -c 512"

engine_config "$PORT2" 1024 300ms
kill -HUP "$DPID"
wait_new_ready "$p1" 120
p2=$(engine_pid)
kill -0 "$p1" 2>/dev/null && fail "the old engine (pid $p1) still runs"
wait_http "$PORT2" 200 10 || fail "the new engine does not answer on the new port $PORT2"
[ -z "$(http_status "$PORT")" ] || fail "something still answers on the old port $PORT"
grep -q 'cleaning up before exit' "$T/daemon.log" || fail "the old engine was not stopped with SIGTERM"
grep -qF "restarting to apply the new engine command" "$T/daemon.log" || fail "the restart is not logged as planned"
pass "SIGHUP with a new --port and -c: planned restart, the new engine answers on port $PORT2"

# Several liveness periods on the new engine: none may fail (they would, polling the old port).
sleep 2
[ "$(engine_state)" = ready ] || fail "engine not ready after the planned restart (is '$(engine_state)')"
[ "$(engine_pid)" = "$p2" ] || fail "the new engine was restarted again"
grep -q "liveness check .* failed" "$T/daemon.log" && fail "a liveness check failed after the reload"
json_has '"restarts": []' || fail "the planned restart was counted as a restart"
json_has '"last_crash": null' || fail "the planned restart was recorded as a crash"
json_has "\"health_url\": \"http://127.0.0.1:$PORT2/health\"" || fail "state.json's health_url is not the new port's"
json_has "\"-c\",\"1024\"" || fail "state.json's command does not show the new -c 1024"
json_has "\"$PORT\"" && fail "state.json still names the old port $PORT"
status=$("$CHECK" status --state-dir "$STATE") || fail "halo-check status failed"
echo "$status" | grep -qF -- "--port $PORT2" || fail "halo-check status does not show the new port: $status"
echo "$status" | grep -qF -- "-c 1024" || fail "halo-check status does not show the new ctx: $status"
echo "$status" | grep -q '^restarts: *0$' || fail "halo-check status counts a restart: $status"
pass "no restart counted; state and status show port $PORT2 and -c 1024"

evaluations=$(grep -c 'evaluated (reload' "$T/daemon.log")
planned=$(grep -c 'restarting to apply' "$T/daemon.log")
engine_config "$PORT2" 1024 700ms
"$CHECK" reload --state-dir "$STATE" > /dev/null || fail "halo-check reload failed"
for _ in $(seq 200); do [ "$(grep -c 'evaluated (reload' "$T/daemon.log")" -gt "$evaluations" ] && break; sleep 0.05; done
[ "$(grep -c 'evaluated (reload' "$T/daemon.log")" -gt "$evaluations" ] || fail "halo-check reload was not evaluated"
sleep 1.5
[ "$(engine_pid)" = "$p2" ] || fail "a timing-only change restarted the engine (pid $p2 → $(engine_pid))"
[ "$(engine_state)" = ready ] || fail "engine not ready after a timing-only reload (is '$(engine_state)')"
[ "$(grep -c 'restarting to apply' "$T/daemon.log")" = "$planned" ] || fail "a timing-only change was applied by a restart"
pass "halo-check reload with only liveness_interval changed: same pid $p2, still ready"

stop_daemon || fail "daemon exit code"
kill -0 "$p2" 2>/dev/null && fail "llama-server survived the graceful stop"
pass "graceful stop"
