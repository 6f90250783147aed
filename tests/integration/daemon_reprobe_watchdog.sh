#!/bin/bash
# Re-probes run off the event loop, and podman's storage files are capped: while halo-checkd
# watches a root whose images.json is replaced by 60 MiB of '[' (a DOM of it is gigabytes), then
# by 60 MiB of a valid-looking array, the watchdog pings keep coming (a 2 s watchdog, as the unit
# sets), `halo-check status` answers over the control socket during the re-check, the containers
# probe is failed with the file, its size and the cap named (and what to do), and the daemon
# neither crashes nor grows. A valid file again makes the probe ok again.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
WATCHDOG_US=2000000
R="$T/root"
cp -r "$DATA/hosts/strix-fedora43-good" "$R" || fail "copy the fixture root"
engine_files_in_root "$R" || fail "engine files in $R"
write_config normal
printf '[daemon]\nwatch_quiet = "200ms"\n' >> "$T/config.toml"
IMAGES="$R/home/user/.local/share/containers/storage/overlay-images/images.json"
cp "$IMAGES" "$T/images.good"

"$HELPERS/notify_listener" "$T/notify.sock" "$WATCHDOG_US" -- \
    "$CHECKD" --root "$R" --config "$T/config.toml" --state-dir "$STATE" --no-dropins --no-journal \
    > "$T/notify.log" 2> "$T/daemon.log" &
LPID=$!
for _ in $(seq 400); do grep -q ' READY=1$' "$T/notify.log" 2>/dev/null && break; sleep 0.05; done
DPID=$(sed -n 's/^+[0-9]* \([0-9]*\) READY=1$/\1/p' "$T/notify.log")
[ -n "$DPID" ] || { kill -KILL "$LPID" 2>/dev/null; cat "$T/notify.log"; fail "no READY=1"; }
echo "$LPID" >> "$T/engine-pids" # cleanup() kills what is listed, should the daemon leave it
wait_for ready 10 # and the engine it starts, listed too

sj() { python3 -c "import json; j=json.load(open('$STATE/state.json')); print($1)" 2>/dev/null; }
containers() { sj 'j["facts"]["probes"]["containers"]["status"] + " " + j["facts"]["probes"]["containers"].get("reason", "")'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# replace WHAT WRITER: the new images.json written beside it and renamed over it, as podman does;
# then `halo-check status` at once, during the re-check, and the re-check's outcome.
replace() {
    local what="$1" writer="$2" before i=0
    before=$(sj 'j["daemon"]["evaluations"]')
    $writer > "$T/images.new" || fail "$what: writing the file"
    mv "$T/images.new" "$IMAGES"
    sleep 0.3 # past watch_quiet: the re-check is under way
    local s; s=$(now_ms)
    out=$("$CHECK" status --state-dir "$STATE" 2>&1) || fail "$what: status failed during the re-check: $out"
    local took=$(( $(now_ms) - s ))
    grep -q '^halo-checkd: running (pid' <<<"$out" || fail "$what: status did not hear the daemon: $out"
    [ "$took" -lt 1500 ] || fail "$what: status took $took ms during the re-check (the loop was blocked)"
    while [ "$(sj "j['daemon']['evaluations'] > $before")" != True ]; do
        [ "$i" -ge 400 ] && fail "$what: no re-check within 20 s"
        kill -0 "$DPID" 2>/dev/null || fail "$what: halo-checkd died"
        sleep 0.05; i=$((i + 1))
    done
}

dollar_brackets() { head -c $((60 << 20)) /dev/zero | tr '\0' '['; }
huge_array() {
    python3 -c '
import sys
entry = "{\"id\":\"%064x\",\"names\":[\"docker.io/kyuz0/amd-strix-halo-toolboxes:rocm-%d\"],\"digest\":\"sha256:%064x\",\"created\":\"2026-01-20T09:15:00Z\"}"
out, size, i = ["["], 1, 0
while size < 60 << 20:
    e = entry % (i, i, i); out.append(e if i == 0 else "," + e); size += len(e) + 1; i += 1
out.append("]")
sys.stdout.write("".join(out))'
}
good() { cat "$T/images.good"; }

replace "60 MiB of '['" dollar_brackets
c=$(containers)
case "$c" in
failed*"overlay-images/images.json' is 60.0 MiB, more than the 8 MiB"*"podman system check"*) ;;
*) fail "60 MiB of '[': the containers probe says '$c'" ;;
esac
[ "$(sj '"image.*" in j["facts"]["unknown"] and "container.*" in j["facts"]["unknown"]')" = True ] \
    || fail "60 MiB of '[': images and containers are not unknown"
pass "60 MiB of '[' → containers probe failed naming the file and the 8 MiB cap, status answered during it"

replace "60 MiB of a valid array" huge_array
case "$(containers)" in
failed*"images.json' is 60.0 MiB, more than the 8 MiB"*) ;;
*) fail "60 MiB of a valid array: the containers probe says '$(containers)'" ;;
esac
pass "60 MiB of a valid-looking array → failed with the same reason"

replace "a good images.json again" good
[ "$(containers)" = "ok " ] || fail "a good images.json again: containers probe '$(containers)'"
[ "$(sj 'j["facts"]["facts"]["container.llama-vulkan-radv.image.tag"]')" = vulkan-radv ] \
    || fail "a good images.json again: the container's facts are back"
pass "a good images.json again → containers probe ok"

hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$DPID/status")
kill -TERM "$DPID"; wait "$LPID"; rc=$?; DPID=""
[ "$rc" = 0 ] || fail "halo-checkd exit code $rc"
gap=$(grep ' WATCHDOG=1$' "$T/notify.log" | awk '{t=substr($1,2)+0; if (NR>1 && t-p>m) m=t-p; p=t} END {print m+0}')
[ "$gap" -lt $((WATCHDOG_US / 1000)) ] || fail "watchdog gap ${gap} ms ≥ WATCHDOG_USEC"
# A DOM of either file is gigabytes; the daemon itself never holds more than its own state.
[ "$hwm" -lt $((256 * 1024)) ] || fail "the daemon's peak RSS was ${hwm} kB"
pass "watchdog pings every ${gap} ms at most (period $((WATCHDOG_US / 1000)) ms); peak RSS $((hwm / 1024)) MiB; clean exit"
