#!/bin/bash
# `halo-check engine-check` against the real llama-server (tiny model, CPU), plain and thinking
# templates, with and without --api-key; the old prefill 400 and a template that cannot render
# tools replayed by a proxy in front of it; a proxy that rewrites the billing header so the
# server cannot normalise it shows the cache-reuse warning with the server's own figures; bad
# input: an HTML answer, a truncated stream, a 10 MB body, a hanging stream (bounded by
# --timeout); no engine on the port (exit 3). Under CI a missing llama-server fails the test.
. "$HALO_SOURCE_DIR/tests/support/llama_server.sh"
require_llama_server server
models="${HALO_BINARY_DIR:?set by ctest}/test-models"
plain=$(make_test_model "$models" --size tiny --template plain) || { echo "FAIL: no test model"; exit 1; }
thinking=$(make_test_model "$models" --size tiny --template thinking) || { echo "FAIL: no test model"; exit 1; }
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
export XDG_CONFIG_HOME="$T/config" # no configuration: the engine is --url
command -v curl >/dev/null || { echo "not run: curl missing"; exit 77; }
PROXY_PORT=$("$FAKE" --free-port)
PXPID=""

stop_all() {
    [ -n "$PXPID" ] && kill "$PXPID" 2>/dev/null && wait "$PXPID" 2>/dev/null
    [ -n "${EPID:-}" ] && kill "$EPID" 2>/dev/null && wait "$EPID" 2>/dev/null
    PXPID="" EPID=""
}
start_engine() {
    local model=$1
    shift
    "$server" --host 127.0.0.1 --port "$PORT" -m "$model" -c 4096 -np 1 "$@" > "$T/engine.log" 2>&1 &
    EPID=$!
    echo "$EPID" >> "$T/engine-pids"
    for _ in $(seq 600); do
        curl -s -o /dev/null "http://127.0.0.1:$PORT/health" 2>/dev/null &&
            [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")" = 200 ] && return 0
        kill -0 "$EPID" 2>/dev/null || fail "llama-server exited: $(tail -5 "$T/engine.log")"
        sleep 0.05
    done
    fail "llama-server not ready within 30 s"
}
start_proxy() {
    rm -f "$T/proxy.out" # the last proxy's "ready" must not count for this one
    python3 "$HALO_SOURCE_DIR/tests/support/engine_api_proxy.py" "$PROXY_PORT" "http://127.0.0.1:$PORT" "$1" \
        "$DATA/engine-api" > "$T/proxy.out" 2>&1 &
    PXPID=$!
    for _ in $(seq 200); do grep -q ready "$T/proxy.out" 2>/dev/null && return 0; sleep 0.05; done
    fail "the test proxy did not start: $(cat "$T/proxy.out")"
}
# status_of FILE ID: the check's status in an engine-check --json result.
status_of() {
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(*[c["status"] for c in r["checks"] if c["id"]==sys.argv[2]])' "$1" "$2"
}
detail_of() {
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(*[c["detail"]+" | "+c["fix"] for c in r["checks"] if c["id"]==sys.argv[2]])' "$1" "$2"
}
run_check() { # run_check NAME URL [options]: JSON into $T/NAME.json, exit code into $T/NAME.rc
    local name=$1 url=$2
    shift 2
    "$CHECK" engine-check --url "$url" --json "$@" > "$T/$name.json" 2> "$T/$name.err"
    echo $? > "$T/$name.rc"
}
# This llama-server leaves out message_start from about one stream in ten (6 of 60 measured
# with curl: the stream opens with content_block_start), which Anthropic's SDK refuses.
# engine-check sends a failed stream once more and calls a clean repeat "warn" with
# "intermittent: …"; the test takes that, in exactly that form, as the server's. Both tries
# failing that way (about 1 in 100) sends for one more check run.
no_start="event 'content_block_start' out of order after 'the start'"
stream_ok() { # stream_ok NAME URL [options]: messages-stream in $T/NAME.json passed, or was intermittent
    local name=$1 url=$2 s
    shift 2
    s=$(status_of "$T/$name.json" messages-stream)
    [ "$s" = pass ] && return 0
    if [ "$s" = warn ]; then
        detail_of "$T/$name.json" messages-stream | grep -qF "intermittent: the first try failed ($no_start" && return 0
        return 1
    fi
    [ "$(detail_of "$T/$name.json" messages-stream | grep -oF "$no_start" | wc -l)" -ge 2 ] || return 1
    run_check "$name-again" "$url" --only messages-stream "$@"
    s=$(status_of "$T/$name-again.json" messages-stream)
    [ "$s" = pass ] || { [ "$s" = warn ] && detail_of "$T/$name-again.json" messages-stream | grep -qF "intermittent:"; }
}
URL="http://127.0.0.1:$PORT"
PX="http://127.0.0.1:$PROXY_PORT"

