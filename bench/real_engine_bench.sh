#!/bin/bash
# halo-checkd with the real llama-server (bench/README-real-engine.md has the method and figures),
# for three engines: the fake one (the baseline of bench/daemon_idle.sh), the real server with
# the tiny model and with the 115 MB large one. For each:
#  1. the engine started by hand: start → /health 200 (bench_engine_restart start);
#  2. halo-checkd supervising it: SIGKILL the engine, time to a new pid, to /health 200, to the
#     state file saying ready (bench_engine_restart crash: inotify on the state directory);
#  3. the smoke test through the daemon vs the same request sent directly, and the daemon's CPU
#     per smoke test (bench_smoke_cost).
# Usage: bench/real_engine_bench.sh [BUILD_DIR] [RUNS] [SMOKE_RUNS]
#   BUILD_DIR holds halo-checkd, halo-check, fake_llama_server and bench/ (default build-bench);
#   BACKOFF=… sets [engine.restart] backoff_initial (default 200ms, the daemon's default);
#   ENGINES=… picks from "fake tiny large" (default all three), to rerun one that was noisy;
#   ENGINE_THREADS=N passes -t N to llama-server (its default is the machine's physical cores,
#   which is wrong under taskset).
# Loopback only; every wait is bounded; the daemon and every engine are stopped on exit.
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$SRC/build-bench}" && pwd) || exit 1
RUNS=${2:-10}
SMOKE_RUNS=${3:-20}
BACKOFF=${BACKOFF:-200ms}
GAP_MS=2000 # after each ready: past the smoke test and the 1 s restart window, so every crash is a first restart
CHECKD="$B/halo-checkd" CHECK="$B/halo-check" FAKE="$B/tests/helpers/daemon/fake_llama_server"
RESTART="$B/bench/bench_engine_restart" SMOKE="$B/bench/bench_smoke_cost"
for x in "$CHECKD" "$CHECK" "$FAKE" "$RESTART" "$SMOKE"; do
    [ -x "$x" ] || { echo "real_engine_bench: error: $x is missing; build it: cmake --build $B --target halo-checkd halo-check fake_llama_server bench_engine_restart bench_smoke_cost"; exit 1; }
done
export HALO_SOURCE_DIR=$SRC
. "$SRC/tests/support/llama_server.sh"
# Without the real engine this bench measures nothing: it fails, it never passes quietly.
LLAMA=$(llama_server_binary) || exit 1
TINY=$(make_test_model "$B/test-models" --size tiny --template plain) || exit 1
LARGE=$(make_test_model "$B/test-models" --size large --template plain) || exit 1

T=$(mktemp -d)
STATE="$T/state"
D=""
ENGINE_BIN=""
# The engine a state file names is killed only while it still runs our binary: a pid may be reused.
kill_engine_left() {
    local p
    p=$(tr -d '\n' < "$STATE/state.json" 2>/dev/null | sed -n 's/.*"engine": {[^}]*"pid": \([0-9]*\).*/\1/p')
    [ -n "$p" ] && [ -n "$ENGINE_BIN" ] && tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null | grep -qF "$ENGINE_BIN" &&
        kill -KILL "$p" 2>/dev/null
    return 0
}
stop_daemon() {
    [ -n "$D" ] || return 0
    kill -TERM "$D" 2>/dev/null
    for _ in $(seq 300); do kill -0 "$D" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$D" 2>/dev/null && { echo "real_engine_bench: halo-checkd did not stop within 15 s of SIGTERM; killing it"; kill -KILL "$D"; }
    wait "$D" 2>/dev/null
    D=""
    kill_engine_left
}
trap 'stop_daemon; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM
PORT=$("$FAKE" --free-port)
touch "$T/fake.gguf"

load() { echo "load $1: $(uptime)"; }

