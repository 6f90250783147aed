#!/bin/bash
# halo-checkd while a watched podman images.json is replaced by 60 MiB: the largest gap between
# its watchdog pings (WatchdogSec=2s, as in the report that found the stall) and its peak RSS
# during each re-probe, for 60 MiB of '[' and 60 MiB of a valid-looking array (both over the cap:
# not read), and 1,000 images in 7.9 MiB, at both caps (read, parsed, facts). Medians of RUNS
# re-probes each; the idle ping cadence first (halo-checkd pings every eighth of the period), and
# "added" is what a re-probe adds to it. Goals: largest gap < period / 4, peak RSS < 64 MiB.
#   bench/reprobe_bench.sh [BUILD_DIR] [RUNS]      CHECKD=path measures another halo-checkd
# (the "before" figure: main's binary, one or two runs: each costs ~25 s and gigabytes).
set -eu
B=$(cd "${1:-build}" && pwd); RUNS=${2:-5}
SRC=$(cd "$(dirname "$0")/.." && pwd)
CHECKD=${CHECKD:-$B/halo-checkd}
LISTENER="$B/tests/helpers/daemon/notify_listener"
FAKE="$B/tests/helpers/daemon/fake_llama_server"
[ -x "$LISTENER" ] || { echo "skip: $LISTENER not built (HALO_BUILD_TESTS=ON)"; exit 0; }
T=$(mktemp -d); LPID=""; D=""
# The daemon first (it stops its engine), then the listener.
trap '[ -n "$D" ] && kill -TERM "$D" 2>/dev/null; for _ in $(seq 100); do [ -n "$D" ] && kill -0 "$D" 2>/dev/null || break; sleep 0.05; done
      [ -n "$LPID" ] && kill "$LPID" 2>/dev/null; sleep 0.2; rm -rf "$T"' EXIT
PERIOD_US=2000000
R="$T/root"; cp -r "$SRC/tests/data/hosts/strix-fedora43-good" "$R"
IMAGES="$R/home/user/.local/share/containers/storage/overlay-images/images.json"
PORT=$("$FAKE" --free-port); touch "$T/model.gguf"
cat > "$T/config.toml" <<EOC
[engine]
name = "fake-llama"
command = ["$FAKE", "--host", "127.0.0.1", "--port", "$PORT", "-m", "$T/model.gguf"]
[daemon]
watch_quiet = "200ms"
EOC
head -c $((60 << 20)) /dev/zero | tr '\0' '[' > "$T/brackets"
python3 - "$T/array" <<'PY'
import sys
entry = '{"id":"%064x","names":["docker.io/kyuz0/amd-strix-halo-toolboxes:rocm-%d"],"digest":"sha256:%064x","created":"2026-01-20T09:15:00Z"}'
out, size, i = ["["], 1, 0
while size < 60 << 20:
    e = entry % (i, i, i); out.append(e if i == 0 else "," + e); size += len(e) + 1; i += 1
out.append("]")
open(sys.argv[1], "w").write("".join(out))
PY
# At both limits: 1,000 images (the entry cap) of podman's shape padded to 7.9 MiB (under the
# 8 MiB cap): read, parsed, and each image six facts the daemon reads back and judges.
python3 - "$T/cap" <<'PY'
import sys
entry = '{"id":"%064x","digest":"sha256:%064x","names":["docker.io/kyuz0/amd-strix-halo-toolboxes:rocm-%d"],"layer":"%064x","metadata":"{}","big-data-names":["manifest-sha256:%064x","sha256:%064x"],"big-data-digests":{"manifest-sha256:%064x":"sha256:%064x"},"created":"2026-01-20T09:15:00Z","pad":"%s"}'
out = ",".join(entry % (i, i, i, i, i, i, i, i, "x" * 7450) for i in range(1000))
open(sys.argv[1], "w").write("[" + out + "]")
PY

"$LISTENER" "$T/notify.sock" "$PERIOD_US" -- "$CHECKD" --root "$R" --config "$T/config.toml" \
    --state-dir "$T/state" --no-dropins --no-journal > "$T/notify.log" 2> "$T/daemon.log" &
LPID=$!
for _ in $(seq 600); do grep -q ' READY=1$' "$T/notify.log" 2>/dev/null && break; sleep 0.05; done
D=$(sed -n 's/^+[0-9]* \([0-9]*\) READY=1$/\1/p' "$T/notify.log")
[ -n "$D" ] || { echo "halo-checkd did not become ready"; tail "$T/daemon.log"; exit 1; }
evals() { python3 -c "import json; print(json.load(open('$T/state/state.json'))['daemon']['evaluations'])" 2>/dev/null || echo 0; }
pings_since() { awk -v from="$1" '/ WATCHDOG=1$/ { t = substr($1, 2) + 0; if (t >= from) print t }' "$T/notify.log"; }
max_gap() { awk 'NR > 1 && $1 - p > m { m = $1 - p } { p = $1 } END { print m + 0 }'; }
last_ping() { pings_since 0 | tail -1; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

sleep 8
idle=$(pings_since 0 | tail -6 | max_gap)
printf "watchdog period %d ms; idle: largest gap between pings %d ms (pings every eighth of it)\n" \
    $((PERIOD_US / 1000)) "$idle"
for case in ${CASES:-brackets array cap}; do
    : > "$T/gaps"; : > "$T/rss"; : > "$T/took"
    for _ in $(seq "$RUNS"); do
        before=$(evals); from=$(last_ping)
        echo 5 > "/proc/$D/clear_refs" # VmHWM from here
        cp "$T/$case" "$T/images.new"; s=$(date +%s%N); mv "$T/images.new" "$IMAGES"
        until [ "$(evals)" -gt "$before" ]; do kill -0 "$D" || exit 1; sleep 0.02; done
        echo $(( ($(date +%s%N) - s) / 1000000 )) >> "$T/took"
        awk '/^VmHWM/ { print $2 }' "/proc/$D/status" >> "$T/rss"
        sleep $((PERIOD_US * 4 / 5 / 1000000)).$(( (PERIOD_US * 4 / 5 / 1000) % 1000 )) # one more ping
        pings_since "$from" | max_gap >> "$T/gaps"
        cp "$SRC/tests/data/hosts/strix-fedora43-good/home/user/.local/share/containers/storage/overlay-images/images.json" "$T/images.new"
        before=$(evals); mv "$T/images.new" "$IMAGES"
        until [ "$(evals)" -gt "$before" ]; do kill -0 "$D" || exit 1; sleep 0.02; done
    done
    gap=$(median < "$T/gaps"); rss=$(median < "$T/rss"); took=$(median < "$T/took")
    printf "%-4s MiB %-8s re-probe %5d ms (change to verdict, watch_quiet 200 ms)  largest ping gap %5d ms (goal < %d; added to idle %5d ms)  peak RSS %6.1f MiB (goal < 64)   medians of %d; gaps %s\n" \
        $(( $(stat -c %s "$T/$case") >> 20 )) "$case" "$took" "$gap" $((PERIOD_US / 4000)) $((gap > idle ? gap - idle : 0)) "$(echo "$rss / 1024" | bc -l)" "$RUNS" "$(tr '\n' ' ' < "$T/gaps")"
done
grep -o "containers probe[^;]*" "$T/daemon.log" | head -1 || true