# The plain template, no key: everything the real server can show passes but tools, which its
# template cannot render; auth is skipped.
start_engine "$plain"
run_check plain "$URL"
stream_ok plain "$URL" || fail "plain: messages-stream: $(detail_of "$T/plain.json" messages-stream)"
python3 - "$T/plain.json" <<'PY' || fail "plain: $(cat "$T/plain.json" "$T/plain.err")"
import json, sys
r = json.load(open(sys.argv[1]))
s = {c["id"]: c["status"] for c in r["checks"]}
assert list(s) == ["models", "messages", "messages-stream", "tools", "prefill", "thinking", "count-tokens",
                   "cache-reuse", "auth"], list(s)
for k in ("models", "messages", "prefill", "thinking", "count-tokens", "cache-reuse"):
    assert s[k] == "pass", (k, r["checks"])
assert s["messages-stream"] in ("pass", "warn", "fail"), r["checks"]  # judged by stream_ok above
assert s["auth"] == "skip"
# The plain test template renders no tools (/props chat_template_caps): the real server shows it.
tools = [c for c in r["checks"] if c["id"] == "tools"][0]
assert s["tools"] == "fail" and "cannot render tools" in tools["detail"], tools
assert r["verdict"] == "fail" and r["exit_code"] == 2
assert r["engine"]["n_ctx"] == 4096 and r["engine"]["build"], r["engine"]
assert r["exit_code"] == {"pass": 0, "warn": 1, "fail": 2}[r["verdict"]]
assert all(c["ms"] >= 0 for c in r["checks"])
PY
[ "$(cat "$T/plain.rc")" = "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["exit_code"])' "$T/plain.json")" ] ||
    fail "the exit code is not the JSON's exit_code"
pass "plain template: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(*[c["id"]+"="+c["status"] for c in r["checks"]])' "$T/plain.json")"
"$CHECK" engine-check --url "$URL" --only models,count-tokens > "$T/text.out" || fail "text output: $(cat "$T/text.out")"
grep -q '^  pass  models' "$T/text.out" && grep -q '^verdict: pass' "$T/text.out" && [ "$(grep -c '^  ' "$T/text.out")" = 2 ] ||
    fail "--only and the text report: $(cat "$T/text.out")"

# The replayed 400s of older builds, in front of the real server.
start_proxy prefill400
run_check prefill "$PX" --only prefill,messages
[ "$(status_of "$T/prefill.json" prefill)" = fail ] && [ "$(cat "$T/prefill.rc")" = 2 ] || fail "prefill 400: $(cat "$T/prefill.json")"
detail_of "$T/prefill.json" prefill | grep -q 'incompatible with enable_thinking.*--reasoning-budget 0' || fail "prefill fix"
[ "$(status_of "$T/prefill.json" messages)" = pass ] || fail "messages through the proxy"
kill "$PXPID"; wait "$PXPID" 2>/dev/null
start_proxy tools400
run_check tools "$PX" --only tools
[ "$(status_of "$T/tools.json" tools)" = fail ] || fail "tools 400: $(cat "$T/tools.json")"
detail_of "$T/tools.json" tools | grep -q 'cannot render tools' || fail "tools detail: $(cat "$T/tools.json")"
pass "replayed 400s: prefill and tools fail with their fixes (exit 2)"

# The billing header rewritten so the server cannot normalise it: the real cache misses.
kill "$PXPID"; wait "$PXPID" 2>/dev/null
start_proxy billing
run_check billing "$PX" --only cache-reuse
[ "$(status_of "$T/billing.json" cache-reuse)" = warn ] && [ "$(cat "$T/billing.rc")" = 1 ] ||
    fail "cache-reuse warn: $(cat "$T/billing.json")"
detail_of "$T/billing.json" cache-reuse | grep -q 'CLAUDE_CODE_ATTRIBUTION_HEADER=0' || fail "cache-reuse fix"
detail_of "$T/billing.json" cache-reuse | grep -q 's of re-prefill per turn' || fail "cache-reuse cost"
pass "billing-header proxy: cache-reuse warns ($(detail_of "$T/billing.json" cache-reuse | cut -c1-80))"

