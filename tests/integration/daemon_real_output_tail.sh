#!/bin/bash
# state.json's output_tail follows the engine's output after ready, not only on state changes:
# a request sent to the real llama-server behind the daemon's back (no state change at all)
# makes it print its slot and timing lines, and they reach output_tail within about a second.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/real_engine.sh"

tail_lines() { python3 -c 'import json,sys; print("\n".join(json.load(open(sys.argv[1]))["engine"]["output_tail"]))' "$STATE/state.json"; }

real_config
start_daemon "$DATA/facts/ok-vulkan-radv.toml"
wait_for ready 300
for _ in $(seq 1200); do grep -q '"smoke_last_good": {' "$STATE/state.json" && break; sleep 0.05; done
grep -q '"smoke_last_good": {' "$STATE/state.json" || fail "no successful smoke test"
sleep 1.5 # the smoke test's own lines have had their write
tail_lines > "$T/before.txt"

started=$(date +%s%N)
python3 - "$PORT" <<'EOP' || fail "the direct request to llama-server failed"
import json, sys, urllib.request
body = json.dumps({"messages": [{"role": "user", "content": "Say hi"}], "max_tokens": 4}).encode()
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/v1/chat/completions", body,
                             {"Content-Type": "application/json"})
# Loopback: a proxy from the environment must not see it.
urllib.request.build_opener(urllib.request.ProxyHandler({})).open(req, timeout=60).read()
EOP
answered=$(date +%s%N)
# Every line starts with its elapsed time: a line not seen before is a new one.
found=""
for _ in $(seq 200); do
    if tail_lines | grep -vxF -f "$T/before.txt" | grep -q 'print_timing\|release:'; then found=yes; break; fi
    kill -0 "$DPID" 2>/dev/null || fail "halo-checkd exited"
    sleep 0.05
done
seen=$(date +%s%N)
[ -n "$found" ] || { tail_lines | tail -5; fail "the request's lines did not reach output_tail within 10s of the answer"; }
[ "$(engine_state)" = ready ] || fail "engine not ready (is '$(engine_state)')"
echo "request answered after $(( (answered - started) / 1000000 )) ms; its lines in output_tail $(( (seen - answered) / 1000000 )) ms later"
stop_daemon || fail "daemon exit code"
pass "engine lines printed after ready reach output_tail without a state change"
