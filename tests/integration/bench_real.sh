#!/bin/bash
# `halo-check bench` against the real llama-server (tiny model, CPU): every figure agrees with the
# server's own timings; a depth beyond the context is measured at the context and said so; --save
# and --compare; and bad input: no engine on the port, a saved file that is no bench result, an
# engine that stops mid-run. Under CI a missing llama-server fails the test, never skips it.
. "$HALO_SOURCE_DIR/tests/support/llama_server.sh"
require_llama_server server
model=$(make_test_model "${HALO_BINARY_DIR:?set by ctest}/test-models" --size tiny --template plain) || {
    echo "FAIL: could not generate a test model"
    exit 1
}
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
export XDG_CONFIG_HOME="$T/config" # no configuration: the engine is --url

EPID=""
start_engine() {
    "$server" --host 127.0.0.1 --port "$PORT" -m "$model" -c 1024 -np 1 "$@" > "$T/engine.log" 2>&1 &
    EPID=$!
    echo "$EPID" >> "$T/engine-pids"
    for _ in $(seq 600); do
        curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && return 0
        kill -0 "$EPID" 2>/dev/null || fail "llama-server exited: $(tail -5 "$T/engine.log")"
        sleep 0.05
    done
    fail "llama-server not ready within 30 s"
}
command -v curl >/dev/null || { echo "not run: curl missing"; exit 77; }
start_engine
URL="http://127.0.0.1:$PORT"

"$CHECK" bench --url "$URL" --runs 3 --depths 64,256,4096 --json > "$T/a.json" 2> "$T/err" || fail "bench: $(cat "$T/err")"
python3 - "$T/a.json" <<'PY' || fail "the figures do not agree with the server's timings"
import json, sys
r = json.load(open(sys.argv[1]))
def close(a, b):
    return abs(a - b) <= max(1e-6, 1e-9 * abs(b))
assert r["context"] == 1024, r["context"]
for part in ("request", "stream"):
    t = r[part]["timings"]
    assert len(t) == 3, part
    for x in t:
        assert x["predicted_n"] > 0
        assert close(x["predicted_per_second"], x["predicted_n"] * 1000 / x["predicted_ms"]), x
        assert close(x["prompt_per_second"], x["prompt_n"] * 1000 / x["prompt_ms"]), x
        assert x["cache_n"] == 0, ("the prompt cache answered", x)
    rates = sorted(x["predicted_n"] * 1000 / x["predicted_ms"] for x in t)
    assert close(r[part]["generation_per_second"]["median"], rates[1]), part
    assert r[part]["generation_per_second"]["min"] == rates[0] and r[part]["generation_per_second"]["max"] == rates[2]
# The client's wall time holds the engine's own time.
for ms, x in zip(r["request"]["ms"]["runs"], r["request"]["timings"]):
    assert ms >= x["prompt_ms"] + x["predicted_ms"], (ms, x)
for ms, ttft in zip(r["stream"]["ms"]["runs"], r["stream"]["first_token_ms"]["runs"]):
    assert 0 < ttft <= ms, (ttft, ms)
assert all(x["predicted_n"] == 32 for x in r["stream"]["timings"]), "ignore_eos: 32 tokens each"
# Depths: exactly the tokens asked for (the server may add BOS), the last capped by the context.
d = r["depths"]
assert [x["depth"] for x in d] == [64, 256, 1016], [x["depth"] for x in d]
for x in d:
    assert x["depth"] <= x["timings"]["prompt_n"] <= x["depth"] + 1, x
    assert close(x["prompt_per_second"], x["timings"]["prompt_n"] * 1000 / x["timings"]["prompt_ms"])
    assert x["wall_ms"] >= x["timings"]["prompt_ms"]
assert any("depth 4096 is beyond the engine's context of 1024 tokens" in n for n in r["notes"]), r["notes"]
assert r["fill_context_seconds"] > 0
assert r["memory"]["before"]["rss_bytes"] > 1 << 20, "the engine's RSS"
assert r["memory"]["peak"]["rss_bytes"] >= r["memory"]["before"]["rss_bytes"]
assert r["config"]["kernel.release"], r["config"]
o = r["overhead"]
assert 0 < o["engine_ms"] <= o["wall_ms"], o
PY
pass "bench --json: figures agree with the server's timings, the depth capped by the context"

"$CHECK" bench --url "$URL" --runs 1 --depths 64 --save --state-dir "$T/state" > "$T/table" 2> "$T/err" \
    || fail "bench --save: $(cat "$T/err")"
grep -q '^request (max_tokens 10) ' "$T/table" || { cat "$T/table"; fail "no request row"; }
grep -q '^prompt processing at 64 ' "$T/table" || { cat "$T/table"; fail "no depth row"; }
grep -q '^GTT in use before / peak .*not available' "$T/table" || { cat "$T/table"; fail "GTT is not 'not available' without amdgpu"; }
saved=$(ls "$T"/state/bench/bench-*.json) || fail "--save wrote nothing under the state directory"
grep -q "saved $saved" "$T/err" || fail "--save does not say where: $(cat "$T/err")"
pass "the table, --save into the state directory"

"$CHECK" bench --compare "$T/a.json" "$saved" > "$T/compare" || fail "--compare A B"
grep -q '^generation .*×$' "$T/compare" || { cat "$T/compare"; fail "no ratio"; }
grep -q 'configuration: the same facts' "$T/compare" || { cat "$T/compare"; fail "the same machine's facts differ"; }
pass "--compare: side by side with ratios"

echo '{"verdict": "ok"}' > "$T/report.json"
run_rc() { "$@" > "$T/out" 2> "$T/err"; echo $?; }
[ "$(run_rc "$CHECK" bench --compare "$T/a.json" "$T/report.json")" = 3 ] || fail "a foreign file is not exit 3"
grep -q "halo-check: error: '$T/report.json' is not a halo-check bench result" "$T/err" || fail "$(cat "$T/err")"
pass "a file that is no bench result: exit 3, named"

# The engine stops mid-run: the command ends with exit 3 and says what it was doing.
# The large model on one thread: 100 runs take a minute, so at 1 s the bench is mid-run.
kill -TERM "$EPID"
wait "$EPID" 2>/dev/null
model=$(make_test_model "$HALO_BINARY_DIR/test-models" --size large --template plain) || fail "no large test model"
start_engine -t 1
"$CHECK" bench --url "$URL" --runs 100 --depths 512 > "$T/out" 2> "$T/err" &
B=$!
sleep 1
kill -KILL "$EPID"
wait "$B"
rc=$?
[ "$rc" = 3 ] || fail "an engine killed mid-run gave exit $rc: $(cat "$T/err")"
grep -q "halo-check: error: halo-check bench against '$URL' stopped: " "$T/err" || fail "$(cat "$T/err")"
pass "the engine killed mid-run: exit 3, $(cut -c1-120 "$T/err")"

[ "$(run_rc "$CHECK" bench --url "$URL" --runs 1)" = 3 ] || fail "no engine on the port is not exit 3"
grep -q "is the engine running?" "$T/err" || fail "$(cat "$T/err")"
pass "no engine: exit 3 with what to do"
exit 0
