#!/bin/bash
# halo-checkd picks up a knowledge feed that `halo-check update` installs into its state
# directory, without a restart: inotify on the feed's `current` file, a reload, and the verdict
# the new knowledge gives (here a broken rule for every machine) in the state file.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
command -v minisign >/dev/null || fail "minisign is not installed (scripts/install-deps)"
FACTS="$DATA/facts/ok-vulkan-radv.toml"
write_config normal
start_daemon "$FACTS"
wait_for ready
grep -q '"verdict": "ok"' "$STATE/state.json" || fail "the verdict is not ok before the feed"
pass "ok before the feed"

minisign -G -W -p "$T/k.pub" -s "$T/k.key" >/dev/null || fail "minisign -G failed"
cat >"$T/feed.toml" <<'TOML'
[feed]
name = "daemon reload test"
version = 3
published = 2026-01-01T00:00:00Z
expires = 2099-01-01T00:00:00Z
min_halo_check = "0.1"

[[rule]]
id = "feed.new-advice"
severity = "broken"
title = "New advice from the feed"
explain = "Knowledge that arrived after the daemon started."
fix = "Follow the new advice."
links = ["https://example.org/advice"]
since = 2026-01-01
when = { "host.os.id" = "*" }
TOML
minisign -S -s "$T/k.key" -t "version=3" -m "$T/feed.toml" >/dev/null || fail "minisign -S failed"
"$CHECK" update --state-dir "$STATE" --trusted-key "$T/k.pub" --facts "$FACTS" --from "$T/feed.toml" \
    >"$T/update.log" 2>&1 || { cat "$T/update.log"; fail "halo-check update"; }
for _ in $(seq 100); do grep -q 'feed.new-advice' "$STATE/state.json" && break; sleep 0.05; done
grep -q 'feed.new-advice' "$STATE/state.json" || fail "the daemon did not pick up the new feed"
grep -q '"verdict": "broken"' "$STATE/state.json" || fail "the new feed's broken rule did not change the verdict"
kill -0 "$DPID" || fail "the daemon exited"
pass "a new feed → reloaded and re-checked without a restart"
stop_daemon
