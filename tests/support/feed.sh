# shellcheck shell=bash
# Signed knowledge feeds for the tests (docs/feed.md): keys and signatures made by the real
# minisign, feed files with one rule. Sourced after tests/support/assert.sh or the daemon
# helpers (it uses their `fail`).
#
#   feed_keys DIR NAME...                  DIR/NAME.pub and DIR/NAME.key for each (no password)
#   feed_write FILE VERSION [EXPIRES] [MIN_HALO_CHECK] [EXTRA_TOML]
#                                          a feed with one rule; the rule and the feed are named
#                                          by $FEED_NAME, $FEED_RULE_ID, $FEED_SEVERITY and
#                                          $FEED_TITLE (default "From feed VERSION")
#   feed_sign FILE VERSION KEY [-l]        FILE.minisig, trusted comment version=VERSION
#                                          (-l: a legacy, not prehashed, signature)

command -v minisign >/dev/null || fail "minisign is not installed (scripts/install-deps)"

feed_keys() {
    local dir=$1 name
    shift
    for name in "$@"; do
        minisign -G -W -p "$dir/$name.pub" -s "$dir/$name.key" >/dev/null || fail "minisign -G failed"
    done
}

feed_write() {
    cat >"$1" <<TOML
[feed]
name = "${FEED_NAME:-halo-check test feed}"
version = $2
published = 2026-01-01T00:00:00Z
expires = ${3:-2099-01-01T00:00:00Z}
min_halo_check = "${4:-0.1}"

[[rule]]
id = "${FEED_RULE_ID:-feed.test-rule}"
severity = "${FEED_SEVERITY:-info}"
title = "${FEED_TITLE:-From feed $2}"
explain = "A rule only the test feed has."
fix = "Nothing to do."
links = ["https://example.org/feed"]
since = 2026-01-01
when = { "host.os.id" = "*" }
${5:-}
TOML
}

feed_sign() {
    minisign -S -s "$3" -t "version=$2" -m "$1" ${4:-} >/dev/null || fail "minisign -S failed"
}
