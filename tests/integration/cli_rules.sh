#!/usr/bin/env bash
# halo-check rules validate/list, explain, drop-ins and --rules, usage errors.
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
cd "$DATA"
export NO_COLOR=1 XDG_CONFIG_HOME=$(mktemp -d)

run "$HALO_CHECK" rules validate
expect_rc 0
expect_out "0 errors, 0 warnings"

run "$HALO_CHECK" rules validate rules/bad/malformed.toml
expect_rc 3
expect_err "halo-check: error: rules/bad/malformed.toml:"
run "$HALO_CHECK" rules validate rules/bad/unknown-severity.toml
expect_rc 3
expect_err "unknown severity"
run "$HALO_CHECK" rules validate rules/bad/unparsable-condition.toml
expect_rc 3
expect_err "has an operator but no version"
run "$HALO_CHECK" rules validate rules/bad/duplicate-id.toml
expect_rc 3
expect_err "duplicate id in this file"
run "$HALO_CHECK" rules validate rules/bad/lint-unknown-key.toml
expect_rc 0
expect_err "halo-check: warning: rules/bad/lint-unknown-key.toml:"
expect_err "did you mean 'kernel.release'?"
run "$HALO_CHECK" rules validate --json rules/bad
expect_rc 3
expect_json 'j["ok"]' False
expect_json 'len([d for d in j["diagnostics"] if d["level"]=="error"]) >= 4' True

# A broken --rules file makes check exit 3, naming the file: no verdict without the rules.
run "$HALO_CHECK" check --facts facts/ok-vulkan-radv.toml --rules rules/bad/unknown-severity.toml
expect_rc 3
expect_err "rules/bad/unknown-severity.toml:"
expect_err "no verdict without them"

# Drop-ins: a disable in $XDG_CONFIG_HOME (any file name) and an override of an embedded file.
run "$HALO_CHECK" check --facts facts/warning-ctx-200k.toml
expect_rc 1
mkdir -p "$XDG_CONFIG_HOME/halo-check/rules.d"
cp rules/good/disable-ctx-warning.toml "$XDG_CONFIG_HOME/halo-check/rules.d/00-local.toml"
run "$HALO_CHECK" check --facts facts/warning-ctx-200k.toml
expect_rc 0
run "$HALO_CHECK" check --facts facts/warning-ctx-200k.toml --no-dropins
expect_rc 1
rm "$XDG_CONFIG_HOME/halo-check/rules.d/00-local.toml"
run "$HALO_CHECK" check --facts facts/warning-ctx-200k.toml --rules rules/good/override
expect_rc 0
run "$HALO_CHECK" check --facts facts/ok-vulkan-radv.toml --rules rules/good/site-policy.toml --json
expect_rc "$rc"
expect_json 'j["verdict"] in ("ok", "warning", "broken")' True

# list and explain.
run "$HALO_CHECK" rules list --json
expect_rc 0
expect_json 'len(j["rules"]) >= 30 and len(j["known_good"]) >= 3 and len(j["log_patterns"]) >= 10' True
expect_json '"firmware.mes-0x83-rocm" in [r["id"] for r in j["rules"]]' True
run "$HALO_CHECK" explain firmware.mes-0x83-rocm
expect_rc 0
expect_out "firmware.mes-0x83-rocm (broken)"
expect_out "defined:  embedded:firmware.toml:"
expect_out "see:      https://github.com/ROCm/ROCm/issues/5724"
run "$HALO_CHECK" explain firmware.mes-0x83-rocn
expect_rc 3
expect_err "did you mean 'firmware.mes-0x83-rocm'?"

# Usage errors exit 3 with a suggestion.
run "$HALO_CHECK" chekc
expect_rc 3
expect_err "did you mean 'check'"
run "$HALO_CHECK" check --facts facts/ok-vulkan-radv.toml --fail-on everything
expect_rc 3
run "$HALO_CHECK" check --jsn
expect_rc 3
expect_err "did you mean '--json'"
run "$HALO_CHECK" --help
expect_rc 0
expect_out "Exit codes: 0 OK, 1 WARNING, 2 BROKEN, 3 UNKNOWN"
for sub in check facts probes run rules explain; do
    run "$HALO_CHECK" "$sub" --help
    expect_rc 0
done
done_ok
