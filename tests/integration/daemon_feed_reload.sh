#!/bin/bash
# halo-checkd picks up a knowledge feed that `halo-check update` installs into its state
# directory, without a restart: inotify on the feed's `current` file, a reload, and the verdict
# the new knowledge gives (here a broken rule for every machine) in the state file. The same for
# the system's state directory, where halo-check-update.timer installs; and an expired feed adds
# feed.expired to the daemon's verdict as it does to `halo-check check`'s.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
. "$HALO_SOURCE_DIR/tests/support/feed.sh"
export HALO_SYSTEM_STATE_DIR="$T/system-state"
FACTS="$DATA/facts/ok-vulkan-radv.toml"
write_config normal
start_daemon "$FACTS"
wait_for ready
grep -q '"verdict": "ok"' "$STATE/state.json" || fail "the verdict is not ok before the feed"
pass "ok before the feed"

feed_keys "$T" k
export FEED_NAME="daemon reload test" FEED_SEVERITY=broken FEED_RULE_ID=feed.new-advice
FEED_TITLE="New advice from the feed" feed_write "$T/feed.toml" 3
feed_sign "$T/feed.toml" 3 "$T/k.key"
"$CHECK" update --state-dir "$STATE" --trusted-key "$T/k.pub" --facts "$FACTS" --from "$T/feed.toml" \
    >"$T/update.log" 2>&1 || { cat "$T/update.log"; fail "halo-check update"; }
for _ in $(seq 100); do grep -q 'feed.new-advice' "$STATE/state.json" && break; sleep 0.05; done
grep -q 'feed.new-advice' "$STATE/state.json" || fail "the daemon did not pick up the new feed"
grep -q '"verdict": "broken"' "$STATE/state.json" || fail "the new feed's broken rule did not change the verdict"
kill -0 "$DPID" || fail "the daemon exited"
pass "a new feed → reloaded and re-checked without a restart"

# A newer feed in the system's state directory (the timer's) wins over the daemon's own.
FEED_RULE_ID=feed.system-advice FEED_TITLE="Advice from the system feed" feed_write "$T/feed5.toml" 5
feed_sign "$T/feed5.toml" 5 "$T/k.key"
"$CHECK" update --state-dir "$HALO_SYSTEM_STATE_DIR" --trusted-key "$T/k.pub" --facts "$FACTS" \
    --from "$T/feed5.toml" >"$T/update.log" 2>&1 || { cat "$T/update.log"; fail "halo-check update (system)"; }
for _ in $(seq 100); do grep -q 'feed.system-advice' "$STATE/state.json" && break; sleep 0.05; done
grep -q 'feed.system-advice' "$STATE/state.json" || fail "the daemon did not pick up the system's newer feed"
grep -q 'feed.new-advice' "$STATE/state.json" && fail "the daemon's older feed 3 is still used beside feed 5"
pass "the system's newer feed → reloaded without a restart"

# An expired feed (written in place, as one that expired while installed): still used, and
# feed.expired in the daemon's verdict.
FEED_SEVERITY=info FEED_RULE_ID=feed.old-advice feed_write "$HALO_SYSTEM_STATE_DIR/feed/feed-6.toml" 6 \
    2026-01-02T00:00:00Z
echo 6 >"$HALO_SYSTEM_STATE_DIR/feed/current.tmp"
mv "$HALO_SYSTEM_STATE_DIR/feed/current.tmp" "$HALO_SYSTEM_STATE_DIR/feed/current"
for _ in $(seq 100); do grep -q '"feed.expired"' "$STATE/state.json" && break; sleep 0.05; done
grep -q '"feed.expired"' "$STATE/state.json" || fail "the daemon's verdict lacks feed.expired for an expired feed"
grep -q '"verdict": "warning"' "$STATE/state.json" || fail "an expired feed did not make the verdict a warning"
pass "an expired feed → feed.expired in the daemon's verdict, a warning"
stop_daemon
