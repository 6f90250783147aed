#!/bin/bash
# The fleet export with the real parts: halo-checkd judges the broken fixture host and writes its
# Prometheus textfile ([export] textfile); Debian's node_exporter reads it with its textfile
# collector; a Prometheus server started here scrapes node_exporter on loopback, and a PromQL
# query over its HTTP API finds the verdict 2 and the rule. promtool finds nothing to report in
# the file, and a reader that reads it 1,000 times while it is replaced sees only whole files.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
exporter=$(command -v prometheus-node-exporter || command -v node_exporter) \
    || { echo "node_exporter is not installed (scripts/install-deps): skipping"; exit 77; }
command -v prometheus >/dev/null && command -v promtool >/dev/null \
    || { echo "prometheus is not installed (scripts/install-deps): skipping"; exit 77; }
command -v curl >/dev/null || { echo "curl is not installed: skipping"; exit 77; }
export XDG_STATE_HOME="$T/xdg-state"
PIDS=()
stop_servers() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    cleanup
}
trap stop_servers EXIT

# The broken fixture host, probed for real (MES 0x83 with a ROCm engine), as the daemon's facts.
bash "$HALO_SOURCE_DIR/tests/support/make_fixture_root.sh" strix-fedora43-fw20251125-rocm "$T/host" >/dev/null \
    || fail "fixture root"
"$CHECK" facts --root "$T/host" --config "$T/host/etc/halo-check/config.toml" >"$T/facts.toml" || fail "probe the fixture"
grep -Eq "^['\"]gpu.0.sensor.busy_percent['\"] = ['\"]3['\"]" "$T/facts.toml" || fail "the fixture's amdgpu gauges were not probed"

mkdir -p "$T/textfile" "$T/features.d"
write_config normal
cat >>"$T/config.toml" <<EOC
[export]
textfile = "$T/textfile/halo_check.prom"
nfd = "$T/features.d/halo-check"
interval = "2m"
EOC
start_daemon "$T/facts.toml"
wait_for refused
for _ in $(seq 100); do [ -s "$T/textfile/halo_check.prom" ] && [ -s "$T/features.d/halo-check" ] && break; sleep 0.05; done
[ -s "$T/textfile/halo_check.prom" ] || fail "halo-checkd wrote no textfile"
grep -qx 'halo_check_verdict{view="now"} 2' "$T/textfile/halo_check.prom" || fail "textfile verdict"
grep -qx 'halo_check_engine_state{state="refused"} 1' "$T/textfile/halo_check.prom" || fail "textfile engine state"
ls -A "$T/textfile" | grep -qvx 'halo_check.prom' && fail "temporary files left in the textfile directory: $(ls -A "$T/textfile")"
pass "halo-checkd writes the textfile after its check"

