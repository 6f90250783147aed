#!/bin/bash
# The supervision test against a real llama-server: launch on an ok verdict, ready over /health,
# the smoke test's figures from a real /v1/chat/completions, restart after SIGKILL, graceful
# stop. The binary is HALO_TEST_LLAMA_SERVER or the one scripts/get-llama-server cached; the
# model is HALO_TEST_GGUF or a generated tiny one. Without a binary it is reported as skipped,
# never as passed, and under CI it fails: CI must test the real engine.
. "$HALO_SOURCE_DIR/tests/support/llama_server.sh"
require_llama_server HALO_TEST_LLAMA_SERVER
if [ -z "${HALO_TEST_GGUF:-}" ]; then
    HALO_TEST_GGUF=$(make_test_model "${HALO_BINARY_DIR:?set by ctest}/test-models" --size tiny --template plain) || {
        echo "FAIL: could not generate a test model"
        exit 1
    }
fi
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
cat > "$T/config.toml" <<EOC
[engine]
name = "llama-server"
command = ["$HALO_TEST_LLAMA_SERVER", "--host", "127.0.0.1", "--port", "$PORT", "-m", "$HALO_TEST_GGUF", "-c", "512", "-np", "1"]
liveness_interval = "500ms"
stop_timeout = "10s"
smoke_timeout = "60s"
ready_timeout = "5m"
[engine.restart]
backoff_initial = "200ms"
EOC
start_daemon "$DATA/facts/ok-vulkan-radv.toml"
wait_for ready 300
for _ in $(seq 1200); do grep -q '"smoke_last_good": {' "$STATE/state.json" && break; sleep 0.05; done
grep -q '"smoke_last_good": {' "$STATE/state.json" || fail "no successful smoke test against llama-server"
pass "real llama-server ready, smoke test ok"
p1=$(engine_pid)
kill -KILL "$p1"
wait_new_ready "$p1" 300
pass "restart after SIGKILL"
p2=$(engine_pid)
stop_daemon || fail "daemon exit code"
kill -0 "$p2" 2>/dev/null && fail "llama-server survived the graceful stop"
grep -q 'cleaning up before exit' "$T/daemon.log" || fail "llama-server not stopped with SIGTERM"
pass "graceful stop"
