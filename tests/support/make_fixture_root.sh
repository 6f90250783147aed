#!/usr/bin/env bash
# make_fixture_root.sh: copy a fixture host to a scratch directory and give it what git cannot
# hold: its RPM database (built with the real rpm tools by make_rpmdb.sh) and the file modification
# times the boot probe compares.
#
# Usage:
#   tests/support/make_fixture_root.sh HOST DEST
#     HOST  a directory name under tests/data/hosts (strix-fedora43-good, …)
#     DEST  where the copy goes (created; an existing copy is replaced)
#   The recipe is tests/data/rpmdb/HOST.list (absent: the copy gets no rpmdb): one SPEC per line as
#   make_rpmdb.sh takes it, `mtime /PATH SECONDS` lines, '#' comments.
#   Example: root=$(mktemp -d)/root; tests/support/make_fixture_root.sh strix-fedora43-good "$root"
#            halo-check --root "$root" facts
# Quiet on success; on failure says what failed on stderr and exits non-zero.
set -euo pipefail
die() { echo "make_fixture_root.sh: $1" >&2; exit "${2:-1}"; }
[[ $# -eq 2 ]] || die "usage: make_fixture_root.sh HOST DEST" 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
data=$here/../data
host=$1 dest=$2
[[ -d $data/hosts/$host ]] || die "no fixture host '$host' under tests/data/hosts" 2
rm -rf "$dest"
mkdir -p "$dest"
cp -a "$data/hosts/$host/." "$dest/"
list=$data/rpmdb/$host.list
[[ -f $list ]] || exit 0
specs=()
while read -r first second third; do
    [[ -z $first || $first == \#* ]] && continue
    if [[ $first == mtime ]]; then
        [[ -e $dest$second ]] || die "'$list': no file '$second' in the fixture"
        touch -h -d "@$third" "$dest$second"
    else
        specs+=("$first")
    fi
done <"$list"
[[ ${#specs[@]} -eq 0 ]] || "$here/make_rpmdb.sh" "$dest" "${specs[@]}"
