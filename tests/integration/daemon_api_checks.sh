#!/bin/bash
# halo-checkd runs the engine API checks after each ready of the real llama-server: never with
# [client] kind = "none", with no [client] table when the client probe found Claude Code's
# settings pointing at the engine, always with kind = "claude-code". The state file holds the five results (models, messages,
# messages-stream, count-tokens, auth), the facts judged hold engine.api.* and engine.build from
# /props, and `halo-check status` says "api: …". A proxy in front of the engine (the daemon's
# health_url, and so its requests, go through it) then cuts every stream short: after the next
# ready messages-stream is a fail, one journal entry names it with its detail and fix, and a
# third ready with the same fail makes no second entry; a stream that hangs is a fail after the
# request timeout. The event loop kept pinging the watchdog all along (2 s period, as the unit
# sets), through the 5 s hang too. [client] cache_check_interval adds cache-reuse on its timer. The API key is written nowhere.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/real_engine.sh"
WATCHDOG_US=2000000
KEY=sk-halo-api-5551R2D2
MID=723bf6c3ed0f41b1a1c236c9db84d72d
PROXY_PORT=$("$FAKE" --free-port)
PXPID=""

start_proxy() {
    rm -f "$T/proxy.out"
    python3 "$HALO_SOURCE_DIR/tests/support/engine_api_proxy.py" "$PROXY_PORT" "http://127.0.0.1:$PORT" "$1" \
        "$DATA/engine-api" > "$T/proxy.out" 2>&1 &
    PXPID=$!
    echo "$PXPID" >> "$T/engine-pids"
    for _ in $(seq 200); do grep -q ready "$T/proxy.out" 2>/dev/null && return 0; sleep 0.05; done
    fail "the test proxy did not start: $(cat "$T/proxy.out")"
}
stop_proxy() { kill "$PXPID" 2>/dev/null; wait "$PXPID" 2>/dev/null; PXPID=""; }
sj() { python3 -c "import json; j=json.load(open('$STATE/state.json')); print($1)" 2>/dev/null; }
api_at() { sj 'j["engine"]["api"]["at"] if j["engine"].get("api") else ""'; }
status_of() { sj "[c['status'] for c in j['engine']['api']['checks'] if c['id'] == '$1'][0]"; }
fact() { sj "j['facts']['facts'].get('$1', '')"; }
# wait_api OLD_AT [SECONDS]: until a run of the API checks newer than OLD_AT is in the state file.
wait_api() {
    local old="$1" limit="${2:-120}" i=0 at
    while [ "$i" -lt $((limit * 20)) ]; do
        at=$(api_at)
        [ -n "$at" ] && [ "$at" != "$old" ] && return 0
        kill -0 "$DPID" 2>/dev/null || fail "halo-checkd exited before the API checks ran"
        sleep 0.05; i=$((i + 1))
    done
    fail "no new API check results within ${limit}s"
}
events() { grep -c "^MESSAGE_ID=$MID$" "$T/daemon.export" 2>/dev/null; }

start_proxy pass
real_config ", \"--api-key\", \"$KEY\"" "health_url = \"http://127.0.0.1:$PROXY_PORT/health\""
sed -i 's/^smoke_timeout = .*/smoke_timeout = "5s"/' "$T/config.toml"
cp "$T/config.toml" "$T/config.auto"
# The client probe's finding, as a facts file gives it: Claude Code's settings point at the engine.
sed 's/^\[facts\]$/[facts]\n"client.kind" = "claude-code"\n"client.claude_code.points_at_engine" = "true"/' \
    "$DATA/facts/ok-vulkan-radv.toml" > "$T/facts-client.toml"
grep -q '^"client.claude_code.points_at_engine" = "true"$' "$T/facts-client.toml" || fail "test setup: client facts"
smoke_done() { wait_file_has "$STATE/state.json" '"smoke_last_good": {' 120; }

# 0. [client] kind = "none": no checks, whatever the client probe found; no [client] (auto):
#    the checks run because the facts say Claude Code points at the engine.
printf '\n[client]\nkind = "none"\n' >> "$T/config.toml"
start_daemon "$T/facts-client.toml"
wait_for ready 300
smoke_done
sleep 1 # the checks would have run within this
[ -z "$(api_at)" ] || fail "kind = none ran the API checks: $(sj 'j["engine"]["api"]')"
stop_daemon || fail "daemon exit code"
pass "[client] kind = none: no API checks"
rm -f "$STATE/state.json"
cp "$T/config.auto" "$T/config.toml"
start_daemon "$T/facts-client.toml"
wait_for ready 300
wait_api ""
[ "$(status_of messages)" = pass ] || fail "auto: messages is '$(status_of messages)'"
stop_daemon || fail "daemon exit code"
pass "no [client] table: the checks run when Claude Code's settings point at the engine"
rm -f "$STATE/state.json"

