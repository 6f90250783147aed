#!/usr/bin/env bash
# `halo-check update --from FILE`: feeds signed by the real minisign with keys made here, each
# rejection case with its own message and exit 2, atomic install with the last 3 kept,
# --rollback, and the installed feed's entries in `rules list` / `explain` as "feed N".
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
source "$HALO_SOURCE_DIR/tests/support/feed.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_STATE_HOME="$tmp/state" HOME="$tmp/home" STATE_DIRECTORY=""
# The system's state directory (/var/lib/halo-check, where the timer installs), moved here.
export HALO_SYSTEM_STATE_DIR="$tmp/system-state"
unset STATE_DIRECTORY
mkdir -p "$tmp/home"
feed_keys "$tmp" good other
facts="$DATA/facts/broken-kernel-6.18.5-rocm-7.1.1.toml"
feed() { feed_write "$@"; }
# sign FILE VERSION [KEY] [-l]
sign() { feed_sign "$1" "$2" "${3:-$tmp/good.key}" ${4:-}; }
update() { run "$HALO_CHECK" update --trusted-key "$tmp/good.pub" --facts "$facts" "$@"; }

# Nothing installed yet: the rule is not there.
run "$HALO_CHECK" --version
expect_out "knowledge feed: none installed"
run "$HALO_CHECK" explain feed.test-rule
[ "$rc" -ne 0 ] || fail "feed.test-rule exists before any feed is installed"

feed "$tmp/f1.toml" 1
sign "$tmp/f1.toml" 1
update --from "$tmp/f1.toml"
expect_rc 0 "a valid feed installs"
expect_out "installed knowledge feed 1"
[ -f "$tmp/state/halo-check/feed/feed-1.toml" ] || fail "feed-1.toml is not in the state directory"
run "$HALO_CHECK" explain feed.test-rule
expect_rc 0 "explain finds the feed's rule"
expect_out "feed 1"
run "$HALO_CHECK" rules list --json
expect_rc 0
expect_out '"file": "feed 1"'

run "$HALO_CHECK" --version
expect_out "knowledge feed: 1 (halo-check test feed, published 2026-01-01T00:00:00Z, expires 2099-01-01T00:00:00Z)"

# The same again: already current.
update --from "$tmp/f1.toml"
expect_rc 0 "the installed version again is current"
expect_out "is current"

# Legacy (non-prehashed) signatures verify too.
feed "$tmp/f2.toml" 2
sign "$tmp/f2.toml" 2 "$tmp/good.key" -l
grep -q '^RWQ\|^RUQ' "$tmp/f2.toml.minisig" || true
update --from "$tmp/f2.toml"
expect_rc 0 "a legacy 'Ed' signature installs"

# Each rejection: exit 2, its own message, nothing changed.
before=$(cat "$tmp/state/halo-check/feed/current")
reject_case() {
    local what=$1 msg=$2
    shift 2
    update "$@"
    expect_rc 2 "$what"
    expect_err "$msg"
    [ "$(cat "$tmp/state/halo-check/feed/current")" = "$before" ] || fail "$what: the current feed changed"
    checks=$((checks + 1))
}
feed "$tmp/bad.toml" 3
sign "$tmp/bad.toml" 3
sed -i 's/A rule only/A changed rule only/' "$tmp/bad.toml"
reject_case "a file changed after signing" "does not match its signature" --from "$tmp/bad.toml"
feed "$tmp/unk.toml" 3
sign "$tmp/unk.toml" 3 "$tmp/other.key"
reject_case "a signature by an untrusted key" "which is not trusted" --from "$tmp/unk.toml"
feed "$tmp/nosig.toml" 3
reject_case "no .minisig" "has no signature" --from "$tmp/nosig.toml"
feed "$tmp/old.toml" 1
sign "$tmp/old.toml" 1
reject_case "a version not newer" "not newer than feed 2" --from "$tmp/old.toml"
feed "$tmp/exp.toml" 3 2026-01-02T00:00:00Z
sign "$tmp/exp.toml" 3
reject_case "an expired feed" "expired at 2026-01-02T00:00:00Z" --from "$tmp/exp.toml"
feed "$tmp/new.toml" 3 2099-01-01T00:00:00Z 99.0
sign "$tmp/new.toml" 3
reject_case "a feed for a newer client" "needs halo-check 99.0 or newer" --from "$tmp/new.toml"
feed "$tmp/inv.toml" 3 "" "" $'[[rule]]\nid = "broken.entry"'
sign "$tmp/inv.toml" 3
reject_case "invalid rules" "has invalid rules" --from "$tmp/inv.toml"
feed "$tmp/mism.toml" 3
sign "$tmp/mism.toml" 4
reject_case "a trusted comment that disagrees with the file" "trusted comment says version=4" --from "$tmp/mism.toml"
printf 'untrusted comment: x\nnot base64\n' >"$tmp/junk.toml.minisig"
feed "$tmp/junk.toml" 3
reject_case "a malformed signature file" "is not a minisign signature" --from "$tmp/junk.toml"

# --allow-downgrade installs an older one.
update --from "$tmp/old.toml" --allow-downgrade
expect_rc 0 "--allow-downgrade installs feed 1"
[ "$(cat "$tmp/state/halo-check/feed/current")" = 1 ] || fail "current is not 1 after --allow-downgrade"
checks=$((checks + 1))
[ "$(cat "$tmp/state/halo-check/feed/highest")" = 2 ] || fail "highest went down"
checks=$((checks + 1))

# The last 3 kept; --rollback goes to the one before.
for v in 3 4 5; do
    feed "$tmp/f$v.toml" $v
    sign "$tmp/f$v.toml" $v
    update --from "$tmp/f$v.toml"
    expect_rc 0 "feed $v installs"
