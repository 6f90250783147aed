#!/bin/bash
# The regression alarm against the real llama-server: the model file at the same path replaced by
# one ~4x larger (the Q8 -> BF16 case: the medium test model labelled Q8_0, then the large one
# labelled BF16) makes generation clearly slower and yields exactly one regression event, naming
# the changed facts, in the journal, the state file and `halo-check status`; the same model's
# own run-to-run noise yields none. The daemon probes a root that holds only the engine's files
# (as daemon_engine_cannot_start.sh), so the facts follow the real model file. Under CI a
# missing llama-server fails the test, never skips it. One engine thread: two, on a busy 2-core
# machine, swing the figures far beyond any threshold from waiting on each other. The threshold
# is 0.5, not the default 0.7: a busy machine's load alone dips a run by up to half
# (bench/README-regression.md), and the default's noise behaviour is bench_regression_noise's and
# the unit tests' to show. Measured on a quiet 2-core machine, 15 of the daemon's smoke requests
# each (llama-server -c 512 -np 1 -t 1): the medium model generates at 476-959 t/s (median 575)
# and reads the prompt at ~2,500 t/s, the ~4x larger one at 129-242 t/s (median 180) and ~900 t/s:
# about 0.31 and 0.36 of the speed. A threshold of 0.35 sat inside that spread (a CI run saw the
# slow-down to ~0.4 and no event); 0.5 leaves margin on both sides.
. "$HALO_SOURCE_DIR/tests/support/llama_server.sh"
require_llama_server server
models="${HALO_BINARY_DIR:?set by ctest}/test-models"
small=$(make_test_model "$models" --size medium --template plain --file-type 7) || { echo "FAIL: no medium model"; exit 1; }
big=$(make_test_model "$models" --size large --template plain --file-type 32) || { echo "FAIL: no large model"; exit 1; }
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"

R="$T/root"
mkdir -p "$R$(dirname "$server")" "$R$T/models" "$T/models"
ln -f "$server" "$R$server" 2>/dev/null || cp "$server" "$R$server" || fail "copy the engine into the root"
cp "$small" "$T/models/model.gguf" || fail "copy the model"
# The judged machine's model is the engine's: a hard link (or a copy) in the root, since a symbolic
# link out of the root is not followed there; replaced in both places below.
ln -f "$T/models/model.gguf" "$R$T/models/model.gguf" 2>/dev/null || cp "$T/models/model.gguf" "$R$T/models/model.gguf"
cat > "$T/config.toml" <<EOC
[engine]
name = "llama-server"
command = ["$server", "--host", "127.0.0.1", "--port", "$PORT", "-m", "$T/models/model.gguf", "-c", "512", "-np", "1", "-t", "1"]
ready_timeout = "5m"
stop_timeout = "10s"
smoke_timeout = "60s"
liveness_interval = "10m"
regression_threshold = 0.5
EOC
"$CHECKD" --root "$R" --config "$T/config.toml" --state-dir "$STATE" --no-dropins --no-watch \
    --journal-export "$T/daemon.export" > "$T/daemon.log" 2>&1 &
DPID=$!

smoke_at() { python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["engine"]["smoke"]; print(s["at"] if s else "")' "$STATE/state.json" 2>/dev/null; }
# next_smoke OLD_AT: until the state file has a smoke test newer than OLD_AT that passed.
next_smoke() {
    for _ in $(seq 1200); do
        local now; now=$(smoke_at)
        [ -n "$now" ] && [ "$now" != "$1" ] && { grep -q '"smoke_last_good": {' "$STATE/state.json" || fail "smoke failed"; return 0; }
        kill -0 "$DPID" 2>/dev/null || fail "halo-checkd exited"
        sleep 0.05
    done
    fail "no new smoke test within 60 s"
}
smoke_now() {
    local before; before=$(smoke_at)
    "$CHECK" smoke --state-dir "$STATE" > /dev/null || fail "halo-check smoke"
    next_smoke "$before"
}
# No export file yet (nothing logged since start-up) is no event.
events() { local n; n=$(grep -c '^HALO_EVENT=speed-regression$' "$T/daemon.export" 2>/dev/null); echo "${n:-0}"; }
generation() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["engine"]["smoke"]["predicted_per_second"])' "$STATE/state.json"; }

wait_for ready 300
next_smoke ""
for _ in 1 2 3 4 5; do smoke_now; done
fast=$(generation)
[ "$(events)" = 0 ] || { python3 -c "import json,sys; print(json.dumps(json.load(open(sys.argv[1]))[\"speed\"], indent=1))" "$STATE/state.json"; fail "a regression event from the same model's noise"; }
pass "6 smoke runs of the same model: no regression event (last: $fast t/s)"

# The model file at the same path replaced by one ~4x larger, then re-checked and restarted.
cp "$big" "$T/models/model.gguf.new" || fail "copy the big model"
{ ln -f "$T/models/model.gguf.new" "$R$T/models/model.gguf.new" 2>/dev/null || cp "$big" "$R$T/models/model.gguf.new"; } &&
    mv -f "$R$T/models/model.gguf.new" "$R$T/models/model.gguf" || fail "replace the model in the root"
mv -f "$T/models/model.gguf.new" "$T/models/model.gguf" || fail "replace the model"
before=$(smoke_at)
p1=$(engine_pid)
"$CHECK" restart --state-dir "$STATE" > /dev/null || fail "halo-check restart"
wait_new_ready "$p1" 300
next_smoke "$before"
for _ in 1 2 3 4; do smoke_now; done
slow=$(generation)
python3 -c "import sys; f, s = float(sys.argv[1]), float(sys.argv[2]); sys.exit(0 if s < 0.7 * f else 1)" "$fast" "$slow" \
    || fail "generation did not get clearly slower: $fast -> $slow t/s"
[ "$(events)" = 1 ] || fail "$(events) regression events, want exactly 1"
# The MESSAGE of the entry (Journal Export Format: entries separated by an empty line).
msg=$(awk -v RS= '/\nHALO_EVENT=speed-regression\n/' "$T/daemon.export" | sed -n 's/^MESSAGE=//p')
case "$msg" in
*"was "*" t/s, since engine.model.file_type_name Q8_0 → BF16"*) ;;
*) fail "the regression event does not name the changed file type: '$msg'" ;;
esac
grep -q '^MESSAGE_ID=203254bef19a44048a5ced44496de556$' "$T/daemon.export" || fail "no speed-regression MESSAGE_ID"
grep -q '^HALO_MODEL_PATH='"$T"'/models/model.gguf$' "$T/daemon.export" || fail "no HALO_MODEL_PATH"
pass "the model replaced by a ~4x larger one: $fast -> $slow t/s, one event: $msg"

python3 - "$STATE/state.json" "$T/models/model.gguf" <<'PY' || fail "state.json's speed section"
import json, sys
s = json.load(open(sys.argv[1]))["speed"]
r = s["regression"]
assert r["active"] is True and r["model_path"] == sys.argv[2], r
assert "Q8_0 → BF16" in r["message"], r
assert s["models"][sys.argv[2]]["regressed"] is True
PY
"$CHECK" status --state-dir "$STATE" > "$T/status" || fail "halo-check status"
grep -qE '^slower:      (Generation|Prompt processing) .*Q8_0 → BF16' "$T/status" || { cat "$T/status"; fail "status has no slower: line"; }
pass "state.json and halo-check status show it"
stop_daemon || fail "daemon exit status $?"
exit 0
