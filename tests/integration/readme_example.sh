#!/usr/bin/env bash
# The README's example reports are what halo-check prints: each block under "What a report looks
# like" that starts with "$ halo-check" is run on the fixture it names (tests/data/hosts/NAME, built
# as the other fixture tests build it, with the config it carries when the block passes --config)
# and compared with the block, line for line.
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
export NO_COLOR=1 XDG_CONFIG_HOME=$(mktemp -d)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$XDG_CONFIG_HOME"' EXIT
# No installed knowledge feed (the user's or the system's): the reports say "knowledge: embedded".
export XDG_STATE_HOME="$tmp/state" HALO_SYSTEM_STATE_DIR="$tmp/system-state"
unset STATE_DIRECTORY
# Blocks as files: $tmp/block.N holds the command line first, then the expected output.
python3 - "$HALO_SOURCE_DIR/README.md" "$tmp" <<'PY' || fail "could not read the README's examples"
import sys
text = open(sys.argv[1], encoding="utf-8").read()
section = text.split("## What a report looks like", 1)[1].split("\n## ", 1)[0]
n = 0
for block in section.split("```")[1::2]:
    lines = block.strip("\n").split("\n")
    if lines and lines[0].startswith("$ halo-check"):
        open(f"{sys.argv[2]}/block.{n}", "w", encoding="utf-8").write("\n".join(lines) + "\n")
        n += 1
sys.exit(0 if n else 1)
PY
for block in "$tmp"/block.*; do
    read -r -a words < <(head -n1 "$block")
    host=""
    args=()
    for w in "${words[@]:2}"; do
        case "$w" in
            tests/data/hosts/*/etc/halo-check/config.toml)
                h=${w#tests/data/hosts/}; h=${h%%/*}; args+=("$tmp/$h/etc/halo-check/config.toml") ;;
            tests/data/hosts/*)
                host=${w#tests/data/hosts/}
                [ -d "$tmp/$host" ] || bash "$HALO_SOURCE_DIR/tests/support/make_fixture_root.sh" "$host" "$tmp/$host" >/dev/null \
                    || fail "fixture $host"
                args+=("$tmp/$host") ;;
            *) args+=("$w") ;;
        esac
    done
    [ -n "$host" ] || fail "README example '$(head -n1 "$block")' names no fixture host"
    run "$HALO_CHECK" "${args[@]}"
    tail -n +2 "$block" > "$tmp/expected"
    printf '%s\n' "$out" > "$tmp/got"
    diff -u "$tmp/expected" "$tmp/got" > "$tmp/diff" || { cat "$tmp/diff"; fail "README example '$(head -n1 "$block")' is not what halo-check prints (diff above: - README, + halo-check)"; }
    checks=$((checks + 1))
done
done_ok
