#!/bin/bash
# The control channel trusts no file and proves who is on each end: root's `halo-check restart`
# on a state directory a service account owns signals no pid from state.json and writes through
# no planted symlink; status does not call pid 1 "running" from state.json; a socket another
# user serves is refused; the daemon refuses a peer that is neither root nor its own user.
# Needs root (setpriv to nobody); skipped otherwise.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
    echo "skip: needs root and setpriv"; exit 77
fi
as_nobody() { setpriv --reuid nobody --regid nogroup --clear-groups "$@"; }
PY=/usr/bin/python3 # the system one: nobody can run it
chmod 0755 "$T"

# A service account's state directory with a planted state.json and request symlink.
SVC="$T/svc"
mkdir -m 0700 "$SVC"
sleep 300 >/dev/null 2>&1 & VICTIM=$!
echo "root's file" > "$T/root-owned"
chmod 0600 "$T/root-owned"
printf '{"daemon":{"pid":%d,"started":"x"},"engine":{"name":"e"}}\n' "$VICTIM" > "$SVC/state.json"
ln -s "$T/root-owned" "$SVC/request"
chown -R -h nobody "$SVC"
for verb in restart stop start reload smoke; do
    out=$("$CHECK" "$verb" --timeout 2 --state-dir "$SVC" 2>&1); rc=$?
    [ "$rc" -ne 0 ] || fail "root's $verb on a planted state dir exited 0: $out"
    echo "$out" | grep -q "halo-checkd does not answer: no control socket '$SVC/control.sock'" \
        || fail "$verb said: $out"
done
kill -0 "$VICTIM" 2>/dev/null || fail "halo-check signalled the pid a planted state.json names"
[ "$(cat "$T/root-owned")" = "root's file" ] || fail "halo-check wrote through a planted request symlink"
kill "$VICTIM"
pass "root's verbs signal no pid from state.json and write through no planted file"

# status as an ordinary user: state.json naming pid 1 (alive, but EPERM) is not a running daemon.
printf '{"daemon":{"pid":1,"started":"x"}}\n' > "$SVC/state.json"
chown nobody "$SVC/state.json"
out=$(as_nobody "$CHECK" status --state-dir "$SVC" 2>&1); rc=$?
[ "$rc" -eq 3 ] || fail "status with pid 1 in state.json and no daemon exited $rc: $out"
echo "$out" | grep -q '^halo-checkd: NOT RUNNING (no control socket' || fail "status said: $out"
pass "status reports NOT RUNNING for a pid in state.json that nothing answers for"

# A socket in root's state directory served by another user (nobody) is not halo-checkd's.
ROOTDIR="$T/rootstate"
mkdir -m 0711 "$ROOTDIR"
printf '{"daemon":{"pid":1}}\n' > "$ROOTDIR/state.json"
mkdir -m 0777 "$T/sock"
as_nobody "$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
while True:
    c, _ = s.accept(); c.recv(64); c.sendall(b"taken pid 1\ndone engine ready\n"); time.sleep(0.2); c.close()' \
    "$T/sock/control.sock" >/dev/null 2>&1 &
FAKED=$!
for i in $(seq 50); do [ -S "$T/sock/control.sock" ] && break; sleep 0.1; done
ln "$T/sock/control.sock" "$ROOTDIR/control.sock" 2>/dev/null || mv "$T/sock/control.sock" "$ROOTDIR/control.sock"
out=$("$CHECK" restart --timeout 2 --state-dir "$ROOTDIR" 2>&1); rc=$?
[ "$rc" -ne 0 ] || fail "restart believed a socket served by nobody: $out"
echo "$out" | grep -q "is not a socket owned by uid 0" || fail "restart said: $out"
# Owned by root but served by nobody (a descriptor passed on, a socket bound before a chown):
# SO_PEERCRED says who really answers.
chown -h root "$ROOTDIR/control.sock"
out=$("$CHECK" restart --timeout 2 --state-dir "$ROOTDIR" 2>&1); rc=$?
[ "$rc" -ne 0 ] || fail "restart believed a root-owned socket that nobody serves: $out"
echo "$out" | grep -q "is served by uid $(id -u nobody) (pid [0-9]*), not by uid 0" || fail "restart said: $out"
kill "$FAKED" 2>/dev/null
pass "the CLI refuses a socket that is not the state directory owner's, by owner and by SO_PEERCRED"

# The daemon (root here) refuses a peer that is neither root nor its own user, and logs it.
FACTS="$T/facts.toml"
cp "$DATA/facts/ok-vulkan-radv.toml" "$FACTS"
write_config normal
start_daemon "$FACTS"
wait_for ready
chmod 0711 "$STATE"
chmod 0666 "$STATE/control.sock" # past the file mode: SO_PEERCRED is what decides
reply=$(as_nobody "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
try:
    s.sendall(b"stop\n")
except BrokenPipeError:
    pass # refused before it read: the reply is there all the same
print(s.recv(4096).decode().strip())' "$STATE/control.sock") || fail "nobody could not reach the socket"
echo "$reply" | grep -q "^refused uid $(id -u nobody) may not control halo-checkd" || fail "daemon replied: $reply"
[ "$(engine_state)" = ready ] || fail "nobody's stop reached the engine: $(engine_state)"
grep -q "refused a control request from uid $(id -u nobody)" "$T/daemon.log" || fail "the refusal is not logged"
pass "the daemon refuses a peer that is neither root nor its own user"

# Root's requests reach a daemon running as another user (the system unit's User=).
stop_daemon
chown -R nobody "$STATE" "$T/config.toml"
chmod 0755 "$T"
setpriv --reuid nobody --regid nogroup --clear-groups "$CHECKD" --config "$T/config.toml" --facts "$FACTS" --state-dir "$STATE" --no-dropins > "$T/daemon.log" 2>&1 &
DPID=$!
wait_for ready
out=$("$CHECK" stop --state-dir "$STATE" 2>&1) || fail "root's stop to a daemon running as nobody: $out"
echo "$out" | grep -q '^halo-check: stop: engine stopped$' || fail "root's stop said: $out"
pass "root's request reaches a daemon that runs as another user, and is answered"
stop_daemon || fail "halo-checkd running as nobody exited $? on SIGTERM"
