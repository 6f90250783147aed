#!/usr/bin/env bash
# halo-check must not say OK for an engine that cannot start: a missing model, a file that is not
# GGUF, an engine program that is not there or not executable, a container that does not exist.
# Against the real llama-server (HALO_TEST_LLAMA_SERVER or the one scripts/get-llama-server
# cached) and a generated model it loads; under CI a missing llama-server fails the test. Also
# --root: the config named with --config is this machine's file, the machine is the root's.
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
source "$HALO_SOURCE_DIR/tests/support/llama_server.sh"
require_llama_server server
model=$(make_test_model "${HALO_BINARY_DIR:?set by ctest}/test-models" --size tiny --template plain) || fail "could not generate a test model"
export NO_COLOR=1 XDG_CONFIG_HOME=$(mktemp -d)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$XDG_CONFIG_HOME"' EXIT

# config FILE PROGRAM MODEL: an [engine] that runs PROGRAM on the host with -m MODEL.
config() {
    printf '[engine]\nname = "t"\nbackend = "vulkan"\ncommand = ["%s", "-m", "%s", "--host", "127.0.0.1", "--port", "18080"]\n' \
        "$2" "$3" >"$1"
}
ids='[f["id"] for f in j["findings"]]'
cannot_start='sorted(i for i in '"$ids"' if i in ("engine.model-unreadable", "engine.model-not-gguf", "engine.binary-not-found", "engine.container-missing"))'

# The real engine with the model it loads: nothing says it cannot start, and the probe says why.
config "$tmp/good.toml" "$server" "$model"
run "$HALO_CHECK" --config "$tmp/good.toml" --only engine --json
expect_json "$cannot_start" '[]'
expect_json 'j["probes"]["engine"]["status"]' ok
run "$HALO_CHECK" facts --config "$tmp/good.toml" --only engine
expect_out "'engine.model.readable' = 'true'"
expect_out "'engine.model.gguf' = 'true'"
expect_out "'engine.binary.found' = 'true'"

# A missing model: BROKEN (exit 2) naming the rule, on the whole machine as with --only engine.
config "$tmp/missing.toml" "$server" "$tmp/models/missing.gguf"
run "$HALO_CHECK" --config "$tmp/missing.toml" --json
expect_rc 2
expect_json 'j["verdict"]' broken
expect_json "$cannot_start" "['engine.model-unreadable']"
expect_json '[f["matched"] for f in j["findings"] if f["id"] == "engine.model-unreadable"][0]' "{'engine.model.readable': 'false'}"
run "$HALO_CHECK" --config "$tmp/missing.toml" --only engine
expect_rc 2
expect_out "BROKEN engine.model-unreadable"
expect_out "fix:     Point -m at the GGUF file"
run "$HALO_CHECK" facts --config "$tmp/missing.toml" --only engine
expect_out "'engine.model.readable' = \"engine:Failed to read '$tmp/models/missing.gguf': No such file or directory\""
# The real engine agrees: it exits 1 on that model.
"$server" -m "$tmp/models/missing.gguf" --host 127.0.0.1 --port 0 >"$tmp/server.log" 2>&1
[ $? -eq 1 ] || fail "llama-server did not exit 1 on a missing model: $(tail -3 "$tmp/server.log")"
grep -q "exiting due to model loading error" "$tmp/server.log" || fail "llama-server log: $(tail -3 "$tmp/server.log")"
checks=$((checks + 1))

# Not a GGUF file (an error page saved under the model's name), and a directory.
mkdir -p "$tmp/models"
printf '<!DOCTYPE html>\n<title>404 Not Found</title>\n' >"$tmp/models/page.gguf"
config "$tmp/page.toml" "$server" "$tmp/models/page.gguf"
run "$HALO_CHECK" --config "$tmp/page.toml" --only engine --json
expect_rc 2
expect_json "$cannot_start" "['engine.model-not-gguf']"
"$server" -m "$tmp/models/page.gguf" --host 127.0.0.1 --port 0 >"$tmp/server.log" 2>&1
[ $? -eq 1 ] || fail "llama-server did not exit 1 on a non-GGUF model"
grep -q "invalid magic" "$tmp/server.log" || fail "llama-server log: $(tail -3 "$tmp/server.log")"
checks=$((checks + 1))
config "$tmp/dir.toml" "$server" "$tmp/models"
run "$HALO_CHECK" --config "$tmp/dir.toml" --only engine --json
expect_rc 2
expect_json "$cannot_start" "['engine.model-unreadable']"

