#!/bin/bash
# The daemon's own lines on stderr (no journald: containers, CI) say each thing once: the verdict
# change names its rule once, not again in brackets, and a desktop without a session bus is
# "events go to the journal only" once.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"

write_config normal
env -u JOURNAL_STREAM -u DBUS_SESSION_BUS_ADDRESS -u XDG_RUNTIME_DIR \
    "$CHECKD" --config "$T/config.toml" --facts "$DATA/facts/broken-fw-20251125-rocm.toml" --state-dir "$STATE" \
    --no-dropins > "$T/daemon.log" 2>&1 &
DPID=$!
wait_for refused
for _ in $(seq 100); do grep -q 'notifications: ' "$T/daemon.log" && break; sleep 0.05; done
stop_daemon || fail "daemon exit code"

verdict=$(grep 'Verdict now broken' "$T/daemon.log") || fail "no verdict line"
rule=$(sed -n 's/^<3>Verdict now broken (was not known): \([a-z0-9.-]*\)$/\1/p' <<<"$verdict")
[ -n "$rule" ] || fail "verdict line '$verdict' is not '<3>Verdict now broken (was not known): RULE'"
pass "the verdict line names its rule once: $verdict"

line=$(grep 'notifications: ' "$T/daemon.log") || fail "no notifications line"
[ "$(grep -o 'journal only' <<<"$line" | wc -l)" = 1 ] || fail "'journal only' not once in: $line"
pass "no session bus: 'events go to the journal only' once"
