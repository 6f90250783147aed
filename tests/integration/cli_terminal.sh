#!/usr/bin/env bash
# halo-check on a real terminal (a pty from script(1), util-linux): colour on a terminal and off
# with NO_COLOR or --color=never, on with --color=always through a pipe; the report wrapped to the
# terminal's width; the verdict line again at the end of a report taller than the screen.
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
command -v script >/dev/null || { [ "${CI:-}" = true ] && fail "script (util-linux) is missing"; echo "not run: script missing"; exit 77; }
export XDG_CONFIG_HOME=$(mktemp -d)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$XDG_CONFIG_HOME"' EXIT
root() { bash "$HALO_SOURCE_DIR/tests/support/make_fixture_root.sh" "$1" "$tmp/$1" || fail "fixture $1"; echo "$tmp/$1"; }
next=$(root strix-fedora43-nextboot-broken)
cfg="$next/etc/halo-check/config.toml"
# on_tty COLS ROWS ARGS…: halo-check's output on a terminal of that size (CR LF → LF).
on_tty() {
    local cols=$1 rows=$2; shift 2
    local cmd
    printf -v cmd '%q ' "$HALO_CHECK" "$@"
    out=$(env -u NO_COLOR TERM=xterm script -qec "stty cols $cols rows $rows; $cmd" /dev/null | tr -d '\r')
}
plain() { sed 's/\x1b\[[0-9;]*m//g' <<<"$out"; }
esc=$'\x1b['

on_tty 72 200 --root "$next" --config "$cfg"
grep -qF "$esc" <<<"$out" || fail "no colour on a terminal"
longest=$(plain | awk '{ if (length($0) > n) n = length($0) } END { print n }')
# A URL longer than the line is never cut; every other line fits.
over=$(plain | awk 'length($0) > 72 && $0 !~ /https?:\/\// ' | head -3)
[ -z "$over" ] || fail "lines wider than 72 columns on a 72-column terminal: $over"
checks=$((checks + 1))
echo "ok: wrapped to 72 columns (longest line $longest)"
first=$(plain | head -n1)
[ "$(plain | tail -n1)" != "$first" ] || fail "the verdict repeated on a report that fits the screen"
checks=$((checks + 1))

on_tty 72 20 --root "$next" --config "$cfg"
[ "$(plain | grep -c '^halo-check: WARNING')" -ge 2 ] || fail "a report taller than 20 rows does not end with its verdict"
[ "$(plain | tail -n1)" = "$(plain | head -n1)" ] || fail "the last line is not the verdict line"
checks=$((checks + 1))

on_tty 72 200 --root "$next" --config "$cfg" --color=never
! grep -qF "$esc" <<<"$out" || fail "--color=never still colours"
checks=$((checks + 1))
out=$(NO_COLOR=1 TERM=xterm script -qec "$(printf '%q ' "$HALO_CHECK" --root "$next" --config "$cfg")" /dev/null)
! grep -qF "$esc" <<<"$out" || fail "NO_COLOR is not honoured"
checks=$((checks + 1))
run "$HALO_CHECK" --root "$next" --config "$cfg" --color=always
grep -qF "$esc" <<<"$out" || fail "--color=always does not colour through a pipe"
checks=$((checks + 1))
run "$HALO_CHECK" --root "$next" --config "$cfg"
! grep -qF "$esc" <<<"$out" || fail "colour through a pipe"
checks=$((checks + 1))
done_ok
