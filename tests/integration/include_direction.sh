#!/usr/bin/env bash
# The layers, bottom up: common/ -> rules/ -> probes/ -> daemon/ (shared) -> daemon/check/ and
# daemon/checkd/ (ARCHITECTURE.md). A layer includes only itself and the layers below it, and
# halo-check's code (daemon/check/) includes neither halo-checkd's nor libsystemd/libcurl.
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
cd "$HALO_SOURCE_DIR"
# forbid DIR FILTER PATTERN WHAT: no file directly in (or, with FILTER=-r, under) DIR includes PATTERN.
forbid() {
    local dir=$1 depth=$2 pattern=$3 what=$4 bad
    if [ "$depth" = top ]; then
        bad=$(grep -nE "$pattern" "$dir"/*.hpp "$dir"/*.cpp 2>/dev/null || true)
    else
        bad=$(grep -rnE "$pattern" "$dir" || true)
    fi
    [ -z "$bad" ] || { out=$bad; fail "$what"; }
    checks=$((checks + 1))
}
forbid common all '#include "(rules|probes|daemon)/' "common/ includes a layer above it"
forbid rules all '#include "(probes|daemon|feed)/' "rules/ includes probes/, daemon/ or feed/"
forbid feed all '#include "(rules|probes|daemon)/' "feed/ (the signature check: bytes in, verdict out) includes a layer above common/"
forbid daemon top '#include "feed/' "daemon/ (shared, so linked into halo-checkd) includes feed/ (libsodium: halo-check's update only)"
forbid probes all '#include "daemon/' "probes/ includes daemon/"
forbid daemon top '#include "daemon/(check|checkd)/' "daemon/ (shared by both programs) includes one program's code"
# One exception: daemon/http_fetch.cpp takes curl's types and constants from its header and opens
# the library with dlopen (link_walls.sh and cli_footprint.sh hold the link line and start-up).
bad=$(grep -nE '#include <(systemd|curl)/' daemon/*.hpp daemon/*.cpp | grep -v '^daemon/http_fetch.cpp:[0-9]*:#include <curl/curl.h>$' || true)
[ -z "$bad" ] || { out=$bad; fail "daemon/ (shared, so linked into halo-check) includes libsystemd or libcurl"; }
checks=$((checks + 1))
grep -q '::dlopen(k_soname' daemon/http_fetch.cpp || fail "daemon/http_fetch.cpp includes curl.h but does not dlopen libcurl"
checks=$((checks + 1))
forbid daemon/check all '#include "daemon/checkd/' "daemon/check/ (halo-check) includes halo-checkd's code"
forbid daemon/check all '#include <(systemd|curl)/' "daemon/check/ (halo-check) includes libsystemd or libcurl"
forbid daemon/checkd all '#include "daemon/check/' "daemon/checkd/ (halo-checkd) includes halo-check's code"
# And the check itself can see includes: each layer does include the one below it.
for pair in "rules common/" "probes rules/" "daemon/check daemon/" "daemon/checkd daemon/"; do
    set -- $pair
    grep -rqE "#include \"$2" "$1" || fail "found no $2 include in $1: the pattern is wrong"
    checks=$((checks + 1))
done
done_ok
