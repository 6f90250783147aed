#!/usr/bin/env bash
# scripts/publish-feed: builds a feed from rules/kb/ that validates, numbers the next one after
# --previous, and what it prints signs a feed `halo-check update --from` installs.
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
command -v minisign >/dev/null || fail "minisign is not installed (scripts/install-deps)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_STATE_HOME="$tmp/state" HOME="$tmp"
unset STATE_DIRECTORY
run "$HALO_SOURCE_DIR/scripts/publish-feed" "$tmp/feed.toml" --halo-check "$HALO_CHECK"
expect_rc 0 "publish-feed"
expect_out "feed 1 written"
expect_out 'minisign -S -s halo-check-feed.key -t "version=1"'
run "$HALO_SOURCE_DIR/scripts/publish-feed" "$tmp/feed2.toml" --previous "$tmp/feed.toml" --halo-check "$HALO_CHECK"
expect_rc 0 "publish-feed --previous"
expect_out "feed 2 written"
minisign -G -W -p "$tmp/k.pub" -s "$tmp/k.key" >/dev/null || fail "minisign -G failed"
minisign -S -s "$tmp/k.key" -t "version=2" -m "$tmp/feed2.toml" >/dev/null || fail "minisign -S failed"
run "$HALO_CHECK" update --trusted-key "$tmp/k.pub" --facts "$DATA/facts/ok-vulkan-radv.toml" --from "$tmp/feed2.toml"
expect_rc 0 "the published feed installs"
expect_out "installed knowledge feed 2"
run "$HALO_CHECK" rules list --json
expect_out '"file": "feed 2"'
done_ok
