#!/usr/bin/env bash
# Every command's --json against docs/json-schema.json (python3-jsonschema): one schema, the same
# shapes for the same things everywhere, with schema_version, the tool's version and the
# knowledge's date. (status --json, which needs a running daemon, is in daemon_control_verbs.sh.)
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
export NO_COLOR=1 XDG_CONFIG_HOME=$(mktemp -d) XDG_STATE_HOME=$(mktemp -d)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$XDG_CONFIG_HOME" "$XDG_STATE_HOME"' EXIT
python3 -c 'import jsonschema' 2>/dev/null || {
    [ "${CI:-}" = true ] && fail "python3-jsonschema is missing (scripts/install-deps installs it)"
    echo "not run: python3-jsonschema missing"; exit 77; }
SCHEMA="$HALO_SOURCE_DIR/docs/json-schema.json"
# valid DEFINITION: $out against the schema's definition.
valid() {
    local why
    why=$(python3 "$HALO_SOURCE_DIR/tests/support/validate_json.py" "$SCHEMA" "$1" <<<"$out" 2>&1) \
        || fail "$1 output does not match docs/json-schema.json: $why"
    checks=$((checks + 1))
}
root() { bash "$HALO_SOURCE_DIR/tests/support/make_fixture_root.sh" "$1" "$tmp/$1" || fail "fixture $1"; echo "$tmp/$1"; }
bad=$(root strix-fedora43-fw20251125-rocm)
cfg="$bad/etc/halo-check/config.toml"

run "$HALO_CHECK" --root "$bad" --config "$cfg" --json
expect_rc 2
valid check
expect_json 'j["schema_version"]' 1
expect_json '__import__("re").fullmatch(r"\d{4}-\d{2}-\d{2}", j["knowledge_date"]) is not None' True
expect_json 'j["halo_check_version"] != ""' True
expect_json '[f["file"].startswith("embedded:") for f in j["findings"]][0]' True
run "$HALO_CHECK" check --facts "$DATA/facts/broken-fw-20251125-rocm.toml" --json
valid check
run "$HALO_CHECK" --root "$(root minimal)" --json
valid check
run "$HALO_CHECK" run --root "$bad" --config "$cfg" --dry-run --json -- toolbox run -c llama-rocm-7.2 llama-server
valid check
run "$HALO_CHECK" facts --root "$bad" --config "$cfg" --json
valid facts
run "$HALO_CHECK" probes --json
valid probes
run "$HALO_CHECK" rules list --json
valid rules_list
run "$HALO_CHECK" rules validate --json
valid rules_validate
printf '[[rule]]\nid = "x"\nseverity = "broken"\ntitle = "t"\nfix = "f"\nwhen = { "kernel.release" = "=> 6.18" }\nwhne = 1\n' >"$tmp/bad.toml"
run "$HALO_CHECK" rules validate --json "$tmp/bad.toml"
expect_rc 3
valid rules_validate
expect_json '[(d["file"], d["line"], d["column"]) for d in j["diagnostics"] if d["level"] == "error"][0]' "('$tmp/bad.toml', 7, 8)"
expect_json '[d["message"] for d in j["diagnostics"] if d["level"] == "warning" and "never match" in d["message"]] != []' True
run "$HALO_CHECK" explain --json firmware.mes-0x83-rocm
valid explain
expect_json '[c["match"] for c in j["when"] if c["key"] == "engine.backend"]' "['\"rocm\"']"
run "$HALO_CHECK" explain --json known-good.vulkan-radv-fedora
valid explain
run "$HALO_CHECK" config validate --config "$cfg" --json
expect_rc 0
valid config_validate
printf '[engine]\nnmae = "x"\ncommand = ["llama-server"]\n' >"$tmp/typo.toml"
run "$HALO_CHECK" config validate --config "$tmp/typo.toml" --json
expect_rc 3
valid config_validate
expect_json 'j["diagnostics"][0]["file"] is None or j["diagnostics"][0]["file"].endswith("typo.toml")' True
run "$HALO_CHECK" facts --root "$bad" --config "$cfg"
printf '%s\n' "$out" >"$tmp/a.toml"
good=$(root strix-fedora43-good)
run "$HALO_CHECK" facts --root "$good" --config "$good/etc/halo-check/config.toml"
printf '%s\n' "$out" >"$tmp/b.toml"
run "$HALO_CHECK" diff --json "$tmp/a.toml" "$tmp/b.toml"
valid diff
cp "$tmp/a.toml" "$tmp/c.toml"
run "$HALO_CHECK" diff --json "$tmp/a.toml" "$tmp/b.toml" "$tmp/c.toml"
valid diff
done_ok
