#!/bin/bash
# The shell completions, written by `halo-check completion bash|zsh|fish` from the program's own
# command tree: bash's is registered (`complete -p`) and, called as bash calls it (COMP_WORDS,
# COMP_CWORD), offers every subcommand and every option of every command path the tree lists
# (`halo-check completion --list commands`), probe ids for --only/--skip, rule ids for explain,
# a choice's members and files; fish's does the same through `complete -C`; zsh's parses and its
# tables hold the same tree.
set -u
: "${HALO_BINARY_DIR:?}" "${HALO_SOURCE_DIR:?}"
CHECK="${HALO_CHECK:-$HALO_BINARY_DIR/halo-check}"
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
need() {
    command -v "$1" >/dev/null && return 0
    [ "${CI:-}" = true ] && fail "$1 is missing (scripts/install-deps test installs it)"
    echo "not run: $1 missing"; exit 77
}
need fish; need zsh
[ -f /usr/share/bash-completion/bash_completion ] || need bash-completion-is-not-installed

"$CHECK" completion --list commands > "$T/tree" || fail "completion --list commands"
"$CHECK" completion --list probes > "$T/probes" || fail "completion --list probes"
"$CHECK" completion --list rules > "$T/rules" || fail "completion --list rules"
[ "$(wc -l < "$T/tree")" -ge 10 ] || fail "the tree lists too few commands: $(cat "$T/tree")"
grep -qx os "$T/probes" || fail "no probe 'os' in: $(cat "$T/probes")"
grep -qx firmware.mes-0x83-rocm "$T/rules" || fail "no rule firmware.mes-0x83-rocm in the rule ids"
for shell in bash zsh fish; do "$CHECK" completion "$shell" > "$T/halo-check.$shell" || fail "completion $shell"; done
# The scripts the build installs are these.
for shell in bash zsh fish; do
    cmp -s "$T/halo-check.$shell" "$HALO_BINARY_DIR/completions/halo-check.$shell" || fail "built $shell script differs"
done
"$CHECK" completion > /dev/null 2> "$T/err" && fail "completion with neither a shell nor --list succeeded"
grep -q "needs a shell (bash, zsh, fish) or --list" "$T/err" || fail "unclear error: $(cat "$T/err")"
"$CHECK" --help | grep -qw completion && fail "the completion subcommand shows in --help"

# Each tree line "halo-check PATH: OPTION..." as PATH and options; children of PATH from the lines below it.
paths() { sed -E 's/^halo-check ?([^:]*):.*/\1/' "$T/tree"; }
options_of() { grep -E "^halo-check${1:+ $1}:" "$T/tree" | sed -E 's/^[^:]*: ?//' | tr ' ' '\n' | grep .; }
children_of() { paths | grep -E "^${1:+$1 }[^ ]+$" | sed -E "s/^${1:+$1 }//"; }

# --- bash: the real function, driven as readline drives it.
cat > "$T/drive.bash" <<'DRIVE'
source /usr/share/bash-completion/bash_completion
source "$1"
shift
complete -p halo-check
# complete WORD...: the last word is the one being completed.
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
COMPREPLY=()
_halo_check
printf '%s\n' "${COMPREPLY[@]}"
DRIVE
comp() { bash "$T/drive.bash" "$T/halo-check.bash" "$CHECK" "$@" 2> "$T/comp-err"; }
comp "" | head -n1 | grep -qx "complete -F _halo_check halo-check" || fail "complete -p: $(comp "" | head -n1)"
checked=0
while IFS= read -r path; do
    read -ra words <<< "$path"
    offered=$(comp "${words[@]}" "-" | tail -n +2)
    for o in $(options_of "$path"); do
        grep -qxF -- "$o" <<< "$offered" || fail "bash: 'halo-check $path -' does not offer $o (offers: $offered)"
        checked=$((checked + 1))
    done
    offered=$(comp "${words[@]}" "" | tail -n +2)
    for c in $(children_of "$path"); do
        grep -qxF -- "$c" <<< "$offered" || fail "bash: 'halo-check $path' does not offer subcommand $c"
        checked=$((checked + 1))
    done
    [ -s "$T/comp-err" ] && fail "bash printed errors for '$path': $(cat "$T/comp-err")"
done < <(paths)
echo "ok: bash offers all $checked subcommands and options of $(paths | wc -l) command paths"

