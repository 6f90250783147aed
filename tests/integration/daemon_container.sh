#!/bin/bash
# halo-checkd supervising a real llama-server inside a real toolbox container, launched the way
# users launch it: `toolbox run -c NAME llama-server …` (podman exec into a long-running
# container; `podman exec NAME …` when toolbox is not installed, or with HALO_CE_VIA=podman).
# After each of
#   (a) SIGTERM to the daemon, (b) kill -9 of the daemon, (c) a crash of the engine (SIGSEGV to
#   the llama-server inside the container; the daemon must restart it),
#   (d) an engine left over from an earlier daemon (same command, port bound) when a new daemon
#   starts [needs the daemon to find and stop or adopt it],
# no llama-server may be left in the container and the port must be free (or, (c) and (d),
# served by exactly one new engine) within a bounded time. Every case runs and reports; the
# test fails if any check failed. docs/daemon.md ("The engine in a container") explains what happens.
#
# Podman's and toolbox's state lives in a temp dir and a private mount namespace
# (tests/support/container_engine.sh); nothing is left running. Skipped (77) only where podman
# cannot start a container at all (or no llama-server is built) on a developer machine; under
# CI=true that fails.
. "$HALO_SOURCE_DIR/tests/support/container_engine.sh"
ce_enter_private_mounts "$0" "$@"

. "$HALO_SOURCE_DIR/tests/support/llama_server.sh"
not_run() {
    if [ "${CI:-}" = true ] || [ "${CI:-}" = 1 ]; then
        echo "FAIL: under CI (CI=$CI) this test must run: $*"
        exit 1
    fi
    echo "not run: $*"
    exit 77
}
# Before ce_setup: it points HOME (and so the llama-server cache lookup) at its temp dir.
LLAMA=$(llama_server_binary) || not_run "no llama-server; run scripts/get-llama-server or set HALO_TEST_LLAMA_SERVER"
MODEL_SRC=$(make_test_model "${HALO_BINARY_DIR:?set by ctest}/test-models" --size tiny --template plain) ||
    { echo "FAIL: could not generate a test model"; exit 1; }

. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
trap 'ce_cleanup; cleanup' EXIT
ce_setup "$LLAMA" || not_run "$CE_WHY"
NAME=llama-vulkan-radv
ce_create "$NAME" || { echo "FAIL: $CE_WHY"; exit 1; }
echo "containers: runtime $CE_RUNTIME (tried:$CE_TRIED), engine via $CE_VIA; import ${CE_T_IMPORT} ms, create ${CE_T_CREATE} ms, start+init ${CE_T_START} ms"

# The model where toolbox users keep theirs: in the home that toolbox mounts at the same path.
mkdir -p "$CE_HOME/models"
MODEL="$CE_HOME/models/tiny.gguf"
cp "$MODEL_SRC" "$MODEL"
ENGINE=(llama-server --host 127.0.0.1 --port "$PORT" -m "$MODEL" -c 512 -np 1)
mapfile -t LAUNCH < <(ce_engine_argv "$NAME" "${ENGINE[@]}")
# The daemon's working directory is what toolbox passes to podman exec --workdir; a user unit
# runs in the user's home, which the container has.
cd "$CE_HOME" || exit 1

CASES=${HALO_CE_CASES:-abcd}   # run only some cases: HALO_CE_CASES=ac
want() { [[ $CASES == *"$1"* ]]; }
FAILED=()
check() { # DESCRIPTION COMMAND…
    local what=$1; shift
    if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; FAILED+=("$what"); fi
}
engines() { ce_engine_pids "${ENGINE[@]}"; }
health() { curl -s -o /dev/null -m 2 -w '%{http_code}' "http://127.0.0.1:$PORT/health" 2>/dev/null; }
# port_free: nothing listens on it: a bind succeeds (SO_REUSEADDR: the daemon's polling leaves
# TIME_WAIT sockets, which do not count).
port_free() {
    python3 -c 'import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try: s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError: sys.exit(1)' "$PORT"
}
# within SECONDS COMMAND…: true as soon as COMMAND is, false once SECONDS have passed (wall
# clock: a check may itself take a while on a busy machine); how long it took is in $took_ms.
within() {
    local limit_ms=$(($1 * 1000)) t0; shift
    t0=$(_ce_now_ms)
    while ! "$@"; do
        took_ms=$(( $(_ce_now_ms) - t0 ))
        [ "$took_ms" -ge "$limit_ms" ] && return 1
        sleep 0.05
    done
    took_ms=$(( $(_ce_now_ms) - t0 ))
}
none_alive() { local p; for p in "$@"; do ce_alive "$p" && return 1; done; return 0; }
no_engine() { [ -z "$(engines)" ]; }
one_engine() { [ "$(engines | wc -l)" -eq 1 ]; }
serving() { [ "$(health)" = 200 ]; }
# state_field KEY: the engine's KEY in the state file, as JSON unless a string.
state_field() {
    python3 -c 'import json,sys
v=json.load(open(sys.argv[1]))["engine"].get(sys.argv[2])
print(v if isinstance(v, str) else (json.dumps(v) if v else ""))' "$STATE/state.json" "$1" 2>/dev/null
}

