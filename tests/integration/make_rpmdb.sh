#!/usr/bin/env bash
# tests/support/make_rpmdb.sh against the rpm CLI: what it builds is what `rpm -q` reports, it is
# quiet, idempotent, rejects bad SPECs with exit 2, and writes only under ROOT.
set -euo pipefail
command -v rpmbuild >/dev/null || { echo "skipped: rpmbuild not installed (Debian package 'rpm')"; exit 77; }
script=$HALO_SOURCE_DIR/tests/support/make_rpmdb.sh
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
root=$work/root
fail() { echo "FAIL: $*" >&2; exit 1; }

specs=(linux-firmware=20251125-1.fc43@1767571200 podman=5:5.7.1-1.fc43 kernel-core=6.18.5-200.fc43 kernel-core=6.18.3-200.fc43)
out=$(HOME=$work/home "$script" "$root" "${specs[@]}" 2>&1) || fail "make_rpmdb.sh failed: $out"
[[ -z $out ]] || fail "make_rpmdb.sh is not quiet: $out"
[[ ! -e $work/home/.rpmdb ]] || fail "created ~/.rpmdb"
q() { rpm --root "$root" --dbpath /usr/lib/sysimage/rpm -q --qf '%{NAME} %{EPOCH} %{VERSION}-%{RELEASE} %{INSTALLTIME}\n' "$@" 2>/dev/null | sort; }
expected="kernel-core (none) 6.18.3-200.fc43 1767225600
kernel-core (none) 6.18.5-200.fc43 1767225600
linux-firmware (none) 20251125-1.fc43 1767571200
podman 5 5.7.1-1.fc43 1767225600"
first=$(q linux-firmware podman kernel-core)
[[ $first == "$expected" ]] || fail "rpm -q says: $first"

"$script" "$root" "${specs[@]}" >/dev/null 2>&1 || fail "second run failed"
[[ $(q linux-firmware podman kernel-core) == "$expected" ]] || fail "second run changed the database"

"$script" "$root" linux-firmware=20260110-1.fc43 || fail "upgrade failed"
[[ $(q linux-firmware) == "linux-firmware (none) 20260110-1.fc43 1767225600" ]] || fail "upgrade not applied"

set +e
"$script" "$root" 'linux-firmware=2026-01-10-1' 2>/dev/null; rc=$?
set -e
[[ $rc -eq 2 ]] || fail "bad SPEC gave exit $rc, want 2"
unexpected=$(find "$work" -mindepth 1 -not -path "$root*" -not -path "$work/home*")
[[ -z $unexpected ]] || fail "wrote outside ROOT: $unexpected"
echo "ok"
