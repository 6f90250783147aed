#!/usr/bin/env bash
# make_rpm.sh: build one empty noarch RPM with rpmbuild and print its path, for tests that install
# it themselves (`rpm --root R --dbpath /usr/lib/sysimage/rpm -U --justdb FILE`) at a chosen moment.
#
# Usage: tests/support/make_rpm.sh OUTDIR NAME VERSION RELEASE
#   prints OUTDIR/NAME-VERSION-RELEASE.noarch.rpm; quiet otherwise; exit 2 = usage, 1 = rpmbuild failed.
# Writes only under OUTDIR (HOME points there, so rpmbuild makes no ~/.rpmdb or ~/rpmbuild).
set -euo pipefail
[[ $# -eq 4 ]] || { echo "usage: make_rpm.sh OUTDIR NAME VERSION RELEASE" >&2; exit 2; }
out=$1 name=$2 version=$3 release=$4
command -v rpmbuild >/dev/null || { echo "make_rpm.sh: rpmbuild not found (install the 'rpm' package)" >&2; exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
scratch=$(mktemp -d "$out/.make_rpm.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
export HOME=$scratch
cat >"$scratch/pkg.spec" <<SPEC
Name:           $name
Version:        $version
Release:        $release
Summary:        Empty package made by halo-check's tests
License:        MIT
BuildArch:      noarch
%description
Empty package made by halo-check's tests.
%files
SPEC
if ! log=$(rpmbuild -bb --quiet --define "_topdir $scratch/top" "$scratch/pkg.spec" 2>&1); then
    printf '%s\n' "$log" >&2
    echo "make_rpm.sh: rpmbuild failed" >&2
    exit 1
fi
mv "$scratch/top/RPMS/noarch/$name-$version-$release.noarch.rpm" "$out/"
echo "$out/$name-$version-$release.noarch.rpm"
