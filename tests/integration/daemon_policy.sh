#!/bin/bash
# halo-checkd's gate: no launch on a broken verdict (the reason in STATUS and the state file), a
# launch once the facts turn ok on reload, a broken rules file or config on reload keeps the last
# good ones, a verdict turning broken does not kill a running engine (stop_on_refusal = false)
# but does with stop_on_refusal = true, and no orphan engine after `kill -9` of the daemon.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
FACTS="$T/facts.toml"

cp "$DATA/facts/broken-fw-20251125-rocm.toml" "$FACTS"
write_config normal
start_daemon "$FACTS"
wait_for refused
grep -q '"status": "refusing to start engine: broken: [a-z0-9.-]* · waiting for a fix"' "$STATE/state.json" \
    || fail "refusal status line"
grep -q 'launched as pid' "$T/daemon.log" && fail "engine launched on a broken verdict"
"$CHECK" status --state-dir "$STATE" | grep -q 'refusing to start engine: broken' || fail "status shows no refusal"
pass "broken verdict → refused, not launched"

# The machine is fixed: reload launches the engine.
cp "$DATA/facts/ok-vulkan-radv.toml" "$FACTS"
"$CHECK" reload --state-dir "$STATE" >/dev/null || fail "halo-check reload"
wait_for ready
pass "reload after a fix → launched"

# A broken rules file on reload: keep the old rules, say so. (--rules names a directory that
# gets a bad file after the start.)
printf '[[rule]]\nid = "x"\nseverity = "nonsense"\n' > "$T/bad.toml"
stop_daemon
mkdir -p "$T/rules.d"
start_daemon "$FACTS" --rules "$T/rules.d"
wait_for ready
p1=$(engine_pid)
cp "$T/bad.toml" "$T/rules.d/bad.toml"
kill -HUP "$DPID"
for _ in $(seq 100); do grep -q 'running on the last good rules' "$STATE/state.json" && break; sleep 0.05; done
grep -q 'running on the last good rules' "$STATE/state.json" || fail "reload error not in the state"
grep -q 'reload failed, running on the last good config and rules' "$STATE/state.json" || fail "reload error not in STATUS"
[ "$(engine_pid)" = "$p1" ] && [ "$(engine_state)" = ready ] || fail "engine disturbed by a bad rules reload"
kill -0 "$DPID" || fail "daemon died on a bad rules file"
rm "$T/rules.d/bad.toml"
# An invalid config on reload: same.
cp "$T/config.toml" "$T/config.good"
echo 'policy = 3' >> "$T/config.toml"
kill -HUP "$DPID"
for _ in $(seq 100); do grep -q 'config.toml:[0-9]*:[0-9]*: ' "$STATE/state.json" && break; sleep 0.05; done
grep -q 'config.toml:[0-9]*:[0-9]*: ' "$STATE/state.json" || fail "config reload error without file:line:col"
cp "$T/config.good" "$T/config.toml"
pass "bad rules / bad config on reload → last good kept"

# Verdict turns broken while running: the engine keeps running (stop_on_refusal = false).
cp "$DATA/facts/broken-fw-20251125-rocm.toml" "$FACTS"
kill -HUP "$DPID"
for _ in $(seq 100); do grep -q 'engine kept running' "$STATE/state.json" && break; sleep 0.05; done
grep -q 'engine kept running' "$STATE/state.json" || fail "no note that the engine kept running"
[ "$(engine_pid)" = "$p1" ] && kill -0 "$p1" || fail "running engine killed without stop_on_refusal"
pass "refusal while running → kept running"

# With stop_on_refusal = true it stops and is refused.
cp "$DATA/facts/ok-vulkan-radv.toml" "$FACTS"
write_config normal
sed -i 's/^\[engine.restart\]/[daemon]\nstop_on_refusal = true\n[engine.restart]/' "$T/config.toml"
kill -HUP "$DPID"; sleep 0.3
cp "$DATA/facts/broken-fw-20251125-rocm.toml" "$FACTS"
kill -HUP "$DPID"
wait_for refused
wait_gone "$p1" || fail "engine not stopped with stop_on_refusal"
pass "stop_on_refusal → stopped and refused"

# kill -9 of the daemon: PR_SET_PDEATHSIG takes the engine down with it.
cp "$DATA/facts/ok-vulkan-radv.toml" "$FACTS"
kill -HUP "$DPID"
wait_for ready
p2=$(engine_pid)
kill -KILL "$DPID"; wait "$DPID" 2>/dev/null; DPID=""
wait_gone "$p2" 5 || fail "engine $p2 orphaned after kill -9 of halo-checkd"
pass "no orphan after kill -9 of the daemon"

# An invalid config at start: exit 78 with file:line:col.
printf '[engine]\ncommand = "not-an-array"\n' > "$T/bad-config.toml"
"$CHECKD" --config "$T/bad-config.toml" --facts "$FACTS" --state-dir "$STATE" > "$T/out" 2>&1; rc=$?
[ "$rc" = 78 ] || fail "invalid config exit code $rc"
grep -q "bad-config.toml:2:11: \[engine\] command must be a non-empty array" "$T/out" || { cat "$T/out"; fail "message"; }
pass "invalid config at start → exit 78, file:line:col"
