#!/bin/bash
# The control verbs wait for their outcome and say it, as systemctl does: restart returns when the
# engine is ready again, smoke prints its figures, reload exits non-zero when the reload failed
# (the daemon keeps its last good config), --no-wait returns at once. status --json validates
# against docs/json-schema.json.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
FACTS="$T/facts.toml"
cp "$DATA/facts/ok-vulkan-radv.toml" "$FACTS"
write_config normal
start_daemon "$FACTS"
wait_for ready

out=$("$CHECK" smoke --state-dir "$STATE" 2>&1) || fail "halo-check smoke: $out"
echo "$out" | grep -q '^halo-check: smoke: smoke test passed: [0-9]* ms, [0-9]* tokens, generation [0-9.]* t/s$' \
    || fail "smoke printed no result: $out"
pass "smoke waits and prints the result"

p1=$(engine_pid)
out=$("$CHECK" restart --state-dir "$STATE" 2>&1) || fail "halo-check restart: $out"
echo "$out" | grep -q '^halo-check: restart: engine fake-llama ready$' || fail "restart said: $out"
# Returned when the new engine was ready, not before.
[ "$(engine_state)" = ready ] || fail "restart returned with the engine '$(engine_state)'"
[ "$(engine_pid)" != "$p1" ] || fail "restart returned before the engine was replaced (pid $p1)"
pass "restart returns once the new engine is ready"

cp "$T/config.toml" "$T/config.good"
printf '\n[daemon]\nnmae = "typo"\n' >> "$T/config.toml"
out=$("$CHECK" reload --state-dir "$STATE" 2>&1); rc=$?
[ "$rc" -ne 0 ] || fail "reload of a bad config exited 0: $out"
echo "$out" | grep -q "halo-check: error: reload: reload failed: .*nmae" || fail "reload said: $out"
cp "$T/config.good" "$T/config.toml"
out=$("$CHECK" reload --state-dir "$STATE" 2>&1) || fail "reload of the fixed config: $out"
echo "$out" | grep -q '^halo-check: reload: reloaded: verdict ok$' || fail "reload said: $out"
pass "reload exits non-zero when the reload failed, 0 once fixed"

out=$("$CHECK" stop --no-wait --state-dir "$STATE" 2>&1) || fail "stop --no-wait: $out"
echo "$out" | grep -q "^asked halo-checkd (pid [0-9]*) to stop" || fail "stop --no-wait said: $out"
wait_for stopped
out=$("$CHECK" smoke --timeout 5 --state-dir "$STATE" 2>&1); rc=$?
[ "$rc" -eq 1 ] || fail "smoke with the engine stopped exited $rc: $out"
echo "$out" | grep -q "smoke test not run" || fail "smoke with the engine stopped said: $out"
pass "--no-wait returns at once; a smoke test that cannot run fails"

out=$("$CHECK" status --json --state-dir "$STATE") || fail "status --json"
if python3 -c 'import jsonschema' 2>/dev/null; then
    python3 "$HALO_SOURCE_DIR/tests/support/validate_json.py" "$HALO_SOURCE_DIR/docs/json-schema.json" status <<<"$out" \
        || fail "status --json does not match docs/json-schema.json"
    pass "status --json matches the schema"
elif [ "${CI:-}" = true ]; then
    fail "python3-jsonschema is missing (scripts/install-deps installs it)"
fi
stop_daemon
