#!/bin/bash
# deploy/kubernetes/: every manifest parses, and holds what docs/fleet.md promises: the kinds and
# apiVersions, the DaemonSet's host paths read-only except its two outputs, the NodeFeatureRule's
# taint on a broken verdict, the llama-server Deployment's nodeSelector on halo-check.io/rocm-ok,
# and node-problem-detector's custom plugin (a permanent HaloStackBroken condition running
# `halo-check export --format npd`). No cluster runs here: this checks the files, not a cluster.
set -u
python3 -c 'import yaml' 2>/dev/null || { echo "python3-yaml is not installed (scripts/install-deps): skipping"; exit 77; }
python3 - "$HALO_SOURCE_DIR/deploy/kubernetes" "$HALO_SOURCE_DIR/docs/fleet.md" <<'PY'
import json, os, re, sys, yaml

folder, doc = sys.argv[1], open(sys.argv[2]).read()
failures = []
def check(ok, what):
    print(("ok: " if ok else "FAIL: ") + what)
    if not ok:
        failures.append(what)

docs = {}
for name in sorted(os.listdir(folder)):
    path = os.path.join(folder, name)
    if name.endswith(".yaml"):
        with open(path) as f:
            docs[name] = [d for d in yaml.safe_load_all(f) if d is not None]
        check(all("apiVersion" in d and "kind" in d for d in docs[name]), f"{name}: every document has apiVersion and kind")
    check(name in doc, f"{name}: named in docs/fleet.md")

def one(name, kind):
    found = [d for d in docs.get(name, []) if d.get("kind") == kind]
    check(len(found) == 1, f"{name}: one {kind}")
    return found[0] if found else {}

ds = one("halo-check-daemonset.yaml", "DaemonSet")
check(ds.get("apiVersion") == "apps/v1", "DaemonSet is apps/v1")
pod = ds.get("spec", {}).get("template", {}).get("spec", {})
volumes = {v["name"]: v for v in pod.get("volumes", [])}
outputs = {"/var/lib/node_exporter/textfile", "/etc/kubernetes/node-feature-discovery/features.d"}
for c in pod.get("containers", []):
    for m in c.get("volumeMounts", []):
        host = volumes.get(m["name"], {}).get("hostPath", {}).get("path")
        check(host is not None, f"mount {m['name']} is a hostPath")
        if host in outputs:
            check(not m.get("readOnly", False), f"output {host} is writable")
        else:
            check(m.get("readOnly") is True, f"host path {host} is mounted read-only")
    check(c.get("securityContext", {}).get("readOnlyRootFilesystem") is True, "read-only root filesystem")
    script = " ".join(c.get("args", []))
    check("--format prometheus" in script and "--format nfd" in script, "the DaemonSet exports Prometheus and NFD")
check(any(t.get("key") == "halo-check.io/broken" for t in pod.get("tolerations", [])),
      "the DaemonSet tolerates the broken taint (it must keep judging a tainted node)")

nfr = one("nodefeaturerule-halo-check.yaml", "NodeFeatureRule")
check(nfr.get("apiVersion") == "nfd.k8s-sigs.io/v1alpha1", "NodeFeatureRule is nfd.k8s-sigs.io/v1alpha1")
rules = nfr.get("spec", {}).get("rules", [])
taint = [t for r in rules for t in r.get("taints", [])]
check(any(t.get("key") == "halo-check.io/broken" and t.get("effect") == "NoSchedule" for t in taint),
      "the rule taints halo-check.io/broken:NoSchedule")
exprs = [mf.get("matchExpressions", {}) for r in rules for mf in r.get("matchFeatures", []) if mf.get("feature") == "local.label"]
check(any(e.get("halo-check.io/verdict", {}) == {"op": "In", "value": ["broken"]} for e in exprs),
      "the taint matches local.label halo-check.io/verdict In [broken]")

dep = one("llama-server-deployment.yaml", "Deployment")
check(dep.get("apiVersion") == "apps/v1", "Deployment is apps/v1")
dpod = dep.get("spec", {}).get("template", {}).get("spec", {})
check(dpod.get("nodeSelector", {}).get("halo-check.io/rocm-ok") == "true", "llama-server selects halo-check.io/rocm-ok=true")
check(not any(t.get("key") == "halo-check.io/broken" for t in dpod.get("tolerations", [])),
      "llama-server does not tolerate the broken taint")

with open(os.path.join(folder, "node-problem-detector-halo-check.json")) as f:
    npd = json.load(f)
check(npd.get("plugin") == "custom", "NPD plugin is custom")
check(npd.get("pluginConfig", {}).get("max_output_length") == 80, "NPD reads at most 80 bytes")
conds = [c["type"] for c in npd.get("conditions", [])]
check(conds == ["HaloStackBroken"], "NPD condition HaloStackBroken")
rule = npd.get("rules", [{}])[0]
check(rule.get("type") == "permanent" and rule.get("condition") == "HaloStackBroken", "a permanent HaloStackBroken rule")
check(rule.get("args", [])[:3] == ["export", "--format", "npd"], "the rule runs halo-check export --format npd")

for label in ("halo-check.io/verdict", "halo-check.io/rocm-ok", "halo-check.io/vulkan-ok", "halo-check.io/gfx",
              "halo-check.io/kernel", "HaloStackBroken", "+expiry-time"):
    check(label in doc, f"docs/fleet.md documents {label}")
check(re.search(r"no (Kubernetes )?cluster", doc, re.I) is not None, "docs/fleet.md says no cluster ran here")
print(f"{len(failures)} failed")
sys.exit(1 if failures else 0)
PY
