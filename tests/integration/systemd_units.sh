#!/bin/bash
# Every unit in systemd/ passes `systemd-analyze verify` (ExecStart pointed at the built binaries
# in a temp copy), and the system unit's `systemd-analyze security --offline=true` score is
# printed for the record.
set -u
: "${HALO_BINARY_DIR:?}" "${HALO_SOURCE_DIR:?}"
command -v systemd-analyze >/dev/null || { echo "not run: systemd-analyze missing"; exit 77; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
mkdir -m 0700 "$T/runtime"
CHECKD="$HALO_BINARY_DIR/halo-checkd"; CHECK="${HALO_CHECK:-$HALO_BINARY_DIR/halo-check}"
fail() { echo "FAIL: $*"; exit 1; }

point() { # copy a unit, pointing /usr/bin/halo-check{,d} at the built binaries
    sed -e "s|/usr/bin/halo-checkd|$CHECKD|g" -e "s|/usr/bin/halo-check |$CHECK |g" "$1" > "$2"
}
point "$HALO_SOURCE_DIR/systemd/halo-checkd.service" "$T/halo-checkd.service"
XDG_RUNTIME_DIR="$T/runtime" systemd-analyze --user verify "$T/halo-checkd.service" > "$T/out" 2>&1 \
    || { cat "$T/out"; fail "user unit"; }
point "$HALO_SOURCE_DIR/systemd/examples/llama-server-halo-run.service" "$T/llama-server-halo-run.service"
# The engine itself (toolbox) is not installed here: only halo-check must resolve.
XDG_RUNTIME_DIR="$T/runtime" systemd-analyze --user verify "$T/llama-server-halo-run.service" > "$T/out" 2>&1 \
    || { cat "$T/out"; fail "halo-run example"; }
# A drop-in verifies together with a unit it extends.
mkdir -p "$T/dropin/llama-server.service.d"
printf '[Service]\nExecStart=/bin/true\n' > "$T/dropin/llama-server.service"
point "$HALO_SOURCE_DIR/systemd/examples/llama-server-execcondition.conf" "$T/dropin/llama-server.service.d/halo-check.conf"
grep -q "ExecCondition=$CHECK --fail-on broken" "$T/dropin/llama-server.service.d/halo-check.conf" || fail "drop-in rewrite"
(cd "$T/dropin" && XDG_RUNTIME_DIR="$T/runtime" SYSTEMD_UNIT_PATH="$T/dropin:" systemd-analyze --user verify llama-server.service) \
    > "$T/out" 2>&1 || { cat "$T/out"; fail "ExecCondition drop-in"; }
echo "ok: user unit and examples verify"

# The examples the build installs name the install prefix's programs, not /usr/bin by default.
bindir=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$HALO_BINARY_DIR/CMakeCache.txt")/bin
for example in llama-server-execcondition.conf llama-server-halo-run.service; do
    generated="$HALO_BINARY_DIR/systemd/examples/$example"
    grep -q "$bindir/halo-check " "$generated" || fail "$generated does not name $bindir/halo-check"
    [ "$bindir" = /usr/bin ] || ! grep -q "/usr/bin/halo-check" "$generated" || fail "$generated still names /usr/bin"
done
echo "ok: the installed examples name $bindir/halo-check"

point "$HALO_SOURCE_DIR/systemd/halo-checkd-system.service" "$T/halo-checkd-system.service"
# User= must exist for verify; root stands in for the configured account.
sed -i 's/^User=halo-check/User=root/' "$T/halo-checkd-system.service"
systemd-analyze verify "$T/halo-checkd-system.service" > "$T/out" 2>&1 || { cat "$T/out"; fail "system unit"; }
systemd-analyze security --offline=true --no-pager "$T/halo-checkd-system.service" > "$T/sec" 2>&1
grep -E '→ Overall exposure level' "$T/sec" || { cat "$T/sec"; fail "no security score"; }
echo "ok: system unit verifies"
point "$HALO_SOURCE_DIR/systemd/halo-check-update.service" "$T/halo-check-update.service"
cp "$HALO_SOURCE_DIR/systemd/halo-check-update.timer" "$T/halo-check-update.timer"
grep -q "ExecStart=$CHECK update" "$T/halo-check-update.service" || fail "update service rewrite"
systemd-analyze verify "$T/halo-check-update.service" "$T/halo-check-update.timer" > "$T/out" 2>&1 ||
    { cat "$T/out"; fail "update service and timer"; }
grep -q '^RandomizedDelaySec=' "$T/halo-check-update.timer" || fail "the update timer has no randomised delay"
echo "ok: update service and timer verify"
