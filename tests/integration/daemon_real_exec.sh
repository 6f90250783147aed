#!/bin/bash
# An engine command that cannot be executed fails at once, named, without a restart: a binary
# that is not there (exit 127) and the real llama-server copied without its execute bit (126).
# Restarting either only repeats the same exit.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/real_engine.sh"

# engine_field NAME: the engine's NAME from state.json, as JSON.
engine_field() { python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["engine"][sys.argv[2]]))' "$STATE/state.json" "$1"; }

# expect_failed_once REASON_START: failed with that reason, launched once, no restart.
expect_failed_once() {
    local want="$1"
    wait_for failed 30
    sleep 1 # a restart, were one scheduled, would come within backoff_initial (200 ms)
    [ "$(engine_state)" = failed ] || fail "not failed a second later (is '$(engine_state)')"
    local reason; reason=$(engine_field reason)
    case "$reason" in "\"$want"*) ;; *) fail "reason $reason, want it to start with '$want'" ;; esac
    case "$reason" in *"restarting will not help"*) ;; *) fail "reason $reason does not say a restart will not help" ;; esac
    [ "$(engine_field restarts)" = "[]" ] || fail "restarted: $(engine_field restarts)"
    local launches; launches=$(grep -c 'launched as pid' "$T/daemon.log")
    [ "$launches" = 1 ] || fail "launched $launches times"
}

real_config
sed -i "s|command = \[\"$LLAMA\"|command = [\"/opt/nope/llama-server\"|" "$T/config.toml"
grep -q 'command = \["/opt/nope/llama-server"' "$T/config.toml" || fail "test setup: command not replaced"
start_daemon "$DATA/facts/ok-vulkan-radv.toml"
expect_failed_once "command not found: /opt/nope/llama-server"
stop_daemon || fail "daemon exit code"
pass "a missing binary (exit 127) fails at once: command not found, no restart"

rm -f "$STATE/state.json" # the next daemon's state, not this one's
cp "$LLAMA" "$T/llama-server"
chmod 0644 "$T/llama-server"
real_config
sed -i "s|command = \[\"$LLAMA\"|command = [\"$T/llama-server\"|" "$T/config.toml"
start_daemon "$DATA/facts/ok-vulkan-radv.toml"
expect_failed_once "permission denied: $T/llama-server is not executable"
stop_daemon || fail "daemon exit code"
pass "a binary without its execute bit (exit 126) fails at once: permission denied, no restart"

# The same binary, executable: it runs (the failure above was the mode, not the copy).
chmod 0755 "$T/llama-server"
rm -f "$STATE/state.json"
start_daemon "$DATA/facts/ok-vulkan-radv.toml"
wait_for ready 300
stop_daemon || fail "daemon exit code"
pass "the copy runs once executable"
