#!/usr/bin/env bash
# Options written before the subcommand apply to it, as if written after it, or are refused where
# the subcommand does not take them: never silently dropped (a dropped --fail-on would let `run`
# start the engine on a verdict the user asked it to refuse).
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
export NO_COLOR=1 XDG_CONFIG_HOME=$(mktemp -d)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$XDG_CONFIG_HOME"' EXIT
bad="$tmp/bad"
bash "$HALO_SOURCE_DIR/tests/support/make_fixture_root.sh" strix-fedora43-fw20251125-rocm "$bad" || fail "fixture"

# The fixture without an engine configured is WARNING: run's default --fail-on broken passes it.
run "$HALO_CHECK" run --root "$bad" --dry-run -- true
expect_rc 0
run "$HALO_CHECK" run --root "$bad" --fail-on warning --dry-run -- true
after_rc=$rc
[ "$after_rc" != 0 ] || fail "run --fail-on warning passed a WARNING verdict"
# The same gate written before the subcommand holds the same way.
run "$HALO_CHECK" --fail-on warning run --root "$bad" --dry-run -- true
expect_rc "$after_rc" "--fail-on before run"
run "$HALO_CHECK" --root "$bad" --fail-on warning run --dry-run -- true
expect_rc "$after_rc" "--root and --fail-on before run"

# --root before facts reads the fixture, not this machine.
run "$HALO_CHECK" facts --root "$bad" --only kernel
expect_rc 0
want=$(grep "^'kernel.release' = " <<<"$out")
[ -n "$want" ] && [ "$want" != "'kernel.release' = '$(uname -r)'" ] || fail "the fixture's kernel is this machine's"
run "$HALO_CHECK" --root "$bad" facts --only kernel
expect_rc 0
expect_out "$want"

# An option the subcommand does not take is an error naming it, not ignored.
run "$HALO_CHECK" --fail-on warning facts --root "$bad"
expect_rc 3
expect_err "--fail-on does not apply to 'halo-check facts'"
run "$HALO_CHECK" --strict rules list
expect_rc 3
expect_err "--strict does not apply to 'halo-check rules list'"
# Given on both sides: refused rather than one silently winning.
run "$HALO_CHECK" --fail-on warning run --fail-on broken --dry-run -- true
expect_rc 3
expect_err "--fail-on is given both before and after 'run'"
done_ok
