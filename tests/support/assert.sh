# Shared helpers for tests/integration/*.sh (sourced). Each check prints what it checked; the
# first failure prints the command's output and exits 1.
set -uo pipefail
: "${HALO_CHECK:?set by ctest}" "${HALO_SOURCE_DIR:?set by ctest}"
DATA="$HALO_SOURCE_DIR/tests/data"
checks=0
fail() {
    echo "FAIL: $*" >&2
    [ -n "${out:-}" ] && { echo "--- stdout"; echo "$out"; } >&2
    [ -n "${err:-}" ] && { echo "--- stderr"; echo "$err"; } >&2
    exit 1
}
# run CMD…: captures stdout in $out, stderr in $err, exit code in $rc.
run() {
    local tmp
    tmp=$(mktemp)
    out=$("$@" 2>"$tmp")
    rc=$?
    err=$(cat "$tmp")
    rm -f "$tmp"
}
expect_rc() { [ "$rc" -eq "$1" ] || fail "expected exit $1, got $rc: ${2:-}"; checks=$((checks + 1)); }
expect_out() { grep -qF -- "$1" <<<"$out" || fail "stdout lacks '$1'"; checks=$((checks + 1)); }
expect_err() { grep -qF -- "$1" <<<"$err" || fail "stderr lacks '$1'"; checks=$((checks + 1)); }
expect_no_out() { ! grep -qF -- "$1" <<<"$out" || fail "stdout has '$1'"; checks=$((checks + 1)); }
# json_get EXPR: evaluates a Python expression over the JSON in $out bound to `j`.
json_get() { python3 -c "import json,sys; j=json.load(sys.stdin); print($1)" <<<"$out"; }
expect_json() {
    local got
    got=$(json_get "$1") || fail "stdout is not JSON (for $1)"
    [ "$got" = "$2" ] || fail "$1 = '$got', expected '$2'"
    checks=$((checks + 1))
}
done_ok() { echo "$checks passed, 0 failed"; }