[ "$(comp check --only "" | tail -n +2)" = "$(cat "$T/probes")" ] || fail "bash: --only does not offer the probe ids"
comp facts --skip os,k | tail -n +2 | grep -qx "os,kernel" || fail "bash: --skip os,k does not complete the list"
comp explain firmware.mes-0x83-r | tail -n +2 | grep -qx firmware.mes-0x83-rocm || fail "bash: explain offers no rule id"
[ "$(comp --fail-on "" | tail -n +2 | sort | tr '\n' ' ')" = "broken warning " ] || fail "bash: --fail-on choices"
comp check --fail-on = b | tail -n +2 | grep -qx broken || fail "bash: --fail-on=b (= breaks words)"
comp run --only=ke | tail -n +2 | grep -qx -- "--only=kernel" || fail "bash: --only=ke in one word"
touch "$T/facts-sample.toml"
comp check --facts "$T/facts-s" | tail -n +2 | grep -qx "$T/facts-sample.toml" || fail "bash: --facts offers no file"
comp rules validate "$T/facts-s" | tail -n +2 | grep -qx "$T/facts-sample.toml" || fail "bash: validate's PATH"
comp --rules "$T/facts-sample.toml" rules "" | tail -n +2 | grep -qx validate || fail "bash: an option's value is not a command"
comp run -- bas | tail -n +2 | grep -qx bash || fail "bash: run -- does not complete a command"
echo "ok: bash completes probe ids, rule ids, choices, files and run's command"

# --- fish: its own completion engine, `complete -C`.
fishc() { PATH="$(dirname "$CHECK"):$PATH" fish --no-config -c "source $T/halo-check.fish; complete -C '$1'" 2>&1 | cut -f1; }
fish -n "$T/halo-check.fish" || fail "fish -n"
checked=0
while IFS= read -r path; do
    offered=$(fishc "halo-check ${path:+$path }-")
    for o in $(options_of "$path"); do
        grep -qxF -- "$o" <<< "$offered" || fail "fish: 'halo-check $path -' does not offer $o (offers: $offered)"
        checked=$((checked + 1))
    done
    offered=$(fishc "halo-check ${path:+$path }")
    for c in $(children_of "$path"); do
        grep -qxF -- "$c" <<< "$offered" || fail "fish: 'halo-check $path' does not offer subcommand $c"
        checked=$((checked + 1))
    done
done < <(paths)
[ "$(fishc 'halo-check check --only ' | sort)" = "$(sort "$T/probes")" ] || fail "fish: --only probe ids"
fishc 'halo-check explain firmware.mes-0x83-r' | grep -qx firmware.mes-0x83-rocm || fail "fish: explain rule ids"
fishc 'halo-check --root tests rules ' | grep -qx validate || fail "fish: an option's value is not a command"
echo "ok: fish offers all $checked subcommands and options, probe ids and rule ids"

# --- zsh: it parses, and its tables (shared with bash) hold the tree.
zsh -n "$T/halo-check.zsh" || fail "zsh -n"
head -n1 "$T/halo-check.zsh" | grep -qx '#compdef halo-check' || fail "zsh: no #compdef line"
sed '$d' "$T/halo-check.zsh" > "$T/tables.zsh"
while IFS= read -r path; do
    [ "$(zsh -fc "source $T/tables.zsh; _halo_check_options '$path'")" = "$(options_of "$path")" ] \
        || fail "zsh: the options of '$path' differ from the tree"
    [ "$(zsh -fc "source $T/tables.zsh; _halo_check_subcommands '$path'")" = "$(children_of "$path")" ] \
        || fail "zsh: the subcommands of '$path' differ from the tree"
done < <(paths)
echo "ok: zsh's script parses and holds every command path's options and subcommands"

# zsh's completion system itself, in a terminal (zpty): TAB lists what the script offers.
cp "$T/halo-check.zsh" "$T/_halo-check"
cat > "$T/drive.zsh" <<'DRIVE'
# drive.zsh FPATH_DIR PROGRAM_DIR LINE WORD...: types LINE and TAB into an interactive zsh with
# compinit, and waits (at most 10 s) until every WORD shows in what it lists.
zmodload zsh/zpty
setopt extendedglob
fdir=$1 bindir=$2 line=$3
shift 3
zpty z "zsh -f -i"
zpty -w z "PS1=''; fpath=($fdir \$fpath); path=($bindir \$path); autoload -Uz compinit; compinit -u -D; LISTMAX=10000"
zpty -n -w z "$line"$'\t'
out=""
for i in {1..100}; do
    while zpty -r -t z chunk; do out+=$chunk; done
    # The terminal's escape sequences out, as a blank: words stand between blanks.
    text=${out//$'\e'\[[0-9;?]#[a-zA-Z]/ }
    missing=0
    for w in "$@"; do [[ $text == *[[:space:]]${w}[[:space:]]* ]] || missing=1; done
    (( missing )) || { zpty -d z; exit 0; }
    sleep 0.1
done
zpty -d z
print -r -- "$text"
exit 1
DRIVE
zshc() { zsh -f "$T/drive.zsh" "$T" "$(dirname "$CHECK")" "$@" > "$T/zsh-out" 2>&1 || fail "zsh: '$1' does not list ${*:2}: $(tr '\r' '\n' < "$T/zsh-out" | tail -n 5)"; }
zshc "halo-check rules " validate list
zshc "halo-check check --fa" --facts --fail-on
# shellcheck disable=SC2046
zshc "halo-check check --only " $(cat "$T/probes")
zshc "halo-check explain firmware.mes-0x83-r" firmware.mes-0x83-rocm firmware.mes-0x83-reboot-pending
echo "ok: zsh's completion system lists subcommands, options, probe ids and rule ids"
