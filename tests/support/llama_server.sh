# Sourced by integration tests that drive a real llama-server (docs/llama-server-for-tests.md).
# llama_server_binary: prints the engine binary to test, or fails saying how to get one.
# require_llama_server VAR: sets VAR to that binary; without one the calling test ends: skipped
# (exit 77) on a developer machine, failed under CI, which must test the real engine.
# make_test_model DIR [make_gguf.py options]: prints the path of a generated model, made once per
# option set and generator version and kept in DIR (tests pass "$HALO_BINARY_DIR/test-models").
: "${HALO_SOURCE_DIR:?set by ctest}"

llama_server_binary() {
    if [ -n "${HALO_TEST_LLAMA_SERVER:-}" ]; then
        if [ ! -x "$HALO_TEST_LLAMA_SERVER" ]; then
            echo "llama_server: HALO_TEST_LLAMA_SERVER=$HALO_TEST_LLAMA_SERVER is not an executable file" >&2
            return 1
        fi
        echo "$HALO_TEST_LLAMA_SERVER"
        return 0
    fi
    # Only the version scripts/get-llama-server pins now: an older cached build is not what the
    # suite claims to test against.
    local version cache bin
    version=$(sed -n 's/^nlc_version=//p' "$HALO_SOURCE_DIR/scripts/get-llama-server")
    cache="${XDG_CACHE_HOME:-${HOME:-/nonexistent}/.cache}"
    [ "${cache#/}" != "$cache" ] || cache="${HOME:-/nonexistent}/.cache"
    for bin in "$cache"/halo-check/llama-server-"$version"-*/llama-server; do
        if [ -x "$bin" ]; then
            echo "$bin"
            return 0
        fi
    done
    echo "llama_server: no llama-server $version found; run scripts/get-llama-server (builds one into $cache/halo-check, once) or set HALO_TEST_LLAMA_SERVER" >&2
    return 1
}

require_llama_server() {
    local found
    if ! found=$(llama_server_binary); then
        if [ "${CI:-}" = true ] || [ "${CI:-}" = 1 ]; then
            echo "FAIL: no llama-server under CI (CI=$CI); run scripts/get-llama-server first, as scripts/test-all does"
            exit 1
        fi
        echo "not run: no llama-server; run scripts/get-llama-server or set HALO_TEST_LLAMA_SERVER"
        exit 77
    fi
    printf -v "$1" '%s' "$found"
}

make_test_model() {
    local dir=$1 gen="$HALO_SOURCE_DIR/tests/helpers/engine/make_gguf.py" key path
    shift
    # Keyed by the generator's own bytes too, so a changed generator never serves a stale model.
    key=$( { cat "$gen"; printf '\0%s' "$@"; } | sha256sum | cut -c1-16)
    path="$dir/model-$key.gguf"
    if [ ! -s "$path" ]; then
        mkdir -p "$dir" || return 1
        # make_gguf.py renames a finished file into place: tests running in parallel may both
        # write it, but none reads half a model.
        python3 "$gen" "$@" "$path" >&2 || { echo "make_test_model: make_gguf.py $* failed" >&2; return 1; }
    fi
    echo "$path"
}