write_engine_config() {
    local cmd; cmd=$(printf '%s\n' "${LAUNCH[@]}" | python3 -c 'import json,sys; print(json.dumps(sys.stdin.read().splitlines()))')
    cat > "$T/config.toml" <<EOC
[engine]
name = "llama-server"
backend = "vulkan-radv"
command = $cmd
liveness_interval = "500ms"
stop_timeout = "5s"
smoke_timeout = "60s"
ready_timeout = "2m"
[engine.restart]
backoff_initial = "200ms"
backoff_max = "1s"
EOC
}

# daemon_up: a daemon with a ready engine; sets L to the in-container llama-server's pid.
daemon_up() {
    local t0; t0=$(_ce_now_ms)
    rm -rf "$STATE"
    start_daemon "$DATA/facts/ok-vulkan-radv.toml"
    wait_for ready 120
    T_READY=$(( $(_ce_now_ms) - t0 ))
    within 5 one_engine || true
    L=$(engines | head -1)
    [ -n "$L" ] || fail "engine ready but no '${ENGINE[*]}' process found"
}

# daemon_gone SECONDS: waits for the daemon to exit; its exit status in $daemon_rc.
daemon_gone() {
    local i=0
    while kill -0 "$DPID" 2>/dev/null; do
        [ "$i" -ge $(($1 * 20)) ] && return 1
        sleep 0.05; i=$((i + 1))
    done
    { wait "$DPID"; } 2>/dev/null; daemon_rc=$?
    DPID=""
}

# reset: between cases no daemon and no engine, whatever the case left (a leak is reported by
# the case itself, not again here).
reset() {
    if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then kill -TERM "$DPID"; daemon_gone 15 || kill -KILL "$DPID"; fi
    DPID=""
    local p; for p in $(engines); do kill -KILL "$p" 2>/dev/null; done
    within 10 port_free || echo "note: port $PORT still bound after reset"
    cp "$T/daemon.log" "$T/daemon-$1.log" 2>/dev/null
}

show_tree() { echo "--- process tree ($1):"; ce_tree | sed 's/^/    /'; }

write_engine_config

# ---- measurements ------------------------------------------------------------------------
median3() { printf '%s\n' "$@" | sort -n | sed -n 2p; }
lat() { local t0; t0=$(_ce_now_ms); "$@" >/dev/null 2>&1; echo $(( $(_ce_now_ms) - t0 )); }
echo "exec latency: podman exec $NAME true: $(median3 "$(lat podman exec "$NAME" true)" "$(lat podman exec "$NAME" true)" "$(lat podman exec "$NAME" true)") ms (median of 3)"
if [ "$CE_VIA" = toolbox ]; then
    echo "exec latency: toolbox run -c $NAME true: $(median3 "$(lat toolbox run -c "$NAME" true)" "$(lat toolbox run -c "$NAME" true)" "$(lat toolbox run -c "$NAME" true)") ms (median of 3)"
fi
t0=$(_ce_now_ms)
"${LAUNCH[@]}" > "$T/direct.log" 2>&1 </dev/null &
direct=$!
within 60 serving || fail "engine through '${LAUNCH[*]:0:4} …' not ready within 60 s: $(tail -3 "$T/direct.log")"
echo "engine ready through ${LAUNCH[*]:0:4} … (no daemon, /health polled every 50 ms): $(( $(_ce_now_ms) - t0 )) ms"
show_tree "engine launched by hand"
L=$(engines | head -1)
echo "in-container llama-server pid $L, parent $(awk '{print $4}' "/proc/$L/stat") ($(tr '\0' ' ' < "/proc/$(awk '{print $4}' "/proc/$L/stat")/cmdline" | cut -c1-60)…), cgroup $(grep -m1 -E 'pids|^0::' "/proc/$L/cgroup")"
check "the engine runs in the container's cgroup" ce_in_container "$L" "$NAME"
kill -TERM "$direct"; wait "$direct"
echo "SIGTERM to the launcher ($CE_VIA): engine $(ce_alive "$L" && echo 'still running' || echo gone)"
reset measure

