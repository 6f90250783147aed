#!/bin/bash
# The man pages (docs/man/*.scd, built by scdoc): each renders with man and groff without a
# warning; halo-check(1) names every command path and every option of the program's own tree
# (`halo-check completion --list commands`), halo-checkd(8) every option of `halo-checkd --help`,
# halo-check.toml(5) every key of docs/config.md, halo-check-rules(5) every entry kind and field
# of docs/rules.md's examples.
set -u
: "${HALO_BINARY_DIR:?}" "${HALO_SOURCE_DIR:?}"
CHECK="${HALO_CHECK:-$HALO_BINARY_DIR/halo-check}"
MAN=$HALO_BINARY_DIR/man
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
for tool in man groff scdoc; do
    if ! command -v "$tool" >/dev/null; then
        [ "${CI:-}" = true ] && fail "$tool is missing (scripts/install-deps test installs it)"
        echo "not run: $tool missing"; exit 77
    fi
done
pages=(halo-check.1 halo-checkd.8 halo-check.toml.5 halo-check-rules.5)
export LC_ALL=C.UTF-8
for page in "${pages[@]}"; do
    [ -s "$MAN/$page" ] || fail "$MAN/$page was not built"
    [ "$MAN/$page" -nt "$HALO_SOURCE_DIR/docs/man/$page.scd" ] || fail "$page is older than its source"
    warnings=$(MANWIDTH=80 man --warnings -l "$MAN/$page" 2>&1 > /dev/null)
    [ -z "$warnings" ] || fail "man -l $page warns: $warnings"
    warnings=$(groff -man -ww -z "$MAN/$page" 2>&1)
    [ -z "$warnings" ] || fail "groff -ww $page warns: $warnings"
    # No hyphenation or justification, wide: every name stays whole on one line.
    LC_ALL=C MANWIDTH=250 man --nh --nj -l "$MAN/$page" > "$T/$page.txt" 2>/dev/null || fail "man -l $page"
    head -n1 "$T/$page.txt" | grep -q "^${page%.*}(${page##*.})" || fail "$page has no title line"
done
echo "ok: ${#pages[@]} man pages render without warnings (man --warnings, groff -ww)"

has() { grep -qwF -- "$2" "$T/$1.txt"; }
"$CHECK" completion --list commands > "$T/tree" || fail "completion --list commands"
n=0
while IFS= read -r line; do
    path=${line%%:*}
    [ "$path" = halo-check ] || has halo-check.1 "$path" || fail "halo-check(1) does not name '$path'"
    for o in ${line#*:}; do
        has halo-check.1 "$o" || fail "halo-check(1) does not name the option $o (of '$path')"
        n=$((n + 1))
    done
done < "$T/tree"
echo "ok: halo-check(1) names all $(wc -l < "$T/tree") command paths and their $n options"

"$HALO_BINARY_DIR/halo-checkd" --help > "$T/checkd-help" || fail "halo-checkd --help"
options=$(grep -oE -- '(^|[ ,])--?[a-z][a-z-]*' "$T/checkd-help" | tr -d ' ,' | sort -u)
[ "$(echo "$options" | wc -l)" -ge 10 ] || fail "too few halo-checkd options read from --help: $options"
for o in $options; do has halo-checkd.8 "$o" || fail "halo-checkd(8) does not name the option $o"; done
echo "ok: halo-checkd(8) names all $(echo "$options" | wc -l) options of halo-checkd --help"

keys=$(sed -nE 's/^\| `([a-z_]+)` \|.*/\1/p' "$HALO_SOURCE_DIR/docs/config.md" | sort -u)
[ "$(echo "$keys" | wc -l)" -ge 20 ] || fail "too few keys read from docs/config.md: $keys"
for k in $keys; do has halo-check.toml.5 "$k" || fail "halo-check.toml(5) does not document the key $k"; done
for table in '[engine]' '[engine.restart]' '[daemon]' '[notify]'; do
    grep -qF "$table" "$T/halo-check.toml.5.txt" || fail "halo-check.toml(5) has no $table"
done
echo "ok: halo-check.toml(5) documents all $(echo "$keys" | wc -l) keys of docs/config.md"

for entry in '[[rule]]' '[[known_good]]' '[[log_pattern]]' '[[disable]]'; do
    grep -qF "$entry" "$T/halo-check-rules.5.txt" || fail "halo-check-rules(5) has no $entry"
done
fields=$(sed -nE 's/^([a-z_]+) = .*/\1/p' "$HALO_SOURCE_DIR/docs/rules.md" | sort -u)
[ "$(echo "$fields" | wc -l)" -ge 10 ] || fail "too few fields read from docs/rules.md: $fields"
for f in $fields; do has halo-check-rules.5 "$f" || fail "halo-check-rules(5) does not name the field $f"; done
echo "ok: halo-check-rules(5) names every entry kind and all $(echo "$fields" | wc -l) fields of docs/rules.md"
