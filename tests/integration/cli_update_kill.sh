#!/usr/bin/env bash
# `halo-check update` killed with SIGKILL at random moments, 200 times, while it installs one of
# two feeds: afterwards the installed knowledge is always one of them, whole, with its signature.
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
command -v minisign >/dev/null || fail "minisign is not installed (scripts/install-deps)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export XDG_STATE_HOME="$tmp/state" HOME="$tmp"
unset STATE_DIRECTORY
minisign -G -W -p "$tmp/k.pub" -s "$tmp/k.key" >/dev/null || fail "minisign -G failed"
for v in 10 11; do
    {
        printf '[feed]\nname = "kill test"\nversion = %s\npublished = 2026-01-01T00:00:00Z\n' "$v"
        printf 'expires = 2099-01-01T00:00:00Z\nmin_halo_check = "0.1"\n'
        # Bulk, so that the write takes long enough to be killed in the middle of.
        for i in $(seq 1 1500); do
            printf '\n[[rule]]\nid = "kill.rule-%s"\nseverity = "info"\ntitle = "Rule %s of feed %s"\n' "$i" "$i" "$v"
            printf 'explain = "x"\nfix = "y"\nlinks = ["https://example.org"]\nsince = 2026-01-01\n'
            printf 'when = { "host.os.id" = "nothing-%s" }\n' "$i"
        done
    } >"$tmp/f$v.toml"
    minisign -S -s "$tmp/k.key" -t "version=$v" -m "$tmp/f$v.toml" >/dev/null || fail "minisign -S failed"
done
facts="$DATA/facts/broken-kernel-6.18.5-rocm-7.1.1.toml"
dir="$tmp/state/halo-check/feed"
start=$(date +%s%N)
"$HALO_CHECK" update --trusted-key "$tmp/k.pub" --facts "$facts" --from "$tmp/f10.toml" >/dev/null ||
    fail "the first install failed"
# The kills land anywhere in a whole run, the install at its end included: a fixed window would
# miss the install on a fast build and every run but the first on a slow one.
run_us=$((($(date +%s%N) - start) / 1000))
[ "$run_us" -gt 0 ] || fail "could not time the first install"
killed=0
for n in $(seq 1 200); do
    v=$((10 + n % 2))
    "$HALO_CHECK" update --allow-downgrade --trusted-key "$tmp/k.pub" --facts "$facts" --from "$tmp/f$v.toml" \
        >/dev/null 2>&1 &
    pid=$!
    delay_us=$(((RANDOM * 32768 + RANDOM) % run_us))
    sleep "$(printf '%d.%06d' $((delay_us / 1000000)) $((delay_us % 1000000)))"
    kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
    wait "$pid" 2>/dev/null
    current=$(cat "$dir/current") || fail "round $n: no current file"
    [ "$current" = 10 ] || [ "$current" = 11 ] || fail "round $n: current is '$current'"
    cmp -s "$dir/feed-$current.toml" "$tmp/f$current.toml" || fail "round $n: feed-$current.toml is not whole"
    cmp -s "$dir/feed-$current.toml.minisig" "$tmp/f$current.toml.minisig" ||
        fail "round $n: feed-$current.toml.minisig is not whole"
    checks=$((checks + 1))
done
# Most rounds must have been killed mid-run, or the test did not test anything.
[ "$killed" -ge 100 ] || fail "only $killed of 200 runs were killed before they ended"
checks=$((checks + 1))
run "$HALO_CHECK" explain kill.rule-1
expect_rc 0 "the installed feed loads after 200 kills"
echo "killed $killed of 200 runs mid-install (a whole run: $((run_us / 1000)) ms)"
done_ok
