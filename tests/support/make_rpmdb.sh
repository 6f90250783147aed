#!/usr/bin/env bash
# make_rpmdb.sh: build a real RPM database (SQLite, as on Fedora) under a root directory, holding
# empty noarch packages with the given names and versions. Made with the real tools (rpmbuild, then
# `rpm --root ROOT --dbpath /usr/lib/sysimage/rpm -U --justdb`), so the probe reads what it would
# read on a Fedora machine.
#
# Usage:
#   tests/support/make_rpmdb.sh ROOT SPEC...
#   SPEC = NAME=[EPOCH:]VERSION-RELEASE[@INSTALLTIME]
#     NAME         package name                    linux-firmware
#     EPOCH        optional epoch (integer)        2:
#     VERSION      version, no '-'                 20260110
#     RELEASE      release, no '-'                 1.fc43
#     INSTALLTIME  unix seconds recorded as the install time (default 1767225600,
#                  2026-01-01T00:00:00Z), so facts and golden output do not depend on the clock
#   Example:
#     make_rpmdb.sh "$tmp/root" linux-firmware=20260110-1.fc43 amd-gpu-firmware=20260110-1.fc43@1768000000 \
#                   kernel-core=6.18.9-200.fc43 podman=5:5.7.1-1.fc43
#
# Environment: RPMDB_DBPATH (default /usr/lib/sysimage/rpm, relative to ROOT).
#
# Behaviour:
#   - Quiet: prints nothing on success; on failure prints what failed (with the tool's output) to
#     stderr and exits non-zero (2 = usage, 1 = a tool failed).
#   - Idempotent: running it again with the same SPECs leaves the same database; a SPEC naming an
#     installed package with another version replaces it (rpm -U semantics). Several SPECs with the
#     same NAME install one package per version (like kernel-core's installonly packages).
#   - Writes only under ROOT (database only, --justdb: no payload files) and a private scratch
#     directory, which it removes; HOME points there so rpmbuild's ~/.rpmdb is not created.
#   - Needs: rpmbuild and rpm (Debian: package `rpm`).
set -euo pipefail

die() { echo "make_rpmdb.sh: $1" >&2; exit "${2:-1}"; }

[[ $# -ge 1 ]] || die "usage: make_rpmdb.sh ROOT NAME=[EPOCH:]VERSION-RELEASE[@INSTALLTIME]..." 2
root=$1; shift
[[ -n $root ]] || die "ROOT must not be empty" 2
command -v rpmbuild >/dev/null || die "rpmbuild not found (install the 'rpm' package)"
command -v rpm >/dev/null || die "rpm not found (install the 'rpm' package)"
mkdir -p "$root"
root=$(cd "$root" && pwd)
dbpath=${RPMDB_DBPATH:-/usr/lib/sysimage/rpm}

scratch=$(mktemp -d "${TMPDIR:-/tmp}/make_rpmdb.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export HOME=$scratch

cat >"$scratch/pkg.spec" <<'SPEC'
Name:           %{pkg_name}
%{?pkg_epoch:Epoch: %{pkg_epoch}}
Version:        %{pkg_version}
Release:        %{pkg_release}
Summary:        Empty package made by halo-check's tests
License:        MIT
BuildArch:      noarch
%description
Empty package made by halo-check's tests.
%files
SPEC

run() { # run a tool quietly; show its output only when it fails
    local out
    if ! out=$("$@" 2>&1); then
        printf '%s\n' "$out" >&2
        die "failed: $*"
    fi
}

mkdir -p "$root$dbpath"
if [[ ! -e $root$dbpath/rpmdb.sqlite ]]; then
    run rpm --root "$root" --dbpath "$dbpath" --initdb
fi

declare -A seen_name=()
for spec in "$@"; do
    [[ $spec =~ ^([A-Za-z0-9_.+-]+)=(([0-9]+):)?([^-:@]+)-([^-:@]+)(@([0-9]+))?$ ]] ||
        die "bad SPEC '$spec' (want NAME=[EPOCH:]VERSION-RELEASE[@INSTALLTIME])" 2
    name=${BASH_REMATCH[1]} epoch=${BASH_REMATCH[3]} version=${BASH_REMATCH[4]}
    release=${BASH_REMATCH[5]} installtime=${BASH_REMATCH[7]:-1767225600}
    evr="${epoch:+$epoch:}$version-$release"

    defines=(--define "_topdir $scratch/top" --define "pkg_name $name" --define "pkg_version $version"
             --define "pkg_release $release")
    [[ -n $epoch ]] && defines+=(--define "pkg_epoch $epoch")
    run rpmbuild -bb --quiet "${defines[@]}" "$scratch/pkg.spec"
    rpmfile="$scratch/top/RPMS/noarch/$name-$version-$release.noarch.rpm"
    [[ -f $rpmfile ]] || die "rpmbuild made no '$rpmfile'"

    # Same NAME given twice in one call: keep both versions (install, not upgrade).
    mode=-U
    [[ -n ${seen_name[$name]:-} ]] && mode=-i
    seen_name[$name]=1
    # Already installed with this exact EVR: nothing to do (keeps the script idempotent).
    installed=$(rpm --root "$root" --dbpath "$dbpath" -q --qf '%{EPOCH}:%{VERSION}-%{RELEASE}\n' "$name" 2>/dev/null || true)
    if grep -qxF "${epoch:-(none)}:$version-$release" <<<"$installed"; then
        continue
    fi
    # rpm records SOURCE_DATE_EPOCH as the install time (rpm >= 4.17).
    SOURCE_DATE_EPOCH=$installtime run rpm --root "$root" --dbpath "$dbpath" "$mode" --justdb --nodeps --oldpackage \
        --ignorearch --ignoreos --noscripts --notriggers "$rpmfile"
done

# SQLite's side files are not part of the database a machine has at rest.
rm -f "$root$dbpath/rpmdb.sqlite-shm" "$root$dbpath/rpmdb.sqlite-wal" "$root$dbpath/.rpm.lock"