# ---- (a) SIGTERM to the daemon -----------------------------------------------------------
if want a; then
    echo "=== (a) SIGTERM to halo-checkd"
    daemon_up
    echo "daemon to ready: $T_READY ms (engine pid in the state file: $(engine_pid), llama-server in the container: $L)"
    show_tree "daemon supervising"
    check "(a) the state file names the engine inside the container (listener_pid $L)" test "$(state_field listener_pid)" = "$L"
    kill -TERM "$DPID"
    check "(a) halo-checkd exits within 15 s of SIGTERM" daemon_gone 15
    check "(a) halo-checkd exits 0" test "${daemon_rc:-x}" = 0
    check "(a) no llama-server left in the container within 10 s" within 10 no_engine
    echo "    (after ${took_ms} ms; left: $(engines | tr '\n' ' '))"
    check "(a) port $PORT free within 10 s" within 10 port_free
    grep -q 'cleaning up before exit' "$T/daemon.log" && echo "    llama-server logged a graceful exit" ||
        echo "    llama-server never logged 'cleaning up before exit' (no SIGTERM reached it)"
    grep -E 'engine llama-server \(pid [0-9]+\) (exited|killed)' "$T/daemon.log" | tail -1 | sed 's/^/    daemon: /'
    reset a
fi

# ---- (b) kill -9 of the daemon -----------------------------------------------------------
if want b; then
    echo "=== (b) kill -9 halo-checkd"
    daemon_up
    launcher=$(engine_pid)
    kill -KILL "$DPID"
    daemon_gone 5
    # What the unit's ExecStopPost runs: no KillMode reaches an engine inside a container.
    t0=$(_ce_now_ms)
    "$CHECKD" --stop-leftover --config "$T/config.toml" --state-dir "$STATE" > "$T/stop-leftover.log" 2>&1
    stop_rc=$?
    echo "    halo-checkd --stop-leftover: exit $stop_rc after $(( $(_ce_now_ms) - t0 )) ms: $(tr '\n' ' ' < "$T/stop-leftover.log")"
    check "(b) halo-checkd --stop-leftover exits 0" test "$stop_rc" = 0
    check "(b) --stop-leftover named the engine it stopped (pid $L)" grep -q "stopped a leftover engine, pid $L" "$T/stop-leftover.log"
    check "(b) no llama-server left in the container within 10 s" within 10 no_engine
    echo "    (after ${took_ms} ms; left: $(engines | tr '\n' ' '); launcher $launcher $(ce_alive "$launcher" && echo alive || echo gone))"
    check "(b) port $PORT free within 10 s" within 10 port_free
    show_tree "after kill -9 of the daemon and --stop-leftover"
    "$CHECKD" --stop-leftover --config "$T/config.toml" --state-dir "$STATE" > "$T/stop-leftover.log" 2>&1
    check "(b) --stop-leftover with nothing left exits 0" test "$?" = 0
    # A daemon started afterwards finds the port free and becomes ready.
    daemon_up
    check "(b) a daemon started afterwards is ready with exactly one llama-server" one_engine
    kill -TERM "$DPID"; daemon_gone 15
    check "(b) no llama-server left after that daemon's SIGTERM" within 10 no_engine
    reset b
fi