cp "$T/config.auto" "$T/config.toml"
printf '\n[client]\nkind = "claude-code"\n' >> "$T/config.toml"
"$HELPERS/notify_listener" "$T/notify.sock" "$WATCHDOG_US" -- \
    "$CHECKD" --config "$T/config.toml" --facts "$DATA/facts/ok-vulkan-radv.toml" --state-dir "$STATE" \
    --no-dropins --journal-export "$T/daemon.export" > "$T/notify.log" 2> "$T/daemon.log" &
LPID=$!
echo "$LPID" >> "$T/engine-pids"
for _ in $(seq 400); do grep -q ' READY=1$' "$T/notify.log" 2>/dev/null && break; sleep 0.05; done
DPID=$(sed -n 's/^+[0-9]* \([0-9]*\) READY=1$/\1/p' "$T/notify.log")
[ -n "$DPID" ] || { cat "$T/notify.log"; fail "no READY=1"; }

# 1. A ready engine: the five results, the facts, the status line.
wait_for ready 300
wait_api ""
first=$(api_at)
for id in models messages count-tokens auth; do
    [ "$(status_of "$id")" = pass ] || fail "$id is '$(status_of "$id")', not pass: $(sj 'j["engine"]["api"]')"
done
# This llama-server leaves message_start out of about one stream in ten: one repeat makes that
# a warn "intermittent", never a fail.
case "$(status_of messages-stream)" in pass | warn) ;; *) fail "messages-stream: $(sj 'j["engine"]["api"]')" ;; esac
[ "$(sj 'len(j["engine"]["api"]["checks"])')" = 5 ] || fail "not five checks: $(sj 'j["engine"]["api"]')"
build=$(sj 'j["engine"]["api"]["build"]')
[ -n "$build" ] && [ "$build" != None ] || fail "no build from /props"
for _ in $(seq 400); do [ "$(fact engine.api.messages)" = pass ] && break; sleep 0.05; done
[ "$(fact engine.api.messages)" = pass ] || fail "no fact engine.api.messages = pass"
[ "$(fact engine.api.auth)" = pass ] || fail "no fact engine.api.auth = pass"
[ "$(fact engine.build)" = "$build" ] || fail "fact engine.build is '$(fact engine.build)', not '$build'"
out=$("$CHECK" status --state-dir "$STATE" 2>&1) || fail "halo-check status: $out"
echo "$out" | grep -qE '^api: +(5 checks pass|warn messages-stream \(4 pass\)) \(' || fail "status has no api line: $out"
[ "$(events)" = 0 ] || fail "an API event while every check passed"
pass "after ready: five API checks in the state file ($(status_of messages-stream) for the stream), facts engine.api.* and engine.build = $build, the status line"

# 2. The proxy cuts every stream short: the next ready's messages-stream fails, one event.
stop_proxy
start_proxy truncated
out=$("$CHECK" restart --state-dir "$STATE" 2>&1) || fail "halo-check restart: $out"
wait_api "$first"
second=$(api_at)
[ "$(status_of messages-stream)" = fail ] || fail "messages-stream is '$(status_of messages-stream)' behind a proxy that cuts streams"
[ "$(status_of messages)" = pass ] || fail "messages is '$(status_of messages)', not pass"
for _ in $(seq 200); do [ "$(events)" = 1 ] && break; sleep 0.05; done
[ "$(events)" = 1 ] || fail "$(events) API events, not one"
grep -q '^HALO_API_CHECK=messages-stream$' "$T/daemon.export" || fail "the event does not name messages-stream"
grep -q '^MESSAGE=Engine API check messages-stream failed on llama-server: event 3 is not JSON.*; sent again: .*Fix: Claude Code streams' "$T/daemon.export" \
    || fail "the event has not the detail and the fix: $(grep '^MESSAGE=Engine API' "$T/daemon.export")"
grep -q '^PRIORITY=3$' "$T/daemon.export" || fail "no entry at priority err"
[ "$(fact engine.api.messages-stream)" = fail ] || for _ in $(seq 200); do [ "$(fact engine.api.messages-stream)" = fail ] && break; sleep 0.05; done
[ "$(fact engine.api.messages-stream)" = fail ] || fail "fact engine.api.messages-stream is not fail"
out=$("$CHECK" status --state-dir "$STATE" 2>&1)
echo "$out" | grep "^api:"
echo "$out" | grep -qE '^api: +fail messages-stream \(4 pass\)' || fail "status does not name the fail: $out"
pass "a stream cut short: messages-stream fail, one journal entry naming it with detail and fix, status says so"

