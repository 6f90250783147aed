#!/bin/bash
# The drm probe's libdrm path on the live system with an empty /dev/dri, in a private mount
# namespace (drmGetDevices2 returns 0 there, and -ENOENT without /dev/dri): both must be
# "not_applicable: no DRM devices", never a failure. Needs root and unshare(CLONE_NEWNS).
set -u
dump="$HALO_BINARY_DIR/tests/helpers/gpu/halo_probe_dump"
[ -x "$dump" ] || { echo "skip: $dump not built"; exit 77; }
if ! unshare -m true 2>/dev/null; then
    echo "skip: unshare -m is not permitted here (needs root or user namespaces)"
    exit 77
fi
fail=0
check() { # name, output
    if grep -q "^status = 'not_applicable'" <<<"$2" && grep -q "^reason = 'no DRM devices'" <<<"$2"; then
        echo "ok: $1"
    else
        echo "FAIL: $1"; echo "$2"; fail=1
    fi
}
out=$(unshare -m sh -c 'mount -t tmpfs none /dev && mkdir /dev/dri && "$0" drm' "$dump") || { echo "FAIL: run"; exit 1; }
check "empty /dev/dri" "$out"
out=$(unshare -m sh -c 'mount -t tmpfs none /dev && "$0" drm' "$dump") || { echo "FAIL: run"; exit 1; }
check "no /dev/dri" "$out"
exit $fail
