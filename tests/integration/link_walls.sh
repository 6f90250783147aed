#!/usr/bin/env bash
# The walls between the programs, as the build graph has them (not only as ldd sees them): the
# link line of halo-check names none of halo-checkd's code, libsystemd or libcurl, and no archive
# on it holds an object built from daemon/checkd/. halo-checkd's line is read the same way, so
# the check is known to see what it looks for.
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
: "${HALO_BINARY_DIR:?set by ctest}"
cd "$HALO_BINARY_DIR"
# link_line TARGET: the libraries the generator links TARGET with.
link_line() {
    if [ -f build.ninja ]; then
        awk -v t="build $1:" 'index($0, t) == 1 {f = 1} f && /LINK_LIBRARIES/ {sub(/^ *LINK_LIBRARIES = /, ""); print; exit}' build.ninja
    elif [ -f "CMakeFiles/$1.dir/link.txt" ]; then
        cat "CMakeFiles/$1.dir/link.txt"
    fi
}
check=$(link_line halo-check)
checkd=$(link_line halo-checkd)
[ -n "$check" ] && [ -n "$checkd" ] || fail "found no link line for halo-check or halo-checkd in $HALO_BINARY_DIR"
checks=$((checks + 1))
for lib in libhalo_checkd libsystemd libcurl; do
    if grep -q "$lib" <<<"$check"; then out=$check; fail "halo-check's link line names $lib"; fi
    checks=$((checks + 1))
    if ! grep -q "$lib" <<<"$checkd"; then out=$checkd; fail "halo-checkd's link line lacks $lib: the check cannot see it"; fi
    checks=$((checks + 1))
done
grep -q libhalo_check.a <<<"$check" || { out=$check; fail "halo-check's link line lacks libhalo_check.a"; }
checks=$((checks + 1))
# No archive halo-check links holds halo-checkd's objects.
checkd_objects=$(cd "$HALO_SOURCE_DIR/daemon/checkd" && ls *.cpp | sed 's/$/.o/')
for archive in $(tr ' ' '\n' <<<"$check" | grep '\.a$'); do
    members=$(ar t "$archive") || fail "Failed to list '$archive'"
    while read -r obj; do
        if grep -qxF "$obj" <<<"$members"; then fail "$archive (linked into halo-check) holds $obj from daemon/checkd/"; fi
    done <<<"$checkd_objects"
    checks=$((checks + 1))
done
done_ok
