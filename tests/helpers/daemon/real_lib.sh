# Shared by tests/integration/daemon_real_*.sh that drive halo-checkd against the real
# llama-server: the binary (HALO_TEST_LLAMA_SERVER or the one scripts/get-llama-server cached;
# none: skipped, never passed, and under CI a failure), a generated tiny model, then lib.sh
# (temp dir, a free port, the daemon, bounded waits, cleanup of every engine pid it saw).
. "$HALO_SOURCE_DIR/tests/support/llama_server.sh"
require_llama_server LLAMA
MODEL=$(make_test_model "${HALO_BINARY_DIR:?set by ctest}/test-models" --size tiny --template plain) || {
    echo "FAIL: could not generate a test model"
    exit 1
}
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
OK_FACTS="$DATA/facts/ok-vulkan-radv.toml"

# another_port OTHER: a free port that is not OTHER.
another_port() {
    local p i=0
    while [ "$i" -lt 20 ]; do
        p=$("$FAKE" --free-port)
        [ "$p" != "$1" ] && { echo "$p"; return 0; }
        i=$((i + 1))
    done
    return 1
}

# http_status PORT [PATH]: the HTTP status of GET PATH (default /health), empty when nothing answers.
http_status() {
    local reply
    reply=$(timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$0 || exit 1
        printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$1" >&3
        head -n 1 <&3' "$1" "${2:-/health}" 2>/dev/null)
    echo "$reply" | sed -n 's/^HTTP\/1\.[01] \([0-9]*\).*/\1/p'
}

# wait_http PORT STATUS [SECONDS]: until GET /health on PORT answers STATUS.
wait_http() {
    local port="$1" want="$2" limit="${3:-30}" i=0
    while [ "$i" -lt $((limit * 10)) ]; do
        [ "$(http_status "$port")" = "$want" ] && return 0
        sleep 0.1; i=$((i + 1))
    done
    return 1
}

# wait_log TEXT [SECONDS]: until the daemon's log holds TEXT (fixed string).
wait_log() {
    local text="$1" limit="${2:-30}" i=0
    while [ "$i" -lt $((limit * 20)) ]; do
        grep -qF -- "$text" "$T/daemon.log" && return 0
        kill -0 "$DPID" 2>/dev/null || fail "halo-checkd exited while waiting for '$text' in its log"
        sleep 0.05; i=$((i + 1))
    done
    fail "no '$text' in the daemon's log within ${limit}s"
}

# json_flat: the state file on one line, its indentation gone: arrays read ["a","b"].
json_flat() { sed -e ':a' -e 'N' -e '$!ba' -e 's/\n *//g' "$STATE/state.json"; }
# json_has TEXT: the flattened state file holds TEXT (fixed string; JSON escapes none of what we
# look for).
json_has() { json_flat | grep -qF -- "$1"; }