# Bad input, each a fail naming what came back, never a hang.
for mode in html truncated big hang; do
    kill "$PXPID"; wait "$PXPID" 2>/dev/null
    start_proxy $mode
    start=$(date +%s)
    run_check $mode "$PX" --only messages,messages-stream --timeout 3
    [ $(( $(date +%s) - start )) -le 15 ] || fail "$mode: not bounded by --timeout"
    [ "$(cat "$T/$mode.rc")" = 2 ] || fail "$mode: exit $(cat "$T/$mode.rc"): $(cat "$T/$mode.json" "$T/$mode.err")"
done
detail_of "$T/html.json" messages | grep -q 'not JSON.*<html>' || fail "html detail: $(cat "$T/html.json")"
[ "$(status_of "$T/truncated.json" messages-stream)" = fail ] || fail "truncated stream"
detail_of "$T/big.json" messages | grep -qi 'large\|limit\|exceed\|MiB\|bytes' || fail "big detail: $(cat "$T/big.json")"
[ "$(status_of "$T/hang.json" messages-stream)" = fail ] || fail "hanging stream"
pass "bad input: html, truncated SSE, 10 MB body, hanging stream are fails within --timeout"
stop_all

# The thinking template with --api-key: auth passes with the key, and without it exit 2.
echo "sekrit-key" > "$T/key"
start_engine "$thinking" --api-key sekrit-key
run_check think "$URL" --api-key-file "$T/key"
stream_ok think "$URL" --api-key-file "$T/key" || fail "thinking: messages-stream: $(detail_of "$T/think.json" messages-stream)"
for k in models messages prefill thinking count-tokens cache-reuse auth; do
    [ "$(status_of "$T/think.json" $k)" = pass ] || fail "thinking/$k: $(detail_of "$T/think.json" $k)"
done
run_check nokey "$URL" --only messages
[ "$(cat "$T/nokey.rc")" = 2 ] && detail_of "$T/nokey.json" messages | grep -q 'HTTP 401' || fail "no key: $(cat "$T/nokey.json")"
grep -q sekrit "$T/think.json" "$T/think.err" && fail "the key is in the output"
pass "thinking template with --api-key: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(*[c["id"]+"="+c["status"] for c in r["checks"]])' "$T/think.json")"

# No engine configured: the URL, the model and the token come from Claude Code's settings.
mkdir -p "$T/home/.claude"
cat > "$T/home/.claude/settings.json" <<EOF
{"env": {"ANTHROPIC_BASE_URL": "$URL/", "ANTHROPIC_AUTH_TOKEN": "sekrit-key", "ANTHROPIC_MODEL": "glm-4.7-flash"}}
EOF
HOME="$T/home" "$CHECK" engine-check --json --only models,messages,auth > "$T/client.json" 2> "$T/client.err" ||
    fail "Claude Code's settings: exit $?: $(cat "$T/client.json" "$T/client.err")"
python3 - "$T/client.json" "$URL" <<'PY' || fail "Claude Code's settings: $(cat "$T/client.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["url"] == sys.argv[2], r["url"]
assert r["engine"]["model"] == "glm-4.7-flash", r["engine"]
s = {c["id"]: c["status"] for c in r["checks"]}
assert s["messages"] == "pass" and s["auth"] == "pass", r["checks"]
PY
grep -q sekrit "$T/client.json" "$T/client.err" && fail "Claude Code's token is in the output"
printf '{"env": {"ANTHROPIC_BASE_URL": "%s",}}\n' "$URL" > "$T/home/.claude/settings.json"
HOME="$T/home" "$CHECK" engine-check --url "$URL" --only messages --api-key-file "$T/key" > /dev/null 2> "$T/badjson.err" ||
    fail "bad settings JSON stops engine-check: $(cat "$T/badjson.err")"
grep -q "warning: Failed to parse '$T/home/.claude/settings.json' at line 1" "$T/badjson.err" ||
    fail "bad settings JSON: $(cat "$T/badjson.err")"
pass "no engine configured: URL, model and token from Claude Code's settings; bad JSON is a warning with the line"
stop_all

# No engine: exit 3 with the URL in the message.
"$CHECK" engine-check --url "$URL" > /dev/null 2> "$T/down.err"
rc=$?
[ $rc = 3 ] && grep -q "cannot be reached" "$T/down.err" && grep -qF "$URL" "$T/down.err" || fail "no engine: exit $rc: $(cat "$T/down.err")"
pass "no engine on the port: exit 3"
