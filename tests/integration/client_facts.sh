#!/usr/bin/env bash
# The client probe and the chat-template facts through halo-check, on generated models (the
# make_gguf.py templates the real llama-server tests serve) and the Claude Code fixture homes
# under --root: the facts, the client rules in the report, the machine block's client line, and
# bad settings JSON as the probe's failure with the file and line, never a crash.
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
source "$HALO_SOURCE_DIR/tests/support/llama_server.sh"
models="${HALO_BINARY_DIR:?set by ctest}/test-models"
plain=$(make_test_model "$models" --size tiny --template plain) || fail "could not generate a test model"
thinking=$(make_test_model "$models" --size tiny --template thinking) || fail "could not generate a test model"
homes="$HALO_SOURCE_DIR/tests/data/claude-homes"
export NO_COLOR=1 XDG_CONFIG_HOME=$(mktemp -d) HOME=/home/user
unset CLAUDE_CONFIG_DIR
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$XDG_CONFIG_HOME"' EXIT

# config FILE MODEL PORT: an [engine] on the host, llama-server -m MODEL --port PORT.
config() {
    printf '[engine]\nname = "t"\nbackend = "vulkan"\ncommand = ["llama-server", "-m", "%s", "--port", "%s"]\n' "$2" "$3" >"$1"
}

# The chat template facts from the models' own GGUF headers (--root /: the model paths are this
# machine's).
config "$tmp/think.toml" "$thinking" 8081
run "$HALO_CHECK" facts --config "$tmp/think.toml" --only engine
expect_out "'engine.model.chat_template.thinking' = 'true'"
expect_out "'engine.model.chat_template.tools' = 'false'"
config "$tmp/plain.toml" "$plain" 8081
run "$HALO_CHECK" facts --config "$tmp/plain.toml" --only engine
expect_out "'engine.model.chat_template.thinking' = 'false'"

# Claude Code on :8080, the engine on :8081: BROKEN, the rule and both ports in the report.
# The model path is absolute on this machine; under the fixture root it is missing, which the
# rules would call broken too, so the engine here names a model-less command.
printf '[engine]\nname = "t"\nbackend = "vulkan"\ncommand = ["llama-server", "-hf", "x/y", "--port", "8081"]\n' >"$tmp/hf.toml"
run "$HALO_CHECK" --root "$homes/wrong-port" --config "$tmp/hf.toml" --only engine,client --json
expect_json '"client.claude-code-other-port" in [f["id"] for f in j["findings"]]' True
expect_json '[f["matched"] for f in j["findings"] if f["id"] == "client.claude-code-other-port"][0]["engine.port"]' 8081
expect_json '[f["matched"] for f in j["findings"] if f["id"] == "client.claude-code-other-port"][0]["client.claude_code.base_url.port"]' 8080
# The header is left on, but the URL does not reach this engine: only the port is reported.
expect_json '"client.attribution-header" in [f["id"] for f in j["findings"]]' False
run "$HALO_CHECK" --root "$homes/wrong-port" --config "$tmp/hf.toml" --only engine,client
expect_out "client    Claude Code → http://127.0.0.1:8080/, model glm-4.7-flash (not the engine's port)"

# The field report's settings on the engine's port: no client finding, the token never shown.
printf '[engine]\nname = "t"\nbackend = "vulkan"\ncommand = ["llama-server", "-hf", "x/y", "--port", "8080"]\n' >"$tmp/hf8080.toml"
run "$HALO_CHECK" --root "$homes/good" --config "$tmp/hf8080.toml" --only engine,client --json
expect_json '[f["id"] for f in j["findings"] if f["id"].startswith("client.")]' '[]'
run "$HALO_CHECK" facts --root "$homes/good" --config "$tmp/hf8080.toml" --only engine,client
expect_out "'client.claude_code.auth_token' = 'set'"
expect_out "'client.claude_code.points_at_engine' = 'true'"
expect_no_out "sk-local"

# Bad JSON: the probe fails with the file and line; the check goes on.
run "$HALO_CHECK" --root "$homes/bad-json" --config "$tmp/hf.toml" --only engine,client --json
expect_json 'j["probes"]["client"]["status"]' failed
expect_json '"/home/user/.claude/settings.json" in j["probes"]["client"]["reason"] and "line 5" in j["probes"]["client"]["reason"]' True
run "$HALO_CHECK" --root "$homes/no-file" --config "$tmp/hf.toml" --only engine,client --json
expect_json 'j["probes"]["client"]["status"]' not_applicable
done_ok
