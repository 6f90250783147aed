#!/usr/bin/env bash
# halo-check starts in about 2 ms because it loads only what every run needs: librpm (and its
# Lua/SQLite/libgcrypt) is opened when an RPM database is queried, the Vulkan loader only inside
# the isolated vulkan probe's child, and the daemon's HTTP stack (libcurl, OpenSSL, GnuTLS …) not
# at all. A new direct reference would quietly add milliseconds to every check: this catches it.
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
command -v ldd >/dev/null || { echo "not run: ldd is missing"; exit 77; }
libs=$(ldd "$HALO_CHECK")
for lib in librpm libvulkan libcurl libssl libcrypto libsystemd; do
    if grep -q "$lib" <<<"$libs"; then out=$libs; fail "halo-check links $lib at start-up"; fi
    checks=$((checks + 1))
done
# And the lazily loaded parts still work from this binary: the vulkan probe reaches the loader.
run "$HALO_CHECK" facts --only vulkan
expect_rc 0
expect_out "'vulkan.loader_version' = '"
# `halo-check bench` opens libcurl when it needs it (daemon/http_fetch.cpp): asked for an engine
# that is not there, it has loaded the library and says it could not connect; `facts` never does.
libs_loaded() { LD_DEBUG=libs "$@" 2>&1 >/dev/null | grep -c 'calling init: .*libcurl' || true; }
[ "$(libs_loaded "$HALO_CHECK" facts --only os)" = 0 ] || fail "halo-check facts loaded libcurl"
checks=$((checks + 1))
[ "$(libs_loaded "$HALO_CHECK" bench --url http://127.0.0.1:1 --runs 1)" -ge 1 ] || fail "halo-check bench did not load libcurl"
checks=$((checks + 1))
run "$HALO_CHECK" bench --url http://127.0.0.1:1 --runs 1
expect_rc 3
expect_err "is the engine running?"
done_ok
