#!/bin/bash
# The real llama-server with --api-key: /health answers without the key, the completion
# endpoints want it. The daemon sends the key it finds (the command's --api-key or
# --api-key-file, or [engine] api_key_file) on its smoke test, so a healthy engine is kept, and
# writes it nowhere: not the state file, not its log, not the journal (the export file), not the
# engine's output lines, not even llama-server's own "****" mask of it (-v prints one). A key
# the engine refuses (HTTP 401) is a configuration error: failed at once, no restart loop.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/real_engine.sh"

KEY=sk-halo-test-3141Q7Z9
FILE_KEY=sk-halo-file-2718W4X6

# no_secret WHAT…: none of the keys, nor llama-server's mask of one, in the state file, the
# daemon's log or the journal export.
no_secret() {
    local f s
    for f in "$STATE/state.json" "$T/daemon.log" "$T/daemon.export"; do
        for s in "$@"; do
            grep -qF -- "$s" "$f" && fail "'$s' found in $f: $(grep -F -- "$s" "$f" | head -3)"
        done
    done
    return 0
}
smoke_ok() {
    local i=0
    while [ "$i" -lt 1200 ]; do
        grep -q '"smoke_last_good": {' "$STATE/state.json" 2>/dev/null && return 0
        kill -0 "$DPID" 2>/dev/null || fail "halo-checkd exited before a smoke test passed"
        sleep 0.05; i=$((i + 1))
    done
    fail "no successful smoke test within 60s (smoke: $(tr -d '\n' < "$STATE/state.json" | grep -o '"smoke": {[^}]*}'))"
}
fresh() { rm -f "$STATE/state.json" "$T/daemon.export"; }

# 1. --api-key KEY, verbose: ready, smoke test passes, the key nowhere.
real_config ", \"--api-key\", \"$KEY\", \"-v\""
start_daemon "$DATA/facts/ok-vulkan-radv.toml" --journal-export "$T/daemon.export"
wait_for ready 300
smoke_ok
wait_file_has "$T/daemon.export" 'api_keys: ****' 30 # llama-server -v printed its mask of the key …
stop_daemon || fail "daemon exit code"
grep -q 'unauthorized' "$T/daemon.export" && fail "the engine refused a request of the daemon's"
no_secret "$KEY" "Q7Z9"                               # … and neither it nor the key got through
pass "--api-key: ready, smoke test ok with the key, the key in no state, log or journal line"

# 2. --api-key-file FILE: read as llama-server reads it (a comment line first).
fresh
printf '# the engine'"'"'s key\n%s\n' "$FILE_KEY" > "$T/engine.key"
real_config ", \"--api-key-file\", \"$T/engine.key\""
start_daemon "$DATA/facts/ok-vulkan-radv.toml" --journal-export "$T/daemon.export"
wait_for ready 300
smoke_ok
stop_daemon || fail "daemon exit code"
no_secret "$FILE_KEY"
pass "--api-key-file: smoke test ok with the file's key"

# 3. [engine] api_key_file with a key the engine does not hold: failed, said as such, no restart.
fresh
echo "sk-wrong-key-000" > "$T/daemon.key"
real_config ", \"--api-key\", \"$KEY\"" "api_key_file = \"$T/daemon.key\""
start_daemon "$DATA/facts/ok-vulkan-radv.toml" --journal-export "$T/daemon.export"
wait_for failed 300
p=$(grep -o 'launched as pid [0-9]*' "$T/daemon.log" | head -1 | grep -o '[0-9]*$')
echo "$p" >> "$T/engine-pids"
wait_gone "$p" 15 || fail "the refused engine (pid $p) still runs"
sleep 1 # a restart, were one scheduled, would come within backoff_initial (200 ms)
[ "$(engine_state)" = failed ] || fail "not failed a second later (is '$(engine_state)')"
want="the engine refused the smoke test with HTTP 401: the API key is missing or wrong (halo-checkd sent the one from [engine] api_key_file); set [engine] api_key_file or pass --api-key-file in the command"
grep -qF "\"reason\": \"$want" "$STATE/state.json" || fail "state reason is not '$want'"
grep -qF '"restarts": []' "$STATE/state.json" || fail "restarted"
[ "$(grep -c 'launched as pid' "$T/daemon.log")" = 1 ] || fail "launched more than once"
grep -q 'no tokens within smoke_timeout' "$T/daemon.log" "$STATE/state.json" && fail "reported as a smoke timeout"
stop_daemon || fail "daemon exit code"
no_secret "$KEY" "sk-wrong-key-000"
pass "a key the engine refuses: failed at once with HTTP 401 named, no restart, neither key written"
