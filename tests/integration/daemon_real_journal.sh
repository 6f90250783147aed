#!/bin/bash
# The real llama-server's lines reach the journal at the priority of their level letter: its
# model-loading errors (E) at err, its security warning (W) at warning, the rest (I) at info, so
# `journalctl -t NAME -p err` shows what went wrong. Read back as daemon_journal.sh does: the
# daemon's --journal-export, turned into a .journal file by systemd-journal-remote.
. "$HALO_SOURCE_DIR/tests/helpers/daemon/real_engine.sh"
REMOTE=/lib/systemd/systemd-journal-remote
[ -x "$REMOTE" ] || { echo "not run: $REMOTE missing (apt-get install systemd-journal-remote)"; exit 77; }
command -v journalctl >/dev/null || { echo "not run: journalctl missing"; exit 77; }

real_config
sed -i "s|\"-m\", \"$GGUF\"|\"-m\", \"$T/missing.gguf\"|" "$T/config.toml"
grep -qF "\"$T/missing.gguf\"" "$T/config.toml" || fail "test setup: model not replaced"
start_daemon "$DATA/facts/ok-vulkan-radv.toml" --journal-export "$T/daemon.export"
wait_for failed 60
stop_daemon || fail "daemon exit code"
"$REMOTE" --output="$T/halo.journal" "$T/daemon.export" 2> "$T/remote.err" || { cat "$T/remote.err"; fail "journal-remote rejected the export"; }
q() { journalctl --file="$T/halo.journal" --no-pager SYSLOG_IDENTIFIER=llama-server "$@"; }

q -p err -o cat > "$T/err.txt"
grep -q " E gguf_init_from_file: failed to open GGUF file '$T/missing.gguf'" "$T/err.txt" \
    || { cat "$T/err.txt"; fail "the E line of the failed model load is not at priority err"; }
grep -q ' E srv  llama_server: exiting due to model loading error' "$T/err.txt" || fail "the last E line is not at err"
grep -q ' [IW] ' "$T/err.txt" && { cat "$T/err.txt"; fail "info or warning lines at priority err"; }
# The field itself, as journalctl stores it.
prio=$(q -o json | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    if " E gguf_init_from_file: failed to open GGUF file" in e.get("MESSAGE", ""):
        print(e.get("PRIORITY")); break')
[ "$prio" = 3 ] || fail "the E line has PRIORITY=$prio, want 3"
pass "llama-server's E lines at PRIORITY=3 (err)"

q -p warning -o cat | grep -v ' E ' > "$T/warning.txt"
grep -q ' W srv  llama_server: security: no API key is set' "$T/warning.txt" \
    || { cat "$T/warning.txt"; fail "the W line is not at priority warning"; }
grep -q ' I ' "$T/warning.txt" && { cat "$T/warning.txt"; fail "info lines at priority warning"; }
q -p info -o cat | grep -q " I srv    load_model: loading model '$T/missing.gguf'" || fail "the I line is not in the journal at info"
pass "W lines at warning, I lines at info"
