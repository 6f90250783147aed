#!/bin/bash
# Every file halo-checkd reads on its event loop is opened non-blocking, checked to be a regular
# file and read with a cap: the configuration, a rules drop-in and the --facts file, each replaced
# by a FIFO (a blocking open would hang the loop) and by a link to /dev/zero (a plain read would
# grow without end), then a reload (SIGHUP). Each is a logged error naming the file, the daemon
# carries on with what it had and pings the watchdog all along. A FIFO as the config at start is
# exit 78 with the same message, at once.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
write_config normal
cp "$DATA/facts/ok-vulkan-radv.toml" "$T/facts.toml"
export XDG_CONFIG_HOME="$T/xdg"
DROPINS="$XDG_CONFIG_HOME/halo-check/rules.d"
mkdir -p "$DROPINS"

"$HELPERS/notify_listener" "$T/notify.sock" 400000 -- \
    "$CHECKD" --config "$T/config.toml" --facts "$T/facts.toml" --state-dir "$STATE" --no-watch \
    > "$T/notify.log" 2> "$T/daemon.log" &
LPID=$!
for _ in $(seq 200); do grep -q ' READY=1$' "$T/notify.log" 2>/dev/null && break; sleep 0.05; done
DPID=$(sed -n 's/^+[0-9]* \([0-9]*\) READY=1$/\1/p' "$T/notify.log")
[ -n "$DPID" ] || { kill -KILL "$LPID" 2>/dev/null; cat "$T/notify.log"; fail "no READY=1"; }
wait_for ready 10

# reload_with WHAT FILE MESSAGE: SIGHUP, then the log line naming FILE, the daemon alive.
reload_with() {
    local what="$1" file="$2" message="$3" before
    before=$(grep -c 'reload: ' "$T/daemon.log")
    kill -HUP "$DPID"
    for _ in $(seq 100); do [ "$(grep -c 'reload: ' "$T/daemon.log")" -gt "$before" ] && break; sleep 0.05; done
    kill -0 "$DPID" 2>/dev/null || fail "$what: halo-checkd exited"
    grep -F "reload: " "$T/daemon.log" | tail -n +$((before + 1)) | grep -qF "'$file': not a regular file" \
        || fail "$what: no reload error naming '$file'"
    grep -F "reload: " "$T/daemon.log" | tail -n +$((before + 1)) | grep -qF "$message" \
        || fail "$what: the reload error does not say '$message'"
    [ "$(engine_state)" = ready ] || fail "$what: the engine is '$(engine_state)', not still ready"
    pass "$what → logged with the file named, carried on"
}

mv "$T/config.toml" "$T/config.real"
mkfifo "$T/config.toml"
reload_with "FIFO as the config" "$T/config.toml" "running on the last good config"
rm "$T/config.toml"; ln -s /dev/zero "$T/config.toml"
reload_with "/dev/zero as the config" "$T/config.toml" "running on the last good config"
rm "$T/config.toml"; mv "$T/config.real" "$T/config.toml"

mkfifo "$DROPINS/50-fifo.toml"
reload_with "FIFO as a rules drop-in" "$DROPINS/50-fifo.toml" "running on the last good rules"
rm "$DROPINS/50-fifo.toml"; ln -s /dev/zero "$DROPINS/50-zero.toml"
reload_with "/dev/zero as a rules drop-in" "$DROPINS/50-zero.toml" "running on the last good rules"
rm "$DROPINS/50-zero.toml"

mv "$T/facts.toml" "$T/facts.real"
mkfifo "$T/facts.toml"
reload_with "FIFO as the --facts file" "$T/facts.toml" "judging the last facts"
rm "$T/facts.toml"; ln -s /dev/zero "$T/facts.toml"
reload_with "/dev/zero as the --facts file" "$T/facts.toml" "judging the last facts"
rm "$T/facts.toml"; mv "$T/facts.real" "$T/facts.toml"

# Good files again: the reload is clean.
before=$(grep -c 'evaluated (reload' "$T/daemon.log")
kill -HUP "$DPID"
for _ in $(seq 100); do [ "$(grep -c 'evaluated (reload' "$T/daemon.log")" -gt "$before" ] && break; sleep 0.05; done
grep 'evaluated (reload' "$T/daemon.log" | tail -1 | grep -q 'verdict ok' || fail "the clean reload is not verdict ok"

echo "$(engine_pid)" >> "$T/engine-pids"
kill -TERM "$DPID"; wait "$LPID"; rc=$?; DPID=""
[ "$rc" = 0 ] || fail "halo-checkd exit code $rc"
gap=$(grep ' WATCHDOG=1$' "$T/notify.log" | awk '{t=substr($1,2)+0; if (NR>1 && t-p>m) m=t-p; p=t} END {print m+0}')
[ "$gap" -lt 400 ] || fail "watchdog gap ${gap} ms ≥ WATCHDOG_USEC during the reloads"
pass "watchdog pinged throughout (largest gap ${gap} ms)"

# At start: exit 78 at once, naming the file.
mv "$T/config.toml" "$T/config.real"; mkfifo "$T/config.toml"
timeout 10 "$CHECKD" --config "$T/config.toml" --facts "$T/facts.toml" --state-dir "$STATE" --no-watch \
    > "$T/daemon.log" 2>&1
rc=$?
[ "$rc" = 78 ] || fail "a FIFO as the config at start: exit $rc, not 78"
grep -qF "Failed to read config '$T/config.toml': not a regular file" "$T/daemon.log" || fail "start: message"
pass "FIFO as the config at start → exit 78, the file named"
exit 0
