#!/bin/bash
# The engine gets nothing of halo-checkd's own unit: a real daemon under a watchdog socket, with
# socket-activation variables and an inheritable descriptor from whoever started it, and a config
# whose [engine.env] names NOTIFY_SOCKET and LISTEN_FDNAMES itself. The engine is a script found
# only through [engine.env] PATH; it records its environment and descriptors, then becomes the
# fake engine. None of the unit's variables and no descriptor but 0-2 reach it, and the config's
# values are logged as ignored.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
write_config normal
mkdir -p "$T/bin"
cat > "$T/bin/halo-env-engine" <<EOS
#!/bin/sh
env > "$T/engine.env"
ls -l /proc/self/fd > "$T/engine.fd"
exec "$FAKE" "\$@"
EOS
chmod +x "$T/bin/halo-env-engine"
sed -i "s|^command = \[\"$FAKE\"|command = [\"halo-env-engine\"|" "$T/config.toml"
sed -i "s|^\[engine.env\]|[engine.env]\nPATH = \"$T/bin:/usr/bin:/bin\"\nNOTIFY_SOCKET = \"$T/engine-notify.sock\"\nLISTEN_FDNAMES = \"config-said\"|" \
    "$T/config.toml"
grep -q '^command = \["halo-env-engine"' "$T/config.toml" || fail "config: command not replaced"

# fd 7 is inheritable (no close-on-exec), as a careless parent would leave it.
exec 7< /dev/null
LISTEN_FDS=1 LISTEN_PID=1 LISTEN_FDNAMES=inherited SYSTEMD_EXEC_PID=1 \
    "$HELPERS/notify_listener" "$T/notify.sock" 2000000 -- \
    "$CHECKD" --config "$T/config.toml" --facts "$DATA/facts/ok-vulkan-radv.toml" --state-dir "$STATE" \
    --no-dropins > "$T/notify.log" 2> "$T/daemon.log" &
LPID=$!
exec 7<&-
for _ in $(seq 200); do grep -q ' READY=1$' "$T/notify.log" 2>/dev/null && break; sleep 0.05; done
DPID=$(sed -n 's/^+[0-9]* \([0-9]*\) READY=1$/\1/p' "$T/notify.log")
[ -n "$DPID" ] || { kill -KILL "$LPID" 2>/dev/null; cat "$T/notify.log"; fail "no READY=1"; }
wait_for ready 20
[ -s "$T/engine.env" ] && [ -s "$T/engine.fd" ] || fail "the engine script did not run"
pass "engine found through [engine.env] PATH only, ready"

for name in NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID LISTEN_FDS LISTEN_PID LISTEN_FDNAMES SYSTEMD_EXEC_PID; do
    if grep -q "^$name=" "$T/engine.env"; then fail "$name reached the engine: $(grep "^$name=" "$T/engine.env")"; fi
done
grep -q "^PATH=$T/bin:/usr/bin:/bin$" "$T/engine.env" || fail "the engine's PATH is not [engine.env] PATH"
grep -q '^FAKE_LLAMA_MODE=normal$' "$T/engine.env" || fail "[engine.env] FAKE_LLAMA_MODE did not reach the engine"
pass "no NOTIFY_SOCKET, WATCHDOG_*, LISTEN_* or SYSTEMD_EXEC_PID in the engine's environment; the configured ones there"

# ls itself holds one descriptor above 2: the /proc/self/fd directory it lists.
extra=$(grep -- '->' "$T/engine.fd" | awk '$9+0 > 2 {print $9, $11}' | grep -v "/proc/[0-9]*/fd$" || true)
[ -z "$extra" ] || { cat "$T/engine.fd"; fail "descriptors beyond 0-2 reached the engine: $extra"; }
grep -Eq ' 0 -> /dev/null$' "$T/engine.fd" || fail "stdin is not /dev/null"
pass "only fds 0-2 reach the engine"

for name in NOTIFY_SOCKET LISTEN_FDNAMES; do
    grep -q "\[engine.env\] $name is ignored" "$T/daemon.log" || fail "no warning that [engine.env] $name is ignored"
done
[ "$(grep -c '\[engine.env\] NOTIFY_SOCKET is ignored' "$T/daemon.log")" = 1 ] || fail "the warning is not logged once"
pass "the config's unit variables logged as ignored, once"

echo "$(engine_pid)" >> "$T/engine-pids"
kill -TERM "$DPID"; wait "$LPID"; rc=$?; DPID=""
[ "$rc" = 0 ] || fail "halo-checkd exit code $rc"
exit 0
