# Sourced by tests/integration/daemon_real_*.sh, in place of lib.sh: finds the real llama-server
# (HALO_TEST_LLAMA_SERVER, or the one scripts/get-llama-server cached) and a generated tiny model
# (HALO_TEST_GGUF, or make_test_model's), then sources lib.sh. Without a binary the test is
# reported as skipped, never as passed, and under CI it fails: CI must test the real engine.
# Sets LLAMA (the binary) and GGUF (the model); real_config writes a config that runs them.
. "$HALO_SOURCE_DIR/tests/support/llama_server.sh"
require_llama_server LLAMA
GGUF=${HALO_TEST_GGUF:-}
if [ -z "$GGUF" ]; then
    GGUF=$(make_test_model "${HALO_BINARY_DIR:?set by ctest}/test-models" --size tiny --template plain) || {
        echo "FAIL: could not generate a test model"
        exit 1
    }
fi
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"

# real_config [EXTRA_ARGS_AS_TOML_STRINGS] [EXTRA_ENGINE_LINES] — the real server on $PORT, one
# slot, a small context; timeouts with room for a loaded machine.
real_config() {
    local args="${1:-}" extra="${2:-}"
    cat > "$T/config.toml" <<EOC
[engine]
name = "llama-server"
command = ["$LLAMA", "--host", "127.0.0.1", "--port", "$PORT", "-m", "$GGUF", "-c", "512", "-np", "1"$args]
liveness_interval = "500ms"
stop_timeout = "10s"
smoke_timeout = "60s"
ready_timeout = "5m"
$extra
[engine.restart]
backoff_initial = "200ms"
EOC
}

# wait_file_has FILE PATTERN [SECONDS]: until grep finds PATTERN (fixed string) in FILE.
wait_file_has() {
    local file="$1" pattern="$2" limit="${3:-60}" i=0
    while [ "$i" -lt $((limit * 20)) ]; do
        grep -qF -- "$pattern" "$file" 2>/dev/null && return 0
        kill -0 "$DPID" 2>/dev/null || fail "halo-checkd exited while waiting for '$pattern' in $file"
        sleep 0.05; i=$((i + 1))
    done
    fail "'$pattern' not in $file within ${limit}s"
}