# 3. Still failing on the next ready: no new event.
out=$("$CHECK" restart --state-dir "$STATE" 2>&1) || fail "halo-check restart: $out"
wait_api "$second"
[ "$(status_of messages-stream)" = fail ] || fail "messages-stream is '$(status_of messages-stream)' on the third ready"
sleep 0.5
[ "$(events)" = 1 ] || fail "a fail that stayed a fail made a new event ($(events) events)"
pass "the same fail on the next ready: no second event"

# 4. A stream that hangs: bounded by the timeout (smoke_timeout, 5 s here) while the loop runs on.
third=$(api_at)
stop_proxy
start_proxy hang
out=$("$CHECK" restart --state-dir "$STATE" 2>&1) || fail "halo-check restart: $out"
wait_api "$third" 60
sj '[c["detail"] for c in j["engine"]["api"]["checks"] if c["id"] == "messages-stream"][0]' | grep -q 'cut off or timed out' \
    || fail "a hanging stream: $(sj 'j["engine"]["api"]')"
[ "$(status_of count-tokens)" = pass ] || fail "the checks after the hanging stream did not run"
ms=$(sj '[c["ms"] for c in j["engine"]["api"]["checks"] if c["id"] == "messages-stream"][0]')
[ "$ms" -ge 4500 ] && [ "$ms" -lt 15000 ] || fail "the hanging stream took $ms ms, not the 5 s timeout"
pass "a hanging stream: a fail after the 5 s timeout, the other checks still run"

kill -TERM "$DPID"; wait "$LPID"; rc=$?; DPID=""
[ "$rc" = 0 ] || fail "halo-checkd exit code $rc"
stop_proxy
for f in "$STATE/state.json" "$T/daemon.log" "$T/daemon.export"; do
    grep -qF -- "$KEY" "$f" && fail "the API key is in $f"
done
gap=$(grep ' WATCHDOG=1$' "$T/notify.log" | awk '{t=substr($1,2)+0; if (NR>1 && t-p>m) m=t-p; p=t} END {print m+0}')
pings=$(grep -c ' WATCHDOG=1$' "$T/notify.log")
[ "$pings" -gt 4 ] || fail "only $pings watchdog pings"
[ "$gap" -lt $((WATCHDOG_US / 1000)) ] || fail "watchdog gap ${gap} ms ≥ WATCHDOG_USEC"
pass "the watchdog pinged every ${gap} ms at most ($pings pings) through four runs of the checks; the key written nowhere"

# 5. [client] cache_check_interval: cache-reuse alone on its timer (a context that holds a ~1K
#    prefix), its result joining the others in the state file and the facts.
rm -f "$STATE/state.json"
stop_proxy
start_proxy pass
sed -i 's/"-c", "512"/"-c", "4096"/' "$T/config.toml"
grep -q '"-c", "4096"' "$T/config.toml" || fail "test setup: context not raised"
printf 'cache_check_interval = "1s"\n' >> "$T/config.toml" # [client] is the last table
start_daemon "$DATA/facts/ok-vulkan-radv.toml"
wait_for ready 300
wait_api ""
for _ in $(seq 600); do [ -n "$(sj "[c for c in j['engine']['api']['checks'] if c['id'] == 'cache-reuse']")" ] &&
    [ "$(sj "[c for c in j['engine']['api']['checks'] if c['id'] == 'cache-reuse']")" != "[]" ] && break; sleep 0.05; done
[ "$(status_of cache-reuse)" = pass ] || fail "cache-reuse: $(sj 'j["engine"]["api"]')"
[ "$(sj 'len(j["engine"]["api"]["checks"])')" = 6 ] || fail "not six checks: $(sj 'j["engine"]["api"]')"
for _ in $(seq 200); do [ "$(fact engine.api.cache-reuse)" = pass ] && break; sleep 0.05; done
[ "$(fact engine.api.cache-reuse)" = pass ] || fail "no fact engine.api.cache-reuse = pass"
stop_daemon || fail "daemon exit code"
stop_proxy
pass "cache_check_interval: cache-reuse $(sj '[c["detail"] for c in j["engine"]["api"]["checks"] if c["id"] == "cache-reuse"][0]'), beside the five"