# ---- (c) engine crash --------------------------------------------------------------------
if want c; then
    echo "=== (c) SIGSEGV to the llama-server inside the container"
    daemon_up
    # A crash in steady state: after the smoke test that follows ready (a crash during it is
    # seen as a failed smoke test first).
    smoked() { grep -q '"smoke_last_good": {' "$STATE/state.json" 2>/dev/null; }
    within 60 smoked || echo "    note: no successful smoke test within 60 s"
    old_launcher=$(engine_pid)
    old=$L
    kill -SEGV "$old"
    check "(c) the crashed llama-server is gone within 5 s" within 5 none_alive "$old"
    wait_new_ready "$old_launcher" 60
    check "(c) the daemon restarted it: exactly one llama-server in the container" within 10 one_engine
    new=$(engines | head -1)
    check "(c) the running llama-server is a new process" test -n "$new" -a "$new" != "$old"
    check "(c) the new engine serves /health on port $PORT" serving
    # Which exit the daemon saw depends on a race: podman exec reports the engine's death some
    # 100-200 ms late, as exit status 128+N; a failed /health check may SIGTERM the launcher first.
    grep -E "engine llama-server (\(pid $old_launcher\) (exited|killed)|unhealthy)" "$T/daemon.log" | head -3 | sed 's/^/    daemon: /'
    crash=$(state_field last_crash)
    echo "    state: last_crash = ${crash:-none (the exit was not classified as a crash)}"
    # A crash seen first as a failed check is SIGTERMed by the daemon: only the launcher's own
    # report of the SIGSEGV (status 139) is a crash to record.
    if grep -qE "engine llama-server \(pid $old_launcher\) (exited with status 139|killed by SIGSEGV)" "$T/daemon.log"; then
        check "(c) the launcher's status 139 reads as killed by SIGSEGV" grep -q "engine llama-server (pid $old_launcher) killed by SIGSEGV" "$T/daemon.log"
        check "(c) the crash is recorded in last_crash" grep -q SIGSEGV <<< "$crash"
    fi
    kill -TERM "$DPID"; daemon_gone 15
    reset c
fi

# ---- (d) an engine left over from an earlier daemon --------------------------------------
if want d; then
    echo "=== (d) an earlier daemon's engine still holds the port [needs the daemon to find and stop or adopt it]"
    daemon_up
    kill -KILL "$DPID"; daemon_gone 5
    sleep 1
    if no_engine; then
        # (b) works: make the leftover by hand, the same command in the same container.
        podman exec -d "$NAME" "${ENGINE[@]}" >/dev/null
        within 30 serving || fail "could not start a leftover engine by hand"
    fi
    left=$(engines | head -1)
    echo "leftover llama-server pid $left, /health $(health)"
    rm -rf "$STATE"
    start_daemon "$DATA/facts/ok-vulkan-radv.toml"
    settled() { case "$(engine_state)" in ready | failed | given_up | refused) return 0 ;; esac; return 1; }
    within 60 settled
    echo "    new daemon's engine: $(engine_state) after ${took_ms} ms"
    # A first "ready" can be the leftover answering /health: the verdict is what holds once the
    # new daemon's own launch has had time to start, fail to bind and be classified.
    sleep 8
    launcher=$(engine_pid)
    echo "    8 s later: $(engine_state) ($(state_field reason | cut -c1-160));" \
        "launcher ${launcher:-none} $(ce_alive "${launcher:-0}" && echo alive || echo gone)"
    grep -E "couldn't bind|engine llama-server \(pid [0-9]+\) (exited|killed)" "$T/daemon.log" | tail -3 | sed 's/^/    daemon: /'
    # [daemon feature: leftover engine] from here on.
    check "(d) [needs daemon feature] the new daemon's engine is ready, not failed" test "$(engine_state)" = ready
    check "(d) [needs daemon feature] the new daemon's engine process is running" ce_alive "${launcher:-0}"
    check "(d) [needs daemon feature] no 'couldn't bind' from a second llama-server" bash -c "! grep -q \"couldn't bind HTTP server socket\" '$T/daemon.log'"
    check "(d) [needs daemon feature] exactly one llama-server in the container" one_engine
    now=$(engines | head -1)
    if [ -n "$now" ] && [ "$now" = "$left" ]; then echo "    the llama-server running now is the leftover (pid $left)";
    elif [ -n "$now" ]; then echo "    the leftover was replaced ($left -> $now)"; fi
    check "(d) [needs daemon feature] port $PORT serves /health" serving
    if kill -0 "$DPID" 2>/dev/null; then
        kill -TERM "$DPID"; daemon_gone 15
        check "(d) [needs daemon feature and (a)] no llama-server left after the new daemon's SIGTERM" within 10 no_engine
    fi
    reset d
fi

echo
if [ "${#FAILED[@]}" -gt 0 ]; then
    echo "${#FAILED[@]} check(s) failed:"
    printf '  %s\n' "${FAILED[@]}"
    exit 1
fi
echo "all checks passed"
