#!/usr/bin/env python3
"""Writes the engine/containers parts of the fixture hosts under tests/data/hosts/:
etc/halo-check/config.toml, rootless podman storage metadata (overlay driver, the exact shape
podman 4.3 writes: images.json, containers.json, the image config big-data file), and tiny
header-only GGUF model files. The libpod database (bolt_state.db) is not copied (128 KiB of
binary per host), so container.*.toolbox/state are unknown on fixtures; the integration test
tests/integration/containers_podman.sh covers them on real storage.
Usage: gen_fixtures.py TESTS_DATA_DIR"""
import base64, hashlib, json, os, struct, sys

REPO = "docker.io/kyuz0/amd-strix-halo-toolboxes"
STORE = "home/user/.local/share/containers/storage"

def h(*parts):
    return hashlib.sha256("/".join(parts).encode()).hexdigest()

def gguf(path, name, ctx, file_type=7, kv_extra=()):
    def s(x):
        b = x.encode(); return struct.pack("<Q", len(b)) + b
    kvs = [s("general.architecture") + struct.pack("<I", 8) + s("deepseek2"),
           s("general.name") + struct.pack("<I", 8) + s(name),
           s("general.file_type") + struct.pack("<I", 4) + struct.pack("<I", file_type),
           s("deepseek2.context_length") + struct.pack("<I", 4) + struct.pack("<I", ctx)]
    kvs += list(kv_extra)
    data = b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs)) + b"".join(kvs)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "wb").write(data)

def split_kv(no, count):
    def s(x):
        b = x.encode(); return struct.pack("<Q", len(b)) + b
    return (s("split.no") + struct.pack("<I", 2) + struct.pack("<H", no),
            s("split.count") + struct.pack("<I", 2) + struct.pack("<H", count))

def storage(root, host, images, containers):
    """images: [(tag or None, created, pulled)], containers: [(name, tag, created)]"""
    base = os.path.join(root, STORE)
    img_json, ids = [], {}
    for tag, created, pulled in images:
        iid = h(host, "image", str(tag), created)
        digest = "sha256:" + h(host, "manifest", str(tag), created)
        ids[tag] = iid
        layer = h(host, "layer", str(tag))
        d = digest.split(":")[1]
        names = [f"{REPO}:{tag}"] if tag and not tag.startswith("old:") else []
        img_json.append({
            "id": iid, "digest": digest, "names": names,
            "names-history": [f"{REPO}:{tag.removeprefix('old:')}"] if tag else [],
            "layer": layer,
            "metadata": json.dumps({"signatures-sizes": {digest: []}}, separators=(",", ":")),
            "big-data-names": [f"sha256:{iid}", f"manifest-sha256:{d}", "manifest"],
            "big-data-sizes": {"manifest": 529, f"manifest-sha256:{d}": 529, f"sha256:{iid}": 1841},
            "big-data-digests": {"manifest": digest, f"manifest-sha256:{d}": digest, f"sha256:{iid}": f"sha256:{iid}"},
            "created": pulled,
        })
        cfg_dir = os.path.join(base, "overlay-images", iid)
        os.makedirs(cfg_dir, exist_ok=True)
        key = base64.b64encode(f"sha256:{iid}".encode()).decode()
        cfg = {"created": created, "architecture": "amd64", "os": "linux",
               "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin"], "Cmd": ["/bin/bash"],
                          "Labels": {"license": "MIT", "name": "fedora", "vendor": "Fedora Project", "version": "43"}},
               "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer}"]}}
        open(os.path.join(cfg_dir, "=" + key), "w").write(json.dumps(cfg, separators=(",", ":")))
    os.makedirs(os.path.join(base, "overlay-images"), exist_ok=True)
    open(os.path.join(base, "overlay-images", "images.json"), "w").write(json.dumps(img_json, separators=(",", ":")))
    ctr_json = []
    for name, tag, created in containers:
        cid = h(host, "container", name)
        ctr_json.append({
            "id": cid, "names": [name], "image": ids[tag], "layer": h(host, "ctr-layer", name),
            "metadata": json.dumps({"image-name": f"{REPO}:{tag.removeprefix('old:')}", "image-id": ids[tag],
                                    "name": name, "created-at": 0}, separators=(",", ":")),
            "created": created, "flags": {"MountLabel": "", "ProcessLabel": ""},
        })
    os.makedirs(os.path.join(base, "overlay-containers"), exist_ok=True)
    open(os.path.join(base, "overlay-containers", "containers.json"), "w").write(json.dumps(ctr_json, separators=(",", ":")))

