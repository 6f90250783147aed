#!/bin/bash
# Logs reach a journal, read back with journalctl. There is no journald in CI (sd_journal_print
# drops messages silently), so the daemon's --journal-export writes every entry it logs (its own,
# with structured HALO_* fields, and the engine's lines under the engine's SYSLOG_IDENTIFIER) in
# the Journal Export Format; systemd-journal-remote turns that into a real .journal file, which
# journalctl reads. Proven: the entries, identifiers and fields as journald would store them.
# Not proven here: delivery through the journald socket (sd_journal_stream_fd / sd_journal_send).
. "$HALO_SOURCE_DIR/tests/helpers/daemon/lib.sh"
REMOTE=/lib/systemd/systemd-journal-remote
[ -x "$REMOTE" ] || { echo "not run: $REMOTE missing (apt-get install systemd-journal-remote)"; exit 77; }
command -v journalctl >/dev/null || { echo "not run: journalctl missing"; exit 77; }

write_config crash-line
start_daemon "$DATA/facts/ok-vulkan-radv.toml" --journal-export "$T/daemon.export"
for _ in $(seq 200); do grep -q 'HALO_LOG_PATTERN=log.memory-access-fault' "$T/daemon.export" 2>/dev/null && break; sleep 0.05; done
wait_for backoff 10
stop_daemon || fail "daemon exit code"
"$REMOTE" --output="$T/halo.journal" "$T/daemon.export" 2> "$T/remote.err" || { cat "$T/remote.err"; fail "journal-remote rejected the export"; }
journalctl --file="$T/halo.journal" --no-pager -o cat SYSLOG_IDENTIFIER=fake-llama > "$T/engine.txt"
grep -q 'server is listening on http://0.0.0.0' "$T/engine.txt" || fail "engine lines not under SYSLOG_IDENTIFIER=fake-llama"
grep -q 'Memory access fault by GPU node-1' "$T/engine.txt" || fail "crash line not in the journal"
journalctl --file="$T/halo.journal" --no-pager -o cat SYSLOG_IDENTIFIER=halo-checkd HALO_ENGINE_STATE=ready > "$T/ready.txt"
grep -q 'engine fake-llama → ready' "$T/ready.txt" || fail "state transition not queryable by HALO_ENGINE_STATE"
journalctl --file="$T/halo.journal" --no-pager -o cat HALO_LOG_PATTERN=log.memory-access-fault-kernel-rocm-mismatch HALO_LOG_PATTERN=log.memory-access-fault > "$T/crash.txt"
grep -q 'known crash line' "$T/crash.txt" || fail "crash attribution not queryable by HALO_LOG_PATTERN"
journalctl --file="$T/halo.journal" --no-pager -p warning -o cat SYSLOG_IDENTIFIER=halo-checkd | grep -q 'killed by SIGABRT' \
    || fail "crash exit not logged at priority warning or higher"
pass "engine lines and daemon transitions read back from a .journal file"