# engine KIND: sets ENGINE_BIN and ARGS (the engine's argv) and ENV (its [engine.env] lines).
engine() {
    case $1 in
    fake) ENGINE_BIN=$FAKE; ARGS=("$FAKE" --host 127.0.0.1 --port "$PORT" -m "$T/fake.gguf"); ENV='FAKE_LLAMA_LOAD_MS = "200"' ;;
    tiny) ENGINE_BIN=$LLAMA; ARGS=("$LLAMA" --host 127.0.0.1 --port "$PORT" -m "$TINY" -c 512 -np 1 ${ENGINE_THREADS:+-t "$ENGINE_THREADS"}); ENV="" ;;
    large) ENGINE_BIN=$LLAMA; ARGS=("$LLAMA" --host 127.0.0.1 --port "$PORT" -m "$LARGE" -c 512 -np 1 ${ENGINE_THREADS:+-t "$ENGINE_THREADS"}); ENV="" ;;
    *) echo "real_engine_bench: error: unknown engine '$1' in ENGINES; use fake, tiny or large"; exit 2 ;;
    esac
}

start_daemon() {
    local toml="" a
    for a in "${ARGS[@]}"; do toml+="${toml:+, }\"$a\""; done
    rm -rf "$STATE"
    # liveness_interval 10m: no periodic check falls into the CPU figures; a crash is seen
    # through the child's exit, not through liveness.
    cat > "$T/config.toml" <<EOC
[engine]
name = "$1"
command = [$toml]
liveness_interval = "10m"
ready_timeout = "5m"
smoke_timeout = "60s"
stop_timeout = "10s"
[engine.env]
$ENV
[engine.restart]
max = 1000
window = "1s"
backoff_initial = "$BACKOFF"
EOC
    "$CHECKD" --config "$T/config.toml" --facts "$SRC/tests/data/facts/ok-vulkan-radv.toml" --state-dir "$STATE" \
        --no-dropins --no-journal --no-watch > "$T/daemon.log" 2>&1 &
    D=$!
    for _ in $(seq 1200); do
        grep -q '"smoke_last_good": {' "$STATE/state.json" 2>/dev/null && return 0
        kill -0 "$D" 2>/dev/null || break
        sleep 0.05
    done
    echo "real_engine_bench: error: halo-checkd's engine $1 not ready with a smoke test within 60 s"
    tail -20 "$T/daemon.log"
    return 1
}

# Paths as a reader can use them: the build under the checkout, the cache under ~.
shown() { local p=${1#"$SRC"/}; [ -n "${HOME:-}" ] && p=${p/#"$HOME"/\~}; echo "$p"; }
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); halo-checkd: $(shown "$CHECKD")"
echo "engine: $(shown "$LLAMA") ($("$LLAMA" --version 2>&1 | grep -m1 -i version))"
echo "models: tiny $(stat -c %s "$TINY") bytes, large $(stat -c %s "$LARGE") bytes; backoff_initial $BACKOFF; $RUNS crashes, $SMOKE_RUNS smoke runs"
load before
rc=0
for kind in ${ENGINES:-fake tiny large}; do
    engine "$kind"
    echo "== $kind: the engine started by hand ($RUNS runs)"
    FAKE_LLAMA_LOAD_MS=200 "$RESTART" start "$PORT" "$RUNS" 120 -- "${ARGS[@]}" || rc=1
    echo "== $kind: halo-checkd, SIGKILL of the engine → ready again ($RUNS crashes)"
    if start_daemon "$kind"; then
        "$RESTART" crash "$STATE" "$PORT" "$RUNS" "$GAP_MS" 120 || rc=1
        echo "== $kind: smoke test through halo-checkd vs direct ($SMOKE_RUNS runs)"
        "$SMOKE" "$STATE" "$D" "$PORT" "$SMOKE_RUNS" "$CHECK" 120 || rc=1
        grep -q 'error' "$T/daemon.log" && { echo "halo-checkd logged errors:"; grep 'error' "$T/daemon.log" | head -5; }
    else
        rc=1
    fi
    stop_daemon
    load "after $kind"
done
exit $rc