# NFD: expiry twice the interval (2m) after the write, then the labels.
python3 - "$T/features.d/halo-check" <<'PY' || fail "NFD file"
import datetime, sys, time
lines = open(sys.argv[1]).read().splitlines()
assert lines[0].startswith("# +expiry-time="), lines[0]
expiry = datetime.datetime.strptime(lines[0].split("=", 1)[1], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
left = expiry.timestamp() - time.time()
assert 200 <= left <= 241, f"expires in {left}s, expected about 240"
assert "halo-check.io/verdict=broken" in lines and "halo-check.io/rocm-ok=false" in lines, lines
PY
pass "halo-checkd writes the NFD file with its expiry"

lint=$(promtool check metrics <"$T/textfile/halo_check.prom" 2>&1) || fail "promtool check metrics failed: $lint"
[ -z "$lint" ] || fail "promtool check metrics reports: $lint"
pass "promtool check metrics reports nothing"

free_port() { "$FAKE" --free-port; }
NE_PORT=$(free_port)
"$exporter" --collector.disable-defaults --collector.textfile --collector.textfile.directory "$T/textfile" \
    --web.listen-address "127.0.0.1:$NE_PORT" >"$T/node_exporter.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do curl -fs "http://127.0.0.1:$NE_PORT/metrics" >"$T/ne.txt" 2>/dev/null && break; sleep 0.05; done
grep -q '^halo_check_verdict{view="now"} 2$' "$T/ne.txt" || { cat "$T/node_exporter.log"; fail "node_exporter does not serve the textfile"; }
grep -q '^node_textfile_scrape_error 0$' "$T/ne.txt" || fail "node_exporter reports a textfile error: $(grep textfile "$T/ne.txt")"
pass "node_exporter's textfile collector reads it"

PROM_PORT=$(free_port)
cat >"$T/prometheus.yml" <<EOC
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["127.0.0.1:$NE_PORT"]
EOC
prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
    --web.listen-address="127.0.0.1:$PROM_PORT" >"$T/prometheus.log" 2>&1 &
PIDS+=($!)
query() { curl -fsG "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$1"; }
up=""
for _ in $(seq 300); do
    up=$(query 'up{job="node"}' 2>/dev/null | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")' 2>/dev/null)
    [ "$up" = 1 ] && break
    sleep 0.1
done
[ "$up" = 1 ] || { tail -20 "$T/prometheus.log"; fail "Prometheus never scraped node_exporter"; }
got=""
for _ in $(seq 100); do
    got=$(query 'halo_check_verdict{view="now"} == 2' 2>/dev/null)
    grep -q '"result":\[{' <<<"$got" && break
    sleep 0.1
done
python3 - "$got" <<'PY' || fail "PromQL verdict: $got"
import json, sys
r = json.loads(sys.argv[1])["data"]["result"]
assert len(r) == 1 and r[0]["value"][1] == "2", r
assert r[0]["metric"]["view"] == "now", r
PY
got=$(query 'halo_check_finding{view="now",severity="broken"}')
python3 - "$got" <<'PY' || fail "PromQL finding: $got"
import json, sys
rules = {s["metric"]["rule"] for s in json.loads(sys.argv[1])["data"]["result"]}
assert "firmware.linux-firmware-20251125-rocm" in rules, rules
PY
got=$(query 'halo_check_gpu_gtt_used_bytes / halo_check_gpu_gtt_total_bytes')
python3 - "$got" <<'PY' || fail "PromQL GTT ratio: $got"
import json, sys
r = json.loads(sys.argv[1])["data"]["result"]
assert abs(float(r[0]["value"][1]) - 70506459136 / 133143986176) < 1e-9, r
PY
pass "PromQL over Prometheus' HTTP API: verdict 2 and the finding's rule for the broken host"

# [export] interval: the daemon re-checks on its own, so the NFD expiry moves on (a dead daemon's
# labels would lapse). 2m → 1s on reload.
first=$(head -n1 "$T/features.d/halo-check")
sed -i 's/^interval = "2m"$/interval = "1s"/' "$T/config.toml"
kill -HUP "$DPID"
for _ in $(seq 200); do
    [ "$(grep -c 'evaluated (export interval)' "$T/daemon.log")" -ge 2 ] && break
    sleep 0.05
done
[ "$(grep -c 'evaluated (export interval)' "$T/daemon.log")" -ge 2 ] || fail "no re-check every [export] interval"
[ "$(head -n1 "$T/features.d/halo-check")" != "$first" ] || fail "the NFD expiry did not move on: $first"
pass "halo-checkd re-checks every [export] interval and renews the NFD expiry"

# 1,000 whole reads while the file is replaced: a writer alternates two different exports into
# the daemon's file (the same atomic writer), a reader checks every read is one of the two.
file="$T/textfile/halo_check.prom"
stop_daemon || true
"$CHECK" export --no-dropins --facts "$T/facts.toml" >"$T/a.prom" || fail "export a"
"$CHECK" export --no-dropins --facts "$DATA/facts/ok-vulkan-radv.toml" >"$T/b.prom" || fail "export b"
cmp -s "$T/a.prom" "$T/b.prom" && fail "the two exports are the same"
(
    n=0
    while [ ! -e "$T/reader-done" ]; do
        "$CHECK" export --no-dropins --facts "$T/facts.toml" --output "$file" || exit 1
        n=$((n + 1)); echo "$n" >"$T/writes.new" && mv "$T/writes.new" "$T/writes"
        "$CHECK" export --no-dropins --facts "$DATA/facts/ok-vulkan-radv.toml" --output "$file" || exit 1
        n=$((n + 1)); echo "$n" >"$T/writes.new" && mv "$T/writes.new" "$T/writes"
    done
) &
WRITER=$!
# Until the writer's first export lands, the file is the daemon's last one, which is neither of
# the two: read only after that.
for _ in $(seq 400); do [ -s "$T/writes" ] && break; sleep 0.05; done
[ -s "$T/writes" ] || { touch "$T/reader-done"; fail "the writer never replaced the file"; }
python3 - "$file" "$T/a.prom" "$T/b.prom" "$T/writes" <<'PY' >"$T/reader.txt" 2>&1
import sys, time
path, a, b, writes = sys.argv[1:]
whole = {open(a).read(), open(b).read()}
def written():
    try:
        return int(open(writes).read() or 0)
    except (OSError, ValueError):
        return 0
start = written()
seen, bad = set(), 0
for i in range(1000):
    text = open(path).read()
    if text not in whole:
        bad += 1
        print(f"read {i}: partial or foreign content, {len(text)} bytes")
    seen.add(text)
    # Never ahead of the writer: each read waits for a write it has not seen yet, every tenth.
    if i % 10 == 9:
        now = written()
        while written() == now:
            time.sleep(0.001)
print(f"reads=1000 bad={bad} versions={len(seen)} writes={written() - start}")
sys.exit(1 if bad else 0)
PY
reader=$?
touch "$T/reader-done"
wait "$WRITER"; writer=$?
cat "$T/reader.txt" | tail -3
[ "$writer" -eq 0 ] || fail "the writer failed"
[ "$reader" -eq 0 ] || fail "a read saw a partial file: $(head -5 "$T/reader.txt")"
grep -q 'versions=2' "$T/reader.txt" || fail "the reader never saw the file replaced: $(cat "$T/reader.txt")"
ls -A "$T/textfile" | grep -qvx 'halo_check.prom' && fail "temporary files left: $(ls -A "$T/textfile")"
pass "1,000 reads while the file is replaced: every one whole"
