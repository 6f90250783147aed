#!/bin/bash
# Why the real llama-server would not start, in its own words: a missing model, a file that is
# not GGUF, and a port another llama-server holds. llama-server's last line says only "exiting
# due to model loading error" or "HTTP server error"; the `failed` reason in state.json and
# `halo-check status` must name the cause line's facts instead: the path, the file, the port and
# who holds it.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/real_lib.sh"

# engine_config MODEL [EXTRA ARGS…]
engine_config() {
    local model="$1" extra=""
    shift
    for a in "$@"; do extra="$extra, \"$a\""; done
    cat > "$T/config.toml" <<EOC
[engine]
name = "llama-server"
command = ["$LLAMA", "--host", "127.0.0.1", "--port", "$PORT", "-m", "$model", "-c", "512", "-np", "1"$extra]
stop_timeout = "10s"
ready_timeout = "5m"
EOC
}

# expect_failed REASON: the daemon's engine fails with REASON at the start of its reason, in the
# state file and in `halo-check status`, and without llama-server's last line as the cause.
expect_failed() {
    local reason="$1" status
    wait_for failed 60
    json_has "\"reason\": \"$reason; the engine exited with status 1 after" ||
        fail "state.json's reason is not '$reason; the engine exited with status 1 …'"
    json_has 'exiting due to' && json_flat | grep -q '"reason": "[^"]*exiting due to' &&
        fail "the reason quotes llama-server's last line"
    status=$("$CHECK" status --state-dir "$STATE") || fail "halo-check status failed"
    echo "$status" | grep -qF -- "reason:      $reason; the engine exited with status 1" ||
        fail "halo-check status does not give the reason '$reason': $status"
    echo "$status" | grep -qF -- "$reason" || fail "halo-check status lacks '$reason'"
    [ "$(grep -c 'launched as pid' "$T/daemon.log")" = 1 ] || fail "the engine was restarted after a failed start"
}

engine_config "$T/missing.gguf"
start_daemon "$OK_FACTS" --no-watch
expect_failed "model file not found: $T/missing.gguf"
json_has "\"id\": \"log.engine-model-not-found\"" || fail "last_crash.pattern is not log.engine-model-not-found"
stop_daemon || fail "daemon exit code"
pass "a missing model: 'model file not found: $T/missing.gguf'"

printf 'this is a text file, not a model\n' > "$T/model.bin"
engine_config "$T/model.bin"
start_daemon "$OK_FACTS" --no-watch
expect_failed "'$T/model.bin' is not a GGUF file"
stop_daemon || fail "daemon exit code"
pass "a file that is not GGUF: \"'$T/model.bin' is not a GGUF file\""

# Another llama-server (another command: -c 256) holds the port.
"$LLAMA" --host 127.0.0.1 --port "$PORT" -m "$MODEL" -c 256 -np 1 > "$T/other.log" 2>&1 &
other=$!
echo "$other" >> "$T/engine-pids"
wait_http "$PORT" 200 60 || fail "the other llama-server does not answer on port $PORT"
engine_config "$MODEL"
start_daemon "$OK_FACTS" --no-watch
expect_failed "port $PORT is already in use by pid $other (llama-server)"
json_has "\"id\": \"log.engine-port-in-use\"" || fail "last_crash.pattern is not log.engine-port-in-use"
kill -0 "$other" 2>/dev/null || fail "the other llama-server (pid $other) was touched"
[ "$(http_status "$PORT")" = 200 ] || fail "the other llama-server no longer answers"
grep -qF "leftover" "$T/daemon.log" && fail "a different command was taken for a leftover engine"
stop_daemon || fail "daemon exit code"
kill -0 "$other" 2>/dev/null || fail "stopping the daemon stopped the other llama-server"
kill "$other"
pass "port in use: 'port $PORT is already in use by pid $other (llama-server)', the holder untouched"
