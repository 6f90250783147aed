#!/bin/bash
# The state directory: one daemon per directory (a second exits 78 naming the first), created
# private (0700) whatever the umask, state.json honouring the umask (UMask=0077 makes it 0600);
# text from state.json and from a request reaches the terminal and the log without control
# characters.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
FACTS="$T/facts.toml"
cp "$DATA/facts/ok-vulkan-radv.toml" "$FACTS"
write_config normal
(umask 077; exec "$CHECKD" --config "$T/config.toml" --facts "$FACTS" --state-dir "$STATE" --no-dropins \
    > "$T/daemon.log" 2>&1) &
DPID=$!
wait_for ready
[ "$(stat -c %a "$STATE/state.json")" = 600 ] || fail "state.json is $(stat -c %a "$STATE/state.json") under umask 077"
pass "state.json honours the umask"

"$CHECKD" --config "$T/config.toml" --facts "$FACTS" --state-dir "$STATE" --no-dropins > "$T/second.log" 2>&1; rc=$?
[ "$rc" -eq 78 ] || fail "a second daemon on the same state directory exited $rc: $(cat "$T/second.log")"
grep -q "another halo-checkd (pid $DPID) already runs on this state directory" "$T/second.log" \
    || fail "the second daemon said: $(cat "$T/second.log")"
[ "$(engine_state)" = ready ] || fail "the second daemon disturbed the first: $(engine_state)"
"$CHECK" status --state-dir "$STATE" > /dev/null || fail "the first daemon no longer answers after the second tried"
pass "a second daemon on the same state directory exits 78 and names the first"

# An unknown verb full of escapes is refused, and neither the reply nor the log carries them.
reply=$(/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"\x1b]0;owned\x07\x1b[2J\n")
print(s.recv(4096).decode())' "$STATE/control.sock")
echo "$reply" | grep -q "^refused unknown request '?\]0;owned??\[2J'" || fail "daemon replied: $reply"
grep -q "unknown request '?\]0;owned??\[2J'" "$T/daemon.log" || fail "the refusal is not logged"
if grep -q $'\x1b' "$T/daemon.log"; then fail "the daemon logged an escape sequence raw"; fi
pass "an unknown request's control characters reach neither the reply nor the log"
stop_daemon

# status prints state.json's text without its control characters.
mkdir -p "$T/stale"
printf '{"daemon":{"pid":1,"started":"\\u001b]0;title\\u0007"},"engine":{"name":"e\\u001b[2J","state":"ready"}}\n' \
    > "$T/stale/state.json"
out=$("$CHECK" status --state-dir "$T/stale" 2>&1)
if printf '%s' "$out" | grep -q $'[\x1b\x07]'; then fail "status printed control characters raw: $out"; fi
echo "$out" | grep -q '^engine: *e?\[2J ready' || fail "status said: $out"
pass "status strips control characters from state.json"

# A new state directory is private under umask 022.
(umask 022; exec "$CHECKD" --config "$T/config.toml" --facts "$FACTS" --state-dir "$T/new/state" --no-dropins \
    > "$T/daemon.log" 2>&1) &
DPID=$!
for i in $(seq 100); do [ -S "$T/new/state/control.sock" ] && break; sleep 0.05; done
[ "$(stat -c %a "$T/new/state")" = 700 ] || fail "a new state directory is $(stat -c %a "$T/new/state") under umask 022"
pass "a new state directory is created 0700"
stop_daemon
