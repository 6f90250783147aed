#!/bin/bash
# halo-checkd probing with the real config (no --facts) refuses an engine that cannot start and
# never launches it: a missing model, against the real llama-server (which, launched, would exit 1
# on it). With the model in place the same daemon launches it and it gets ready. And --root reads
# only the machine under the root: a config named outside it is read where it is, so the broken
# fixture host is refused. Under CI a missing llama-server fails the test, never skips it.
. "$HALO_SOURCE_DIR/tests/support/llama_server.sh"
require_llama_server server
model=$(make_test_model "${HALO_BINARY_DIR:?set by ctest}/test-models" --size tiny --template plain) || {
    echo "FAIL: could not generate a test model"
    exit 1
}
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"

# A machine that holds nothing but the engine's files, at the paths the config names: its other
# probes fail, so their rules are undecided, which the default policy (refuse-broken) allows.
R="$T/root"
mkdir -p "$R$(dirname "$server")" "$R$T/models" "$T/models"
ln -f "$server" "$R$server" 2>/dev/null || cp "$server" "$R$server" || fail "copy the engine into the root"
engine_config() { # engine_config MODEL
    cat > "$T/config.toml" <<EOC
[engine]
name = "llama-server"
command = ["$server", "--host", "127.0.0.1", "--port", "$PORT", "-m", "$1", "-c", "512", "-np", "1"]
ready_timeout = "5m"
stop_timeout = "10s"
smoke_timeout = "60s"
EOC
}
start_probing_daemon() { # start_probing_daemon ROOT
    "$CHECKD" --root "$1" --config "$T/config.toml" --state-dir "$STATE" --no-dropins --no-journal --no-watch \
        > "$T/daemon.log" 2>&1 &
    DPID=$!
}

engine_config "$T/models/missing.gguf"
start_probing_daemon "$R"
wait_for refused 30
grep -q '"status": "refusing to start engine: broken: engine.model-unreadable · waiting for a fix"' "$STATE/state.json" \
    || fail "refusal does not name engine.model-unreadable"
grep -q 'launched as pid' "$T/daemon.log" && fail "engine launched with a missing model"
[ -z "$(engine_pid)" ] || fail "the state names an engine pid: $(engine_pid)"
"$CHECK" status --state-dir "$STATE" | grep -q 'engine.model-unreadable' || fail "halo-check status lacks the rule"
pass "missing model → refused (engine.model-unreadable), never launched"
stop_daemon || fail "daemon exit status $?"

# The model in place, on the machine judged and where the engine runs: launched, ready.
cp "$model" "$T/models/model.gguf" && cp "$model" "$R$T/models/model.gguf" || fail "copy the model"
engine_config "$T/models/model.gguf"
rm -rf "$STATE"
start_probing_daemon "$R"
for _ in $(seq 2400); do # until it settles: ready, or refused/failed (then fail at once)
    case "$(engine_state)" in ready | refused | failed | given_up) break ;; esac
    kill -0 "$DPID" 2>/dev/null || fail "halo-checkd exited"
    sleep 0.05
done
wait_for ready 1
grep -q 'launched as pid' "$T/daemon.log" || fail "no launch line"
pass "model present → the real llama-server launched and ready"
stop_daemon || fail "daemon exit status $?"

# --root with the config outside the root: the config is read where it is, the fixture host is
# judged with that engine (ROCm on MES 0x83) and refused; before, the probe looked for
# <root>/<config path>, found nothing, left the rules undecided and launched.
cp "$DATA/hosts/strix-fedora43-fw20251125-rocm/etc/halo-check/config.toml" "$T/config.toml"
rm -rf "$STATE"
start_probing_daemon "$DATA/hosts/strix-fedora43-fw20251125-rocm"
wait_for refused 30
grep -q '"status": "refusing to start engine: broken: firmware.mes-0x83-rocm' "$STATE/state.json" \
    || fail "refusal does not name firmware.mes-0x83-rocm: $(grep '"status"' "$STATE/state.json")"
grep -q 'launched as pid' "$T/daemon.log" && fail "engine launched on the broken fixture host"
grep -q 'engine probe failed' "$STATE/state.json" && fail "the engine probe failed: $(grep -m1 'engine probe failed' "$STATE/state.json")"
pass "--root FIXTURE --config OUTSIDE → the fixture judged with that engine, refused"
stop_daemon || fail "daemon exit status $?"
exit 0
