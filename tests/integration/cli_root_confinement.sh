#!/usr/bin/env bash
# --root confines every read to the root, links included. As root (who can read anything), a
# fixture whose vbios_version and /proc/cmdline are links to a secret file outside the root, and
# whose /etc/os-release is an absolute link to a shadow-like file: the secret is in no facts, and
# the facts that the links stood for are absent rather than wrong. An absolute link that points
# inside the root (copied trees have /etc/os-release -> /usr/lib/os-release) resolves in the root.
# And a vbios_version larger than any sysfs value is not read.
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root, to show that root's reads stay in the fixture"; exit 0; }
export NO_COLOR=1 XDG_CONFIG_HOME=$(mktemp -d)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$XDG_CONFIG_HOME"' EXIT
root="$tmp/root"
cp -a "$DATA/hosts/strix-fedora43-good" "$root" || fail "copy the fixture"
mkdir -p "$tmp/secret"
printf 'root:$6$SECRET-MARKER-7f3a:19000:0:99999:7:::\n' > "$tmp/secret/shadow"
chmod 600 "$tmp/secret/shadow"
card="$root/sys/class/drm/card1/device"
ln -sf "$tmp/secret/shadow" "$card/vbios_version"
ln -sf "../../secret/shadow" "$root/proc/cmdline"
ln -sf "$tmp/secret/shadow" "$root/etc/os-release"
rm -f "$root/usr/lib/os-release"

for form in "facts --root $root" "--root $root facts" "facts --root $root --json"; do
    # shellcheck disable=SC2086
    run "$HALO_CHECK" $form
    [ -n "$out" ] || fail "$form: no facts"
    expect_no_out "SECRET-MARKER"
    ! grep -qF "SECRET-MARKER" <<<"$err" || fail "$form: the secret is in stderr"
done
run "$HALO_CHECK" facts --root "$root"
# The links resolved inside the root, where their targets are absent: unknown, saying so.
expect_out "Failed to read '$root/proc/cmdline': No such file or directory"
expect_out "Failed to read '$root/etc/os-release': No such file or directory"
echo "ok: links out of the root (absolute, relative, /etc/os-release) → the secret in no facts"

# The same link inside the root: resolved there, not on this machine.
ln -sf /usr/lib/os-release "$root/etc/os-release"
cp "$DATA/hosts/strix-fedora43-good/usr/lib/os-release" "$root/usr/lib/os-release"
ln -sf /sys/class/drm/card1/device/vbios_real "$card/vbios_version"
echo "STRXLGEN-INSIDE" > "$card/vbios_real"
run "$HALO_CHECK" facts --root "$root"
expect_out "STRXLGEN-INSIDE"
want_id=$(sed -n 's/^ID=//p' "$root/usr/lib/os-release" | tr -d '"')
expect_out "'host.os.id' = '$want_id'"
echo "ok: absolute links inside the root resolve in the root"

# A sysfs value is at most a page; 1 MiB is not one and is not read into the facts.
rm -f "$card/vbios_version"
head -c 1048576 /dev/zero | tr '\0' 'V' > "$card/vbios_version"
run "$HALO_CHECK" facts --root "$root" --json
expect_no_out "VVVVVVVVVVVVVVVV"
echo "ok: a 1 MiB vbios_version is not read"
done_ok
