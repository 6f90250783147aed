#!/bin/bash
# The RPM: .copr/Makefile (COPR's make_srpm) makes a `git archive` tarball of this source tree and
# the source RPM of packaging/fedora/halo-check.spec, `rpmbuild --rebuild` builds the binary RPM
# (its %check runs the unit tests), the RPM holds the programs, units, man pages, completions,
# tmpfiles.d and sysusers.d files, it installs into an `rpm --root` tree where the installed
# programs run, and rpmlint reports no errors on the spec or the RPM.
#
# Debian's rpm has none of Fedora's CMake and systemd macros and Debian has none of the Fedora
# package names the spec's BuildRequires use: the build loads tests/data/packaging/fedora.macros
# and runs with --nodeps (docs/packaging.md). It compiles the whole project again, through
# ccache in a fixed directory under the build tree, so a second run is mostly cache hits.
set -u
: "${HALO_BINARY_DIR:?}" "${HALO_SOURCE_DIR:?}"
fail() { echo "FAIL: $*"; exit 1; }
for tool in rpmbuild rpm rpmlint git; do
    if ! command -v "$tool" >/dev/null; then
        [ "${CI:-}" = true ] && fail "$tool is missing (scripts/install-deps test installs it)"
        echo "not run: $tool missing"; exit 77
    fi
done
SRC=$HALO_SOURCE_DIR
SPEC=$SRC/packaging/fedora/halo-check.spec
T=$HALO_BINARY_DIR/rpmbuild-test
rm -rf "$T"; mkdir -p "$T/installed"

version=$(sed -n 's/^Version: *//p' "$SPEC")
project=$(sed -n 's/^project(halo-check VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
[ -n "$version" ] && [ "$version" = "$project" ] || fail "the spec's Version '$version' is not CMakeLists.txt's '$project'"

# The tarball: what `git archive` makes of this tree as it is, committed or not (a private index
# and object store, so neither the checkout's index nor its stash is touched; .gitignore holds).
cd "$SRC" || fail "cd $SRC" # pathspecs are relative to the working directory
export GIT_DIR=$T/git GIT_WORK_TREE=$SRC
git init -q && git config core.autocrlf false
exclude=()
# A build tree inside the sources that .gitignore does not cover stays out of the tarball too.
case "$HALO_BINARY_DIR/" in
"$SRC"/*) git check-ignore -q "${HALO_BINARY_DIR#"$SRC"/}" || exclude=(":(exclude)${HALO_BINARY_DIR#"$SRC"/}") ;;
esac
git add -A -- . "${exclude[@]}" || fail "git add"
tree=$(git write-tree) || fail "git write-tree"
macros=(--define "_topdir $T" --load "$SRC/tests/data/packaging/fedora.macros")
make -s -f "$SRC/.copr/Makefile" srpm outdir="$T/srpm" ref="$tree" \
    rpmbuild_flags="--define '_topdir $T' --load '$SRC/tests/data/packaging/fedora.macros'" \
    > "$T/srpm.log" 2>&1 || { cat "$T/srpm.log"; fail "make -f .copr/Makefile srpm"; }
unset GIT_DIR GIT_WORK_TREE
srpm=$T/srpm/halo-check-$version-1.fc43.src.rpm
[ -f "$srpm" ] || { ls -l "$T/srpm"; fail "no source RPM $srpm"; }
tar -tzf "$T/srpm/halo-check-$version.tar.gz" | grep -qx "halo-check-$version/packaging/fedora/halo-check.spec" \
    || fail "the tarball lacks halo-check-$version/packaging/fedora/halo-check.spec"
tar -tzf "$T/srpm/halo-check-$version.tar.gz" | grep -q "^halo-check-$version/build" && fail "the tarball holds a build tree"
echo "ok: .copr/Makefile made the tarball and $(basename "$srpm")"

start=$(date +%s)
export CCACHE_BASEDIR=$T
if ! rpmbuild --rebuild --nodeps "${macros[@]}" "$srpm" > "$T/rpmbuild.log" 2>&1; then
    tail -n 80 "$T/rpmbuild.log"; fail "rpmbuild --rebuild (log: $T/rpmbuild.log)"
fi
grep -q '100% tests passed' "$T/rpmbuild.log" || fail "%check did not pass every unit test"
echo "ok: rpmbuild --rebuild in $(($(date +%s) - start)) s; %check: $(grep -E 'tests passed' "$T/rpmbuild.log" | tail -n1)"

rpm_file=$(ls "$T"/RPMS/*/halo-check-"$version"-1.fc43.*.rpm 2>/dev/null | head -n1)
[ -f "$rpm_file" ] || fail "no binary RPM under $T/RPMS"
rpm -qlp "$rpm_file" 2>/dev/null > "$T/files"
for f in /usr/bin/halo-check /usr/bin/halo-checkd \
    /usr/lib/systemd/system/halo-checkd.service /usr/lib/systemd/user/halo-checkd.service \
    /usr/lib/sysusers.d/halo-check.conf /usr/lib/tmpfiles.d/halo-check.conf \
    /usr/share/man/man1/halo-check.1 /usr/share/man/man8/halo-checkd.8 \
    /usr/share/man/man5/halo-check.toml.5 /usr/share/man/man5/halo-check-rules.5 \
    /usr/share/bash-completion/completions/halo-check /usr/share/zsh/site-functions/_halo-check \
    /usr/share/fish/vendor_completions.d/halo-check.fish \
    /usr/share/halo-check/rules.d /etc/halo-check/rules.d \
    /usr/share/doc/halo-check/README.md /usr/share/licenses/halo-check/LICENSE; do
    # Fedora compresses man pages (.1.gz); Debian's rpm leaves them as they are.
    grep -qxE "$f(\\.gz)?" "$T/files" || { cat "$T/files"; fail "the RPM lacks $f"; }
