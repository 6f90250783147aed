# Shared by tests/integration/daemon_*.sh: a temp dir, a free port, a config for the fake engine,
# halo-checkd started in the background, and waits on its state file. Every wait is bounded.
set -u
: "${HALO_BINARY_DIR:?set by ctest}" "${HALO_SOURCE_DIR:?set by ctest}"
CHECKD="$HALO_BINARY_DIR/halo-checkd"
CHECK="${HALO_CHECK:-$HALO_BINARY_DIR/halo-check}"
HELPERS="$HALO_BINARY_DIR/tests/helpers/daemon"
FAKE="$HELPERS/fake_llama_server"
DATA="$HALO_SOURCE_DIR/tests/data"
T=$(mktemp -d)
STATE="$T/state"
DPID=""
cleanup() {
    if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then kill -KILL "$DPID" 2>/dev/null; fi
    # The engine pids this test saw: none may outlive it.
    for p in $(cat "$T/engine-pids" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; echo "--- daemon log:"; tail -40 "$T/daemon.log" 2>/dev/null; echo "--- state:"; cat "$STATE/state.json" 2>/dev/null | head -60; exit 1; }
pass() { echo "ok: $*"; }

PORT=$("$FAKE" --free-port)
touch "$T/model.gguf"

# engine_files_in_root ROOT: the fake engine and a GGUF model also inside ROOT, at the paths the
# configs name ($FAKE, $T/model.gguf). Under --root the engine probe reads the machine's files
# there (a missing model or program is broken), while the engine itself starts from this
# machine's paths. A hard link or a copy, not a symbolic link: a link's target is resolved inside
# the root too, where $FAKE is the link itself.
engine_files_in_root() {
    local root="$1"
    mkdir -p "$root$(dirname "$FAKE")" "$root$T" || return 1
    ln -f "$FAKE" "$root$FAKE" 2>/dev/null || cp "$FAKE" "$root$FAKE" || return 1
    cp "$DATA/hosts/strix-fedora43-good/mnt/ai-models/GLM-4.7-Flash-Q8/GLM-4.7-Flash-UD-Q8_K_XL.gguf" "$root$T/model.gguf"
}

# write_config [EXTRA_ENGINE_LINES] — the fake engine's mode comes from FAKE_LLAMA_MODE in [engine.env].
write_config() {
    local mode="${1:-normal}" extra="${2:-}"
    cat > "$T/config.toml" <<EOC
[engine]
name = "fake-llama"
backend = "vulkan-radv"
command = ["$FAKE", "--host", "0.0.0.0", "--port", "$PORT", "-m", "$T/model.gguf", "--alias", "test-model"]
liveness_interval = "200ms"
liveness_failures = 2
stop_timeout = "1s"
smoke_timeout = "1s"
ready_timeout = "5s"
early_exit = "5s"
$extra
[engine.env]
FAKE_LLAMA_MODE = "$mode"
FAKE_LLAMA_LOAD_MS = "${FAKE_LLAMA_LOAD_MS:-200}"
[engine.restart]
max = ${RESTART_MAX:-3}
window = "1m"
backoff_initial = "100ms"
backoff_max = "400ms"
EOC
}

# start_daemon FACTS_FILE [more args]
start_daemon() {
    local facts="$1"; shift
    "$CHECKD" --config "$T/config.toml" --facts "$facts" --state-dir "$STATE" --no-dropins "$@" > "$T/daemon.log" 2>&1 &
    DPID=$!
}

state_json() { cat "$STATE/state.json" 2>/dev/null; }
engine_state() { state_json | tr -d '\n' | sed -n 's/.*"engine": {[^}]*"state": "\([a-z_]*\)".*/\1/p'; }
engine_pid() { state_json | tr -d '\n' | sed -n 's/.*"engine": {[^}]*"pid": \([0-9]*\).*/\1/p'; }

# wait_for STATE [SECONDS]: until the engine is in that state.
wait_for() {
    local want="$1" limit="${2:-10}" i=0
    while [ "$i" -lt $((limit * 20)) ]; do
        if [ "$(engine_state)" = "$want" ]; then
            local p; p=$(engine_pid); [ -n "$p" ] && echo "$p" >> "$T/engine-pids"
            return 0
        fi
        if ! kill -0 "$DPID" 2>/dev/null; then fail "halo-checkd exited while waiting for '$want'"; fi
        sleep 0.05; i=$((i + 1))
    done
    fail "engine not '$want' within ${limit}s (is '$(engine_state)')"
}

# wait_gone PID [SECONDS]
wait_gone() {
    local pid="$1" limit="${2:-5}" i=0
    while kill -0 "$pid" 2>/dev/null; do
        [ "$i" -ge $((limit * 20)) ] && return 1
        sleep 0.05; i=$((i + 1))
    done
    return 0
}

stop_daemon() {
    kill -TERM "$DPID"
    local i=0
    while kill -0 "$DPID" 2>/dev/null; do
        [ "$i" -ge 200 ] && fail "halo-checkd did not exit within 10s of SIGTERM"
        sleep 0.05; i=$((i + 1))
    done
    wait "$DPID"; local rc=$?
    DPID=""
    return $rc
}

# wait_new_ready OLD_PID [SECONDS]: until a different engine process is ready.
wait_new_ready() {
    local old="$1" limit="${2:-10}" i=0
    while [ "$i" -lt $((limit * 20)) ]; do
        local p; p=$(engine_pid)
        if [ "$(engine_state)" = ready ] && [ -n "$p" ] && [ "$p" != "$old" ]; then echo "$p" >> "$T/engine-pids"; return 0; fi
        kill -0 "$DPID" 2>/dev/null || fail "halo-checkd exited while waiting for a new engine"
        sleep 0.05; i=$((i + 1))
    done
    fail "no new ready engine within ${limit}s (state '$(engine_state)', pid '$(engine_pid)')"
}
