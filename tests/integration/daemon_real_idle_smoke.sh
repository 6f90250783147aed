#!/bin/bash
# [engine] idle_smoke_interval against the real llama-server: the smoke test repeats by itself
# while the engine is idle, and never while a request runs (/slots says a slot is processing).
# Under CI a missing llama-server fails the test, never skips it.
. "$HALO_SOURCE_DIR/tests/support/llama_server.sh"
require_llama_server server
model=$(make_test_model "${HALO_BINARY_DIR:?set by ctest}/test-models" --size large --template plain) || {
    echo "FAIL: could not generate a test model"
    exit 1
}
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
command -v curl >/dev/null || { echo "not run: curl missing"; exit 77; }
cat > "$T/config.toml" <<EOC
[engine]
name = "llama-server"
command = ["$server", "--host", "127.0.0.1", "--port", "$PORT", "-m", "$model", "-c", "4096", "-np", "1", "-t", "1"]
ready_timeout = "5m"
stop_timeout = "10s"
smoke_timeout = "60s"
liveness_interval = "10m"
idle_smoke_interval = "500ms"
EOC
start_daemon "$DATA/facts/ok-vulkan-radv.toml" --no-journal --no-watch
smoke_at() { python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["engine"]["smoke"]; print(s["at"] if s else "")' "$STATE/state.json" 2>/dev/null; }
wait_for ready 300
for _ in $(seq 1200); do [ -n "$(smoke_at)" ] && break; sleep 0.05; done
first=$(smoke_at)
[ -n "$first" ] || fail "no smoke test after ready"
# Idle: within a few intervals the daemon runs it again by itself.
for _ in $(seq 200); do [ "$(smoke_at)" != "$first" ] && break; sleep 0.05; done
[ "$(smoke_at)" != "$first" ] || fail "no periodic smoke test within 10 s while idle"
pass "idle: the smoke test repeats by itself"

# Busy: a long generation holds the only slot; no smoke test may start during it.
curl -s "http://127.0.0.1:$PORT/completion" -H 'Content-Type: application/json' \
    -d '{"prompt":"Count","n_predict":1500,"ignore_eos":true,"cache_prompt":false}' > "$T/long.json" &
C=$!
for _ in $(seq 200); do
    curl -s "http://127.0.0.1:$PORT/slots" | grep -q '"is_processing":true' && break
    sleep 0.02
done
curl -s "http://127.0.0.1:$PORT/slots" | grep -q '"is_processing":true' || fail "the long request never showed in /slots"
# A smoke test already on its way when the request began may still finish: take the figure
# after that, then watch for 3 s (six intervals) with the request running.
sleep 0.5
during=$(smoke_at)
sleep 3
kill -0 "$C" 2>/dev/null || fail "the long request ended before the watch did: make it longer"
[ "$(smoke_at)" = "$during" ] || fail "a smoke test ran while a request was running ($during -> $(smoke_at))"
pass "busy: no smoke test while /slots shows a request running"
wait "$C"
grep -q '"tokens_predicted":1500' "$T/long.json" || fail "the long request did not finish: $(head -c 300 "$T/long.json")"
for _ in $(seq 200); do [ "$(smoke_at)" != "$during" ] && break; sleep 0.05; done
[ "$(smoke_at)" != "$during" ] || fail "the periodic smoke test did not resume after the request"
pass "idle again: it resumes"
stop_daemon || fail "daemon exit status $?"
exit 0
