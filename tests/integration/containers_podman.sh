#!/usr/bin/env bash
# The containers probe against real podman vfs storage: images imported offline under kyuz0
# toolbox names (a channel tag, an immutable _YYYYmmddTHHMMSS tag, a re-imported tag that leaves
# a dangling <none> image still used by a container), toolbox-labelled containers and a plain
# one. The probe's facts must equal what `podman ps -a` / `podman images` report as JSON, and a
# truncated containers.json must become a failed status with a reason.
# Podman storage is isolated in a temp dir through CONTAINERS_STORAGE_CONF.
set -euo pipefail

command -v podman >/dev/null || { echo "podman is not installed: skipping"; exit 77; }
command -v python3 >/dev/null || { echo "python3 is not installed: skipping"; exit 77; }
PROBE="${HALO_BINARY_DIR:?}/tests/helpers/engine/halo_run_probe"
[[ -x "$PROBE" ]] || { echo "missing $PROBE"; exit 1; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat >"$T/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$T/storage"
runroot = "$T/run"
CONF
export CONTAINERS_STORAGE_CONF="$T/storage.conf"
P=(podman --log-level=error)
R=docker.io/kyuz0/amd-strix-halo-toolboxes

import() { # TAG CONTENT: a distinct one-file rootfs per image so each gets its own id
    mkdir -p "$T/rootfs-$2" && echo "$2" >"$T/rootfs-$2/marker"
    tar -C "$T/rootfs-$2" -cf "$T/$2.tar" .
    "${P[@]}" import -q "$T/$2.tar" "$R:$1" >/dev/null
}
import vulkan-radv a
import rocm-7.2 b
import rocm-6.4.4_20260120T091500 c
"${P[@]}" create -q --name llama-vulkan-radv --label com.github.containers.toolbox=true "$R:vulkan-radv" /bin/true >/dev/null
"${P[@]}" create -q --name llama-rocm-7.2 --label com.github.containers.toolbox=true "$R:rocm-7.2" /bin/true >/dev/null
"${P[@]}" create -q --name llama-rocm-6.4.4 --label com.github.containers.toolbox=true "$R:rocm-6.4.4_20260120T091500" /bin/true >/dev/null
"${P[@]}" create -q --name plain "$R:rocm-7.2" /bin/true >/dev/null
sleep 1 # a later creation second, so podman's newest-first image order is unambiguous
import vulkan-radv d # the refresh: the old vulkan-radv image is now <none>, still used by llama-vulkan-radv

"${P[@]}" ps -a --format json >"$T/ps.json"
"${P[@]}" images --format json >"$T/images.json"
"$PROBE" --root / --env "CONTAINERS_STORAGE_CONF=$T/storage.conf" --env HOME=/nonexistent --json containers >"$T/facts.json"

python3 - "$T" <<'PY'
import json, sys, datetime
t = sys.argv[1]
ps = json.load(open(f"{t}/ps.json"))
images = json.load(open(f"{t}/images.json"))
doc = json.load(open(f"{t}/facts.json"))
facts = doc["facts"]
errors = []

def check(key, want):
    got = facts.get(key)
    if got != want:
        errors.append(f"{key}: probe {got!r}, podman {want!r}")

def rfc3339(epoch):
    return datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

if doc["probes"]["containers"]["status"] != "ok":
    errors.append(f"status {doc['probes']['containers']}")
if len(ps) != 4 or len(images) != 4:
    errors.append(f"setup: {len(ps)} containers, {len(images)} images")

for c in ps:
    name = c["Names"][0]
    k = f"container.{name}."
    check(k + "id", c["Id"])
    check(k + "image", c["Image"])
    check(k + "image.id", c["ImageID"])
    check(k + "state", c["State"])
    check(k + "created", rfc3339(c["Created"]))
    check(k + "toolbox", "true" if (c.get("Labels") or {}).get("com.github.containers.toolbox") == "true" else "false")
    check(k + "storage", "user")
    img = next(i for i in images if i["Id"] == c["ImageID"])
    check(k + "image.digest", img["Digest"])
    check(k + "image.created", rfc3339(img["Created"]))
    check(k + "image.dangling", "true" if img.get("Dangling") or not img.get("Names") else "false")

# Images: the same set as podman's, newest first (images created in the same second may be
# listed in either order, so they are matched by id).
index = {}
n = 0
while f"image.{n}.id" in facts:
    index[facts[f"image.{n}.id"]] = n
    n += 1
if n != len(images):
    errors.append(f"probe reports {n} images, podman {len(images)}")
created = [facts.get(f"image.{i}.created", "") for i in range(n)]
if created != sorted(created, reverse=True):
    errors.append(f"images not newest first: {created}")
for img in images:
    if img["Id"] not in index:
        errors.append(f"image {img['Id']} missing from the probe's facts")
        continue
    k = f"image.{index[img['Id']]}."
    names = img.get("Names") or []   # podman 4.3: tags are in Names, RepoTags is null
    check(k + "reference", names[0] if names else "<none>")
    check(k + "digest", img["Digest"])
    check(k + "created", rfc3339(img["Created"]))
    check(k + "dangling", "true" if not names else "false")

# The kyuz0 tag forms.
check("container.llama-rocm-6.4.4.image.tag", "rocm-6.4.4_20260120T091500")
check("container.llama-rocm-6.4.4.image.tag_base", "rocm-6.4.4")
check("container.llama-rocm-6.4.4.image.build_time", "2026-01-20T09:15:00Z")
check("container.llama-rocm-6.4.4.image.repository", "docker.io/kyuz0/amd-strix-halo-toolboxes")
check("container.llama-vulkan-radv.image.dangling", "true")
check("container.llama-rocm-7.2.image.dangling", "false")
check("container.plain.toolbox", "false")

for e in errors:
    print("MISMATCH", e)
sys.exit(1 if errors else 0)
PY
echo "facts equal podman's JSON"

# A truncated containers.json: failed, with the file named.
f="$T/storage/vfs-containers/containers.json"
head -c 300 "$f" >"$f.cut" && mv "$f.cut" "$f"
"$PROBE" --root / --env "CONTAINERS_STORAGE_CONF=$T/storage.conf" --env HOME=/nonexistent --json containers >"$T/facts2.json"
python3 - "$T" <<'PY'
import json, sys
doc = json.load(open(f"{sys.argv[1]}/facts2.json"))
st = doc["probes"]["containers"]
assert st["status"] == "failed", st
assert "containers.json" in st["reason"] and "not valid JSON" in st["reason"], st
assert not any(k.startswith("container.") for k in doc["facts"]), "facts from a broken file"
assert any(p.startswith("container.") for p in doc["unknown"]), doc["unknown"]
print("truncated containers.json ->", st["reason"][:120])
PY