done
kept=$(cd "$tmp/state/halo-check/feed" && ls feed-*.toml | sort | tr '\n' ' ')
[ "$kept" = "feed-3.toml feed-4.toml feed-5.toml " ] || fail "kept '$kept', expected the 3 newest"
checks=$((checks + 1))
run "$HALO_CHECK" update --rollback
expect_rc 0 "--rollback"
expect_out "rolled back to knowledge feed 4"
run "$HALO_CHECK" explain feed.test-rule
expect_out "From feed 4"
run "$HALO_CHECK" update --rollback
run "$HALO_CHECK" update --rollback
expect_rc 2 "--rollback past the oldest kept"
expect_err "nothing to roll back to"

# A drop-in overrides the feed (precedence: feed < /etc < user drop-ins).
mkdir -p "$tmp/home/.config/halo-check/rules.d"
cat >"$tmp/home/.config/halo-check/rules.d/local.toml" <<'TOML'
[[rule]]
id = "feed.test-rule"
severity = "info"
title = "From the user drop-in"
explain = "Overrides the feed."
fix = "Nothing."
links = ["https://example.org/local"]
since = 2026-01-01
when = { "host.os.id" = "*" }
TOML
run "$HALO_CHECK" explain feed.test-rule
expect_out "From the user drop-in"

rm -r "$tmp/home/.config/halo-check/rules.d"

# The system's state directory: the timer's feed reaches this user when it is newer than theirs
# (theirs is 3 now), and says where it came from; a newer one of their own wins again.
feed "$tmp/f20.toml" 20
sign "$tmp/f20.toml" 20
update --state-dir "$HALO_SYSTEM_STATE_DIR" --from "$tmp/f20.toml"
expect_rc 0 "feed 20 installs into the system's state directory"
run "$HALO_CHECK" explain feed.test-rule
expect_out "From feed 20"
expect_out "feed 20 (system, $HALO_SYSTEM_STATE_DIR)"
run "$HALO_CHECK" rules list --json
expect_out "\"file\": \"feed 20 (system, $HALO_SYSTEM_STATE_DIR)\""
run "$HALO_CHECK" --version
expect_out "knowledge feed: 20 (halo-check test feed, published 2026-01-01T00:00:00Z, expires 2099-01-01T00:00:00Z), installed in $HALO_SYSTEM_STATE_DIR"
run "$HALO_CHECK" check --facts "$facts" --no-gpu-ok
expect_out "knowledge: feed 20 from $HALO_SYSTEM_STATE_DIR (published 2026-01-01, expires 2099-01-01)"
run "$HALO_CHECK" check --facts "$facts" --no-gpu-ok --json
expect_json 'j["knowledge"]["feed_version"]' 20
expect_json 'j["knowledge"]["state_dir"]' "$HALO_SYSTEM_STATE_DIR"
feed "$tmp/f21.toml" 21
sign "$tmp/f21.toml" 21
update --from "$tmp/f21.toml"
expect_rc 0 "feed 21 installs into the user's state directory"
run "$HALO_CHECK" explain feed.test-rule
expect_out "From feed 21"
run "$HALO_CHECK" rules list --json
expect_out '"file": "feed 21"'
# A damaged system feed: a warning, and the user's own.
printf '[feed]\nname = \n' >"$HALO_SYSTEM_STATE_DIR/feed/feed-20.toml"
printf '[feed]\nname = \n' >"$HALO_SYSTEM_STATE_DIR/feed/feed-30.toml"
echo 30 >"$HALO_SYSTEM_STATE_DIR/feed/current"
run "$HALO_CHECK" explain feed.test-rule
expect_out "From feed 21"
expect_err "feed 30 (system, $HALO_SYSTEM_STATE_DIR)"
rm -r "$HALO_SYSTEM_STATE_DIR"
# An installed feed that has expired is still used, and adds the feed.expired warning.
mkdir -p "$tmp/old-state/halo-check/feed"
feed "$tmp/old-state/halo-check/feed/feed-9.toml" 9 2026-01-02T00:00:00Z
echo 9 >"$tmp/old-state/halo-check/feed/current"
XDG_STATE_HOME="$tmp/old-state" run "$HALO_CHECK" check --facts "$facts" --no-gpu-ok --json
expect_out '"feed.expired"'
expect_out "The knowledge feed (feed 9) expired"
XDG_STATE_HOME="$tmp/old-state" run "$HALO_CHECK" explain feed.test-rule
expect_out "From feed 9"
XDG_STATE_HOME="$tmp/old-state" run "$HALO_CHECK" check --facts "$facts" --no-gpu-ok
expect_out "knowledge: feed 9 (published 2026-01-01, expires 2026-01-02: expired)"
# Wherever rules are judged: `run` and `export` too.
XDG_STATE_HOME="$tmp/old-state" run "$HALO_CHECK" run --json --dry-run --fail-on broken -- /bin/true
expect_out '"feed.expired"'
expect_json 'j["knowledge"]["expired"]' True
XDG_STATE_HOME="$tmp/old-state" run "$HALO_CHECK" export --format prometheus --facts "$facts"
expect_rc 0 "export with an expired feed"
expect_out 'rule="feed.expired"'
# A damaged installed feed: a warning, and the embedded knowledge alone.
printf '[feed]\nname = \n' >"$tmp/old-state/halo-check/feed/feed-9.toml"
XDG_STATE_HOME="$tmp/old-state" run "$HALO_CHECK" rules list
expect_rc 0 "a damaged installed feed falls back to the embedded knowledge"
expect_err "the embedded knowledge is used instead"
expect_no_out "feed.test-rule"
done_ok