# The engine program: not there, not executable, not on PATH.
config "$tmp/nobin.toml" /nonexistent/llama-server "$model"
run "$HALO_CHECK" --config "$tmp/nobin.toml" --only engine --json
expect_rc 2
expect_json "$cannot_start" "['engine.binary-not-found']"
cp "$server" "$tmp/llama-server-noexec" && chmod 0644 "$tmp/llama-server-noexec"
config "$tmp/noexec.toml" "$tmp/llama-server-noexec" "$model"
run "$HALO_CHECK" --config "$tmp/noexec.toml" --only engine --json
expect_rc 2
expect_json "$cannot_start" "['engine.binary-not-found']"
config "$tmp/path.toml" llama-server "$model"
PATH="$(dirname "$server"):$PATH" run "$HALO_CHECK" --config "$tmp/path.toml" --only engine --json
expect_json "$cannot_start" '[]'
run env PATH=/nonexistent "$HALO_CHECK" --config "$tmp/path.toml" --only engine --json
expect_rc 2
expect_json "$cannot_start" "['engine.binary-not-found']"
# Inside a container the program is the container's: not judged from the host.
printf '[engine]\ncommand = ["toolbox", "run", "-c", "llama-vulkan-radv", "/nonexistent/llama-server", "-m", "%s"]\n' "$model" >"$tmp/toolbox.toml"
run "$HALO_CHECK" facts --config "$tmp/toolbox.toml" --only engine
expect_out "'engine.binary' = '/nonexistent/llama-server'"
expect_no_out "engine.binary.found"

# halo-check run refuses an engine that cannot start and never execs it. (--fail-on, run's default,
# is spelled out after --only: CLI11 takes a `--` right after a list option as the end of the list.)
run "$HALO_CHECK" run -- /nonexistent/llama-server -m "$model" --port 18080
expect_rc 2
expect_err "BROKEN engine.binary-not-found"
expect_err "halo-check: refusing to run '/nonexistent/llama-server -m $model --port 18080': verdict broken"
grep -qF "Failed to run" <<<"$err" && fail "halo-check run tried to exec the command"
printf '#!/bin/sh\ntouch "%s"\n' "$tmp/started" >"$tmp/marker-server" && chmod +x "$tmp/marker-server"
run "$HALO_CHECK" run --only engine --fail-on broken -- "$tmp/marker-server" -m "$tmp/models/missing.gguf"
expect_rc 2
expect_err "BROKEN engine.model-unreadable"
[ ! -e "$tmp/started" ] || fail "the refused command ran"
checks=$((checks + 1))
# …and execs the real one when it can start (same process: llama-server's exit status, its output).
run "$HALO_CHECK" run --only engine --fail-on broken -- "$server" -m "$model" --version
expect_rc 0
expect_err "version:"
# A command that passes the check but cannot be executed after all still says so, as a shell does.
printf '#!/nonexistent/interpreter\n' >"$tmp/no-interpreter" && chmod +x "$tmp/no-interpreter"
run "$HALO_CHECK" run --only engine --fail-on broken -- "$tmp/no-interpreter"
expect_rc 127
expect_err "Failed to run '$tmp/no-interpreter': No such file or directory"

# --root: only the machine is read under the root. The config named with --config is read where it
# is (not as <root>/tmp/…), and the machine under the root is judged with that engine.
rocm_host="$DATA/hosts/strix-fedora43-fw20251125-rocm"
cp "$rocm_host/etc/halo-check/config.toml" "$tmp/rocm.toml"
run "$HALO_CHECK" --root "$rocm_host" --config "$tmp/rocm.toml" --json
expect_rc 2
expect_json 'j["probes"]["engine"]["status"]' ok
expect_json '"firmware.mes-0x83-rocm" in '"$ids" True
expect_json 'len(j["undecided"])' 0
# The model the config names is a machine path: read under the root (the fixture's GGUF there),
# so a model that exists only on this machine is missing on the machine judged.
run "$HALO_CHECK" facts --root "$rocm_host" --config "$tmp/rocm.toml" --only engine
expect_out "'engine.model.readable' = 'true'"
expect_out "'engine.model.name' = 'GLM-4.7-Flash'"
config "$tmp/here.toml" "$server" "$model"
run "$HALO_CHECK" --root "$rocm_host" --config "$tmp/here.toml" --only engine --json
expect_rc 2
expect_json "$cannot_start" "['engine.binary-not-found', 'engine.model-unreadable']"
# Without --config the configuration is this machine's too: here none, so no engine, whatever
# the root's /etc/halo-check holds.
run "$HALO_CHECK" --root "$rocm_host" --only engine --json
expect_json 'j["probes"]["engine"]["status"]' not_applicable

# A toolbox container that does not exist on the machine judged.
printf '[engine]\ncommand = ["toolbox", "run", "-c", "llama-rocm-9.9", "llama-server", "-m", "/mnt/ai-models/GLM-4.7-Flash-Q8/GLM-4.7-Flash-UD-Q8_K_XL.gguf"]\n' >"$tmp/nobox.toml"
run "$HALO_CHECK" --root "$rocm_host" --config "$tmp/nobox.toml" --only containers,engine --json
expect_rc 2
expect_json "$cannot_start" "['engine.container-missing']"
done_ok
