#!/bin/bash
# The wall time of the whole `halo-check engine-check` against the real llama-server (tiny model,
# -c 4096), median and range of RUNS runs, and each check's own share (its "ms" in the JSON), so
# the report says what dominates. Goal: under 2 s with the tiny model.
# Usage: bench/engine_check_bench.sh [BUILD_DIR] [RUNS]
set -u
SRC=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$SRC/build-bench}" && pwd) || exit 1
RUNS=${2:-5}
CHECK="$B/halo-check"
[ -x "$CHECK" ] || { echo "engine_check_bench: error: $CHECK is missing; build it: cmake --build $B --target halo-check"; exit 1; }
export HALO_SOURCE_DIR=$SRC
. "$SRC/tests/support/llama_server.sh"
LLAMA=$(llama_server_binary) || exit 1
TINY=$(make_test_model "$B/test-models" --size tiny --template plain) || exit 1
T=$(mktemp -d)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$LLAMA" --host 127.0.0.1 --port "$PORT" -m "$TINY" -c 4096 -np 1 > "$T/engine.log" 2>&1 &
EPID=$!
trap 'kill $EPID 2>/dev/null; wait $EPID 2>/dev/null; rm -rf "$T"' EXIT
for _ in $(seq 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health" 2>/dev/null)" = 200 ] && break
    sleep 0.05
done
for i in $(seq "$RUNS"); do
    s=$(date +%s%N)
    XDG_CONFIG_HOME="$T/config" "$CHECK" engine-check --url "http://127.0.0.1:$PORT" --json > "$T/run-$i.json"
    echo $(( ($(date +%s%N) - s) / 1000000 )) >> "$T/wall"
done
python3 - "$T" "$RUNS" <<'PY'
import json, statistics, sys
d, n = sys.argv[1], int(sys.argv[2])
wall = sorted(int(x) for x in open(d + "/wall"))
print(f"engine-check wall: median {statistics.median(wall):.0f} ms, range {wall[0]}-{wall[-1]} ms ({n} runs)")
per = {}
for i in range(1, n + 1):
    for c in json.load(open(f"{d}/run-{i}.json"))["checks"]:
        per.setdefault(c["id"], []).append(c["ms"])
for k, v in sorted(per.items(), key=lambda kv: -statistics.median(kv[1])):
    print(f"  {k:<16} median {statistics.median(v):6.0f} ms")
PY
