#!/usr/bin/env bash
# Source rules a compiler cannot hold us to:
#  - TOML enters through one function: only common/toml.cpp calls toml::parse (or parse_file), and
#    only it uses the guard's functions (common/toml_guard.hpp), so no reader can skip the guard
#    against toml++ 3.3.0's undefined behaviour or format its errors its own way;
#  - no catch block anywhere is empty: a failure is reported, recorded or turned into a status,
#    never swallowed (a body of blanks and comments, spread over lines, counts as empty);
#  - daemon/ holds no machine knowledge: no kernel release, firmware version or date, firmware
#    package or boot tool is named there; what to do about one is a rule's fix, dated and sourced;
#  - no unit test's name holds a ';': catch_discover_tests splits names into a CMake list there,
#    and ctest would run two names that match nothing, so the test would silently never run.
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
cd "$HALO_SOURCE_DIR"
sources() { find "$@" -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) | sort; }

# forbid_outside WHAT PATTERN ALLOWED…: no source file but ALLOWED matches PATTERN (grep -E).
forbid_outside() {
    local what=$1 pattern=$2 bad
    shift 2
    bad=$(sources common rules probes daemon tests fuzz bench | grep -vxF "$(printf '%s\n' "$@")" |
        xargs grep -nE "$pattern" /dev/null || true)
    [ -z "$bad" ] || { out=$bad; fail "$what"; }
    checks=$((checks + 1))
}
forbid_outside "toml::parse called outside common/toml.cpp: use halo::parse_toml (common/toml.hpp)" \
    'toml::parse(_file)?[[:space:]]*\(' common/toml.cpp
forbid_outside "the TOML guard used outside common/toml.cpp: use halo::parse_toml (common/toml.hpp)" \
    '#include "common/toml_guard\.hpp"|(prepare_toml_input|restore_toml_strings|restore_toml_text)[[:space:]]*\(' \
    common/toml.cpp common/toml_guard.cpp common/toml_guard.hpp tests/unit/common/test_toml_guard.cpp

# empty_catches FILE…: "file:line: catch (…)" for each catch whose body holds only blanks and
# comments (a comment explains a swallowed failure, it does not handle it).
empty_catches() {
    perl -0777 -ne 'while (/catch\s*\([^)]*\)\s*\{(?:\s|\/\/[^\n]*\n|\/\*.*?\*\/)*\}/gs) {
        my $line = 1 + (substr($_, 0, $-[0]) =~ tr/\n//);
        (my $text = $&) =~ s/\s+/ /g;
        print "$ARGV:$line: $text\n";
    }' "$@"
}
bad=$(empty_catches $(sources common rules probes daemon tests bench fuzz))
[ -z "$bad" ] || { out=$bad; fail "empty catch blocks: report, record or convert the failure (a status, an errno, a flag), never swallow it"; }
checks=$((checks + 1))

k_knowledge='[0-9]+\.[0-9]+\.[0-9]+-[0-9]+\.fc[0-9]+|0x000000[0-9a-f]{2}|\b20[0-9]{2}(0[1-9]|1[0-2])[0-3][0-9]\b|grubby|dracut|linux-firmware|amd-gpu-firmware|firmware-amd-graphics'
bad=$(sources daemon | xargs grep -nE "$k_knowledge" /dev/null || true)
[ -z "$bad" ] || { out=$bad; fail "machine knowledge in daemon/: a kernel, firmware or fix belongs in the rules (rules/kb/), which the daemon only relays"; }
checks=$((checks + 1))
printf '%s\n' 'keep 6.18.3-200.fc43 as the default (sudo grubby --set-default …)' 'MES 0x00000083' 'amd-gpu-firmware 20251125' |
    grep -cE "$k_knowledge" | grep -qx 3 || fail "the machine-knowledge pattern misses its own samples"
checks=$((checks + 1))

bad=$(grep -rnE 'TEST_CASE\(\s*"[^"]*;' tests/unit || true)
[ -z "$bad" ] || { out=$bad; fail "unit test names with ';' (ctest never runs them): use ',' instead"; }
checks=$((checks + 1))

# And the checks can see what they look for.
grep -qE 'toml::parse(_file)?[[:space:]]*\(' common/toml.cpp || fail "found no toml::parse in common/toml.cpp: the pattern is wrong"
checks=$((checks + 1))
sample=$(mktemp)
trap 'rm -f "$sample"' EXIT
printf 'void f() {\n    try { g(); } catch (...) {}\n    try { g(); } catch (const std::exception& e) {\n\n    }\n    try { g(); } catch (...) { h(); }\n    try { g(); } catch (...) { // ignored\n    }\n}\n' >"$sample"
[ "$(empty_catches "$sample" | cut -d: -f2 | tr '\n' ' ')" = "2 3 7 " ] ||
    fail "the empty-catch pattern does not find the two empty blocks in its own sample: $(empty_catches "$sample")"
checks=$((checks + 1))
done_ok
