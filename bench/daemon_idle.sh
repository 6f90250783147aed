#!/bin/bash
# halo-checkd's idle cost with a healthy fake engine, and the time from an engine crash
# (SIGKILL) to restarted-and-ready. Run from a build directory, or pass it:
#   bench/daemon_idle.sh [BUILD_DIR] [IDLE_SECONDS] [CRASHES]
# The restart window is 5 s here so each measured crash is a first restart. Values that matter: liveness_interval 30s (the only periodic work besides the
# watchdog), backoff_initial 200ms (the default first-restart delay).
set -eu
B=$(cd "${1:-build}" && pwd); IDLE=${2:-60}; CRASHES=${3:-5}
FAKE="$B/tests/helpers/daemon/fake_llama_server"
T=$(mktemp -d); trap 'kill $D 2>/dev/null || true; rm -rf "$T"' EXIT
PORT=$("$FAKE" --free-port); touch "$T/model.gguf"
SRC=$(cd "$(dirname "$0")/.." && pwd)
cat > "$T/config.toml" <<EOC
[engine]
name = "fake-llama"
command = ["$FAKE", "--host", "127.0.0.1", "--port", "$PORT", "-m", "$T/model.gguf"]
liveness_interval = "${LIVENESS:-30s}"
[engine.env]
FAKE_LLAMA_LOAD_MS = "${LOAD_MS:-200}"
[engine.restart]
max = 100
window = "5s"
backoff_initial = "${BACKOFF:-200ms}"
EOC
export WATCHDOG_USEC=30000000 # as under WatchdogSec=30s (no socket: pings are no-ops but timed)
"$B/halo-checkd" --config "$T/config.toml" --facts "$SRC/tests/data/facts/ok-vulkan-radv.toml" \
    --state-dir "$T/state" --no-dropins > "$T/log" 2>&1 &
D=$!
state() { cat "$T/state/state.json" 2>/dev/null | tr -d '\n' | sed -n 's/.*"engine": {[^}]*"state": "\([a-z_]*\)".*/\1/p'; }
epid() { cat "$T/state/state.json" 2>/dev/null | tr -d '\n' | sed -n 's/.*"engine": {[^}]*"pid": \([0-9]*\).*/\1/p'; }
for _ in $(seq 200); do [ "$(state)" = ready ] && break; sleep 0.05; done
sleep 2 # past the smoke test
tick=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' /proc/$D/stat; }
ctx() { awk '/^voluntary_ctxt_switches/ {v=$2} /^nonvoluntary_ctxt_switches/ {n=$2} END {print v + n}' /proc/$D/status; }
c0=$(cpu); x0=$(ctx); t0=$(date +%s.%N)
sleep "$IDLE"
c1=$(cpu); x1=$(ctx); t1=$(date +%s.%N)
rss=$(awk "/^VmRSS/ {print \$2}" /proc/$D/status); grep -E "^Rss(Anon|File)" /proc/$D/status | tr -s " \t" " "
awk -v c0="$c0" -v c1="$c1" -v x0="$x0" -v x1="$x1" -v t0="$t0" -v t1="$t1" -v tick="$tick" -v rss="$rss" 'BEGIN {
    w = t1 - t0
    printf "idle window      %.1f s\n", w
    printf "RSS              %.1f MiB (VmRSS %d kB)\n", rss / 1024, rss
    printf "CPU              %.3f s/hour (%d ticks of 1/%d s in the window)\n", (c1 - c0) / tick * 3600 / w, c1 - c0, tick
    printf "wakeups          %.1f /min (context switches)\n", (x1 - x0) * 60 / w
}'
echo "crash → restarted-and-ready (SIGKILL of the engine, backoff_initial ${BACKOFF:-200ms}, load ${LOAD_MS:-200} ms):"
for i in $(seq "$CRASHES"); do
    old=$(epid); s=$(date +%s%N); kill -KILL "$old"
    launched=""; while :; do
        p=$(epid); st=$(state)
        if [ -z "$launched" ] && [ -n "$p" ] && [ "$p" != "$old" ]; then launched=$(( ($(date +%s%N) - s) / 1000000 )); fi
        if [ "$st" = ready ] && [ -n "$p" ] && [ "$p" != "$old" ]; then break; fi
        sleep 0.005
    done
    printf "  crash %d: relaunched after %s ms, ready after %d ms\n" "$i" "$launched" $(( ($(date +%s%N) - s) / 1000000 ))
    sleep 6 # past the 5 s restart window: every crash is a first restart (backoff_initial)
done