def config(root, name, argv, backend=None):
    os.makedirs(os.path.join(root, "etc/halo-check"), exist_ok=True)
    lines = ["# halo-check configuration (engine section written by the engine probe's fixtures)", "[engine]",
             f'name = "{name}"', "command = ["]
    lines += [f'  "{a}",' for a in argv] + ["]"]
    if backend: lines.append(f'backend = "{backend}"')
    open(os.path.join(root, "etc/halo-check/config.toml"), "w").write("\n".join(lines) + "\n")

def server(model, extra=()):
    return ["llama-server", "-m", model, "--alias", "glm-4.7-flash", "--jinja", "--ctx-size", "65536",
            "--host", "0.0.0.0", "--port", "8080", "-ngl", "999", "--no-mmap",
            "--no-prefill-assistant", "--reasoning-budget", "0", *extra]

def main(data):
    hosts = os.path.join(data, "hosts")
    model = "/mnt/ai-models/GLM-4.7-Flash-Q8/GLM-4.7-Flash-UD-Q8_K_XL.gguf"

    r = os.path.join(hosts, "strix-fedora43-good")
    storage(r, "good",
            [("vulkan-radv", "2026-04-26T03:12:44.918273645Z", "2026-04-27T08:01:12.52281Z"),
             ("old:vulkan-radv", "2026-02-05T02:55:10.11Z", "2026-02-06T19:30:00.1Z"),
             ("rocm-7.2", "2026-04-26T03:40:01.5Z", "2026-04-27T08:03:40.2Z")],
            [("llama-vulkan-radv", "vulkan-radv", "2026-04-27T08:02:05.77Z"),
             ("llama-rocm-7.2", "rocm-7.2", "2026-04-27T08:04:10.12Z")])
    config(r, "glm-4.7-flash", ["toolbox", "run", "-c", "llama-vulkan-radv"] + server(model))
    gguf(os.path.join(r, model.lstrip("/")), "GLM-4.7-Flash", 202752)

    r = os.path.join(hosts, "strix-fedora43-fw20251125-rocm")
    storage(r, "fw",
            [("rocm-7.2", "2026-01-25T09:15:00Z", "2026-01-25T18:20:31.4Z"),
             ("vulkan-radv", "2026-01-20T04:10:55Z", "2026-01-21T10:00:00Z")],
            [("llama-rocm-7.2", "rocm-7.2", "2026-01-25T18:21:02.9Z"),
             ("llama-vulkan-radv", "vulkan-radv", "2026-01-21T10:01:00Z")])
    config(r, "glm-4.7-flash", ["toolbox", "run", "-c", "llama-rocm-7.2"] + server(model, ["-fa", "1"]))
    gguf(os.path.join(r, model.lstrip("/")), "GLM-4.7-Flash", 202752)

    r = os.path.join(hosts, "strix-fedora43-nextboot-broken")
    storage(r, "nextboot",
            [("rocm-7.1.1", "2025-12-20T11:42:07Z", "2025-12-21T09:00:00Z"),
             ("rocm-7.1.1_20251220T114207", "2025-12-20T11:42:07Z", "2025-12-21T09:00:01Z")],
            [("llama-rocm-7.1.1", "rocm-7.1.1", "2025-12-21T09:05:00Z")])
    split = "/mnt/ai-models/GLM-4.7-Flash-BF16/GLM-4.7-Flash-BF16-00001-of-00002.gguf"
    config(r, "glm-4.7-flash-bf16", ["toolbox", "run", "--container", "llama-rocm-7.1.1"]
           + server(split, ["--flash-attn", "on"]))
    for n in (1, 2):
        gguf(os.path.join(r, split.lstrip("/").replace("00001-of", f"0000{n}-of")), "GLM-4.7-Flash", 202752, 32,
             split_kv(n - 1, 2))

    r = os.path.join(hosts, "debian12-nogpu")
    storage(r, "debian", [("vulkan-radv", "2026-01-20T04:10:55Z", "2026-01-22T12:00:00Z")],
            [("llama-vulkan-radv", "vulkan-radv", "2026-01-22T12:01:00Z")])
    # The model lives on a disk that is not mounted: the engine probe reports it unreadable.
    config(r, "glm-4.7-flash", ["distrobox", "enter", "llama-vulkan-radv", "--"] + server(model))

if __name__ == "__main__":
    main(sys.argv[1])