done
echo "ok: rpm -qlp lists the programs, units, man pages, completions, tmpfiles.d, sysusers.d, drop-in directories"

rpm -qp --scripts "$rpm_file" 2>/dev/null > "$T/scripts"
for s in "install-system-units halo-checkd.service" "install-user-units halo-checkd.service" \
    "remove-system-units halo-checkd.service" "mark-restart-user-units halo-checkd.service"; do
    grep -q "$s" "$T/scripts" || { cat "$T/scripts"; fail "no scriptlet runs '$s'"; }
done
echo "ok: the systemd scriptlets (preset on first install, stop on removal, restart on upgrade)"

# Installed into a private root: the files land, and the installed program runs. It was built
# from a tarball, so --version names no git revision.
rpm --root "$T/installed" --initdb 2>/dev/null || fail "rpm --initdb"
rpm --root "$T/installed" -i --nodeps --noscripts "$rpm_file" > "$T/install.log" 2>&1 \
    || { cat "$T/install.log"; fail "rpm --root -i"; }
rpm --root "$T/installed" -q halo-check 2>/dev/null | grep -qx "halo-check-$version-1.fc43.*" || fail "rpm -q in the root"
for f in usr/bin/halo-check usr/lib/sysusers.d/halo-check.conf usr/share/zsh/site-functions/_halo-check; do
    [ -s "$T/installed/$f" ] || fail "$f is not in the installed root"
done
out=$("$T/installed/usr/bin/halo-check" --version) || fail "the installed halo-check --version"
echo "$out" | head -n1 | grep -qx "halo-check $version" || fail "version line of a tarball build: $out"
echo "$out" | grep -qE '^knowledge base: [0-9]{4}-[0-9]{2}-[0-9]{2}, [0-9]+ rules' || fail "knowledge line: $out"
"$T/installed/usr/bin/halo-checkd" --version | head -n1 | grep -qx "halo-checkd $version" || fail "halo-checkd --version"
echo "ok: installs into rpm --root; the installed binaries run ($(echo "$out" | head -n1), no git revision)"

# The account and the state directory, as systemd makes them from the installed files (on
# Fedora, its file triggers run these at install time).
if command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null; then
    systemd-sysusers --root="$T/installed" > "$T/sysusers.log" 2>&1 || { cat "$T/sysusers.log"; fail "systemd-sysusers"; }
    uid=$(awk -F: '$1 == "halo-check" { print $3 }' "$T/installed/etc/passwd")
    [ -n "$uid" ] || fail "sysusers.d made no halo-check account: $(cat "$T/installed/etc/passwd")"
    for group in render video; do
        grep -qE "^$group:.*:(.*,)?halo-check(,|$)" "$T/installed/etc/group" || fail "halo-check is not in group $group"
    done
    systemd-tmpfiles --root="$T/installed" --create > "$T/tmpfiles.log" 2>&1 || { cat "$T/tmpfiles.log"; fail "systemd-tmpfiles"; }
    [ "$(stat -c '%a %u' "$T/installed/var/lib/halo-check")" = "750 $uid" ] \
        || fail "/var/lib/halo-check is $(stat -c '%a %u' "$T/installed/var/lib/halo-check"), expected 750 $uid"
    grep -qx 'StateDirectoryMode=0750' "$T/installed/usr/lib/systemd/system/halo-checkd.service" \
        || fail "the system unit's StateDirectoryMode is not tmpfiles.d's 0750"
    grep -qx 'User=halo-check' "$T/installed/usr/lib/systemd/system/halo-checkd.service" \
        || fail "the system unit does not run as sysusers.d's halo-check"
    echo "ok: sysusers.d makes halo-check (render, video), tmpfiles.d /var/lib/halo-check 0750 owned by it, as the unit's"
else
    [ "${CI:-}" = true ] && fail "systemd-sysusers or systemd-tmpfiles is missing"
    echo "not checked: systemd-sysusers/systemd-tmpfiles missing"
fi

rpmlint -c "$SRC/tests/data/packaging/rpmlint-fedora.toml" "$SPEC" "$rpm_file" > "$T/rpmlint.log" 2>&1
summary=$(grep -E '[0-9]+ errors?, [0-9]+ warnings?' "$T/rpmlint.log" | tail -n1)
[ -n "$summary" ] || { cat "$T/rpmlint.log"; fail "no rpmlint summary"; }
errors=$(echo "$summary" | sed -E 's/.* ([0-9]+) errors?,.*/\1/')
grep -E '^[^ ]+: (W|E): ' "$T/rpmlint.log" | sort -u
[ "$errors" = 0 ] || { cat "$T/rpmlint.log"; fail "rpmlint: $summary"; }
echo "ok: rpmlint: $summary"
