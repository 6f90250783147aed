#!/bin/bash
# An engine left over from an earlier daemon (as when halo-checkd was killed with SIGKILL and a
# container kept its llama-server): a real llama-server started by hand on the engine's port with
# the engine's own argv. halo-checkd must stop it (SIGTERM) and become ready with its own engine,
# saying so in its log. A different program on the port (python3 -m http.server) is never
# touched: the engine fails with "port N is already in use by pid M (python3)" and that program
# still runs.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/real_lib.sh"
command=("$LLAMA" --host 127.0.0.1 --port "$PORT" -m "$MODEL" -c 512 -np 1)
quoted=""
for a in "${command[@]}"; do quoted="$quoted${quoted:+, }\"$a\""; done
cat > "$T/config.toml" <<EOC
[engine]
name = "llama-server"
command = [$quoted]
liveness_interval = "500ms"
stop_timeout = "10s"
smoke_timeout = "60s"
ready_timeout = "5m"
EOC

"${command[@]}" > "$T/leftover.log" 2>&1 &
leftover=$!
echo "$leftover" >> "$T/engine-pids"
wait_http "$PORT" 200 60 || fail "the hand-started llama-server does not answer on port $PORT"
start_daemon "$OK_FACTS" --no-watch
wait_for ready 120
ours=$(engine_pid)
[ "$ours" != "$leftover" ] || fail "the daemon reports the leftover (pid $leftover) as its engine"
wait_gone "$leftover" 10 || fail "the leftover engine (pid $leftover) still runs"
wait "$leftover" 2>/dev/null
grep -q 'cleaning up before exit' "$T/leftover.log" || fail "the leftover was not stopped with SIGTERM"
wait_log "stopped a leftover engine, pid $leftover, from an earlier run"
[ "$(http_status "$PORT")" = 200 ] || fail "the daemon's engine does not answer on port $PORT"
json_has '"restarts": []' || fail "stopping the leftover counted as a restart"
json_has '"last_crash": null' || fail "stopping the leftover was recorded as a crash"
grep -q "\"pid\": $ours" "$STATE/state.json" || fail "state.json does not name the daemon's engine"
stop_daemon || fail "daemon exit code"
kill -0 "$ours" 2>/dev/null && fail "the daemon's engine survived the graceful stop"
pass "a leftover llama-server on port $PORT (pid $leftover) was stopped; the daemon's own engine became ready"

python3 -m http.server "$PORT" --bind 127.0.0.1 > "$T/python.log" 2>&1 &
stranger=$!
wait_http "$PORT" 404 30 || fail "python3 -m http.server does not answer on port $PORT"
start_daemon "$OK_FACTS" --no-watch
wait_for failed 60
json_has "\"reason\": \"port $PORT is already in use by pid $stranger (python3); the engine exited with status 1" ||
    fail "the reason does not name the port and python3's pid $stranger"
status=$("$CHECK" status --state-dir "$STATE") || fail "halo-check status failed"
echo "$status" | grep -qF "port $PORT is already in use by pid $stranger (python3)" || fail "halo-check status lacks the port message: $status"
kill -0 "$stranger" 2>/dev/null || fail "python3 -m http.server (pid $stranger) was touched"
[ "$(http_status "$PORT")" = 404 ] || fail "python3 -m http.server no longer answers"
grep -qF "leftover" "$T/daemon.log" && fail "python3 was taken for a leftover engine"
stop_daemon || fail "daemon exit code"
kill -0 "$stranger" 2>/dev/null || fail "stopping the daemon stopped python3"
kill "$stranger"
pass "another program on the port: failed with 'port $PORT is already in use by pid $stranger (python3)', it still runs"
