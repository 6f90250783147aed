#!/bin/bash
# `--version` of both programs: the release of CMakeLists.txt, the git revision when built from
# the top of a git checkout, and the embedded knowledge base's newest `since` date and entry
# counts, read here from rules/kb/*.toml, and for halo-check the installed feed's line.
# cmake/git_revision_script.cmake, run on its own: a
# revision at the top of a checkout, "-dirty" with a changed tracked file, and none outside a
# checkout or in a tree that only sits inside one (an unpacked tarball; the RPM test builds one).
set -u
: "${HALO_BINARY_DIR:?}" "${HALO_SOURCE_DIR:?}"
CHECK="${HALO_CHECK:-$HALO_BINARY_DIR/halo-check}"
SRC=$HALO_SOURCE_DIR
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

version=$(sed -n 's/^project(halo-check VERSION \([0-9.]*\).*/\1/p' "$SRC/CMakeLists.txt")
newest=$(sed -nE 's/^since = ([0-9]{4}-[0-9]{2}-[0-9]{2}).*/\1/p' "$SRC"/rules/kb/*.toml | sort | tail -n1)
count() { cat "$SRC"/rules/kb/*.toml | grep -cx "$1"; }
knowledge="knowledge base: $newest, $(count '\[\[rule\]\]') rules, $(count '\[\[known_good\]\]') known-good, $(count '\[\[log_pattern\]\]') log patterns (embedded)"
revision=""
if command -v git >/dev/null && [ "$(git -C "$SRC" rev-parse --show-toplevel 2>/dev/null)" = "$(cd "$SRC" && pwd -P)" ]; then
    revision=$(git -C "$SRC" rev-parse --short=12 HEAD)
fi
export XDG_STATE_HOME="$T/state"
unset STATE_DIRECTORY
for program in halo-check halo-checkd; do
    binary=$CHECK
    [ "$program" = halo-checkd ] && binary=$HALO_BINARY_DIR/halo-checkd
    out=$("$binary" --version) || fail "$program --version exits $?"
    first=$(echo "$out" | head -n1)
    if [ -n "$revision" ]; then
        # The commit built: HEAD, or one before it when commits came after the last build; -dirty
        # depends on the tree at build time, not now.
        built=$(echo "$first" | sed -nE "s/^$program $version \(git ([0-9a-f]{12})(-dirty)?\)$/\1/p")
        [ -n "$built" ] || fail "$program: '$first', expected '$program $version (git <12 hex digits>)'"
        git -C "$SRC" merge-base --is-ancestor "$built" HEAD 2>/dev/null \
            || fail "$program names git $built, which is not HEAD ($revision) or a commit before it"
    else
        [ "$first" = "$program $version" ] || fail "$program outside git: '$first'"
    fi
    [ "$(echo "$out" | sed -n 2p)" = "$knowledge" ] || fail "$program: '$(echo "$out" | sed -n 2p)', expected '$knowledge'"
    # halo-check also names the installed knowledge feed (docs/feed.md); none in a fresh state dir.
    lines=2
    if [ "$program" = halo-check ]; then
        lines=3
        [ "$(echo "$out" | sed -n 3p)" = "knowledge feed: none installed (embedded knowledge only)" ] \
            || fail "$program: line 3 '$(echo "$out" | sed -n 3p)', expected the feed line"
    fi
    [ "$(echo "$out" | wc -l)" = "$lines" ] || fail "$program --version prints other than $lines lines: $out"
done
echo "ok: both programs print $version${revision:+, git ${built:-}}, $knowledge"

command -v git >/dev/null || { echo "not run (the script part): git missing"; exit 77; }
script() { # DIR → the revision the generated source holds
    cmake -DSOURCE_DIR="$1" -DOUT="$T/out.cpp" -P "$SRC/cmake/git_revision_script.cmake" || fail "script on $1"
    sed -nE 's/.*return "([^"]*)";.*/\1/p' "$T/out.cpp"
}
mkdir -p "$T/repo/sub" "$T/plain"
echo a > "$T/repo/file"; echo b > "$T/plain/file"
git -C "$T/repo" init -q && git -C "$T/repo" add file &&
    git -C "$T/repo" -c user.name=t -c user.email=t@t commit -qm one || fail "temp repository"
head=$(git -C "$T/repo" rev-parse --short=12 HEAD)
[ "$(script "$T/repo")" = "$head" ] || fail "top of a checkout: '$(script "$T/repo")', expected $head"
[ "$(script "$T/plain")" = "" ] || fail "outside a checkout: '$(script "$T/plain")'"
[ "$(script "$T/repo/sub")" = "" ] || fail "inside a checkout, not its top: '$(script "$T/repo/sub")'"
echo c > "$T/repo/file"
[ "$(script "$T/repo")" = "$head-dirty" ] || fail "changed tracked file: '$(script "$T/repo")'"
before=$(stat -c %Y "$T/out.cpp"); sleep 1
script "$T/repo" > /dev/null
[ "$(stat -c %Y "$T/out.cpp")" = "$before" ] || fail "an unchanged revision rewrote the generated file"
echo "ok: the revision script: $head at the top, -dirty when changed, none outside or below a checkout"
