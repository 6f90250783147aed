#!/bin/bash
# Desktop notifications against a real notification server: a private dbus-daemon, Xvfb and
# dunst started here (never D-Bus activation), driven through checkd::DesktopNotifier by
# tests/helpers/notify/halo_notify_send. Asserts on `dunstctl history` (after close-all) and on
# what a dunst rule script receives (dunst 1.9's history has no urgency). Also: no session bus,
# no notification server, one notification per topic, escaped markup, the "Show details" action
# through an sd-event loop, the gate's single log line. HALO_SCREENSHOT_OUT=FILE keeps a
# screenshot of the after-reboot notification (docs/images/notification-broken-reboot.png).
set -u
send="$HALO_BINARY_DIR/tests/helpers/notify/halo_notify_send"
[ -x "$send" ] || { echo "skip: $send not built"; exit 77; }
. "$HALO_SOURCE_DIR/tests/support/desktop.sh"
desktop_need

W=$(mktemp -d)
trap 'desktop_stop; rm -rf "$W"' EXIT
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; shift; [ $# -gt 0 ] && printf '%s\n' "$@"; fail=1; }

unset XDG_RUNTIME_DIR DBUS_SESSION_BUS_ADDRESS DISPLAY WAYLAND_DISPLAY

# --- headless: no session bus at all ------------------------------------------------------
out=$("$send" caps); rc=$?
if [ $rc -eq 3 ] && grep -q "No desktop session bus" <<<"$out"; then ok "no session bus: clear error"; else bad "no session bus" "rc=$rc" "$out"; fi
out=$("$send" gate 20); rc=$?
if [ $rc -eq 0 ] && [ "$(grep -c '^outcome unavailable' <<<"$out")" = 20 ] && [ "$(grep -c '^log ' <<<"$out")" = 1 ]; then
    ok "no session bus: 20 events, one log line"
else
    bad "gate without a bus" "$out"
fi

# --- a private session bus, no notification server yet -------------------------------------
desktop_bus || { bad "dbus-daemon"; exit 1; }
# dbus-daemon has no DISPLAY, so activating dunst fails: the "bus but no server" case.
out=$("$send" send t "no server" body normal); rc=$?
if [ $rc -eq 3 ] && grep -q "No desktop notification server answers" <<<"$out"; then ok "bus without a server: clear error"; else bad "no server" "rc=$rc" "$out"; fi

# --- Xvfb on a free display, dunst started explicitly ---------------------------------------
desktop_display || { bad "Xvfb did not start" "$(cat "$W/xvfb.log")"; exit 1; }

# A rule script records what dunst received, urgency included.
cat >"$W/record.sh" <<SCRIPT
#!/bin/sh
printf '%s|%s|%s\n' "\$5" "\$2" "\$1" >> "$W/received"
SCRIPT
chmod +x "$W/record.sh"
desktop_dunst "[record]
    appname = halo-check
    script = $W/record.sh" || { bad "dunst did not start" "$(cat "$W/dunst.log")"; exit 1; }

out=$("$send" caps)
if grep -q '^server dunst' <<<"$out" && grep -q '^actions yes' <<<"$out" && grep -q '^capability body-markup' <<<"$out"; then
    ok "capabilities: dunst, actions, body-markup"
else
    bad "capabilities" "$out"
fi

# --- one topic, one notification: the second replaces the first -------------------------------
out=$("$send" send verdict.now "First title" "first body" critical verdict.now "Second title" "second body" critical)
ids=$(sed -n 's/^id //p' <<<"$out" | sort -u)
if [ "$(wc -l <<<"$ids")" = 1 ] && [ -n "$ids" ]; then ok "same topic twice: same id $ids"; else bad "replaces_id" "$out"; fi
h=$(desktop_history)
if [ "$(grep -c '^halo-check|' <<<"$h")" = 1 ] && grep -q '^halo-check|Second title|second body$' <<<"$h"; then
    ok "history: one entry for the topic, with the second text"
else
    bad "history after replace" "$h"
fi
if grep -q '^CRITICAL|Second title|halo-check$' "$W/received" 2>/dev/null; then ok "critical urgency received"; else bad "urgency" "$(cat "$W/received" 2>/dev/null)"; fi

# --- markup in the body is shown as text ------------------------------------------------------
out=$("$send" send gpu "Markup test" 'ring <gfx_0.0.0> timeout & <b>no bold</b>' normal)
h=$(desktop_history)
# dunst keeps the body as received: escaped once, and its markup parser accepted it.
if grep -qF 'halo-check|Markup test|ring &lt;gfx_0.0.0&gt; timeout &amp; &lt;b&gt;no bold&lt;/b&gt;' <<<"$h" \
   && ! grep -q "Unable to parse markup" "$W/dunst.log"; then
    ok "markup escaped: & < > sent as entities, dunst parsed the body without errors"
else
    bad "markup" "$h" "$(cat "$W/dunst.log")"
fi
if grep -q '^NORMAL|Markup test|halo-check$' "$W/received"; then ok "normal urgency received"; else bad "normal urgency" "$(cat "$W/received")"; fi

# --- the after-reboot notification, composed from the knowledge base; screenshot -------------
sed -e 's/^"kernel.release" = .*/"kernel.release" = "6.18.3-200.fc43.x86_64"/' \
    -e 's/^"kernel.next_boot.differs" = .*/"kernel.next_boot.differs" = "true"/' \
    "$HALO_SOURCE_DIR/tests/data/facts/broken-kernel-6.18.5-rocm-7.1.1.toml" >"$W/before-reboot.toml"
out=$("$send" reboot "$W/before-reboot.toml" "$W/report.txt")
if grep -q '^summary Rebooting now will break your ROCm engine (llama-rocm-7.1.1)$' <<<"$out"; then ok "after-reboot notification sent"; else bad "reboot" "$out"; fi
sleep 0.5
if command -v import >/dev/null; then
    import -window root "$W/shot.png" && ok "screenshot taken" || bad "import"
    [ -n "${HALO_SCREENSHOT_OUT:-}" ] && cp "$W/shot.png" "$HALO_SCREENSHOT_OUT"
else
    echo "note: imagemagick's import is missing; no screenshot"
fi
h=$(desktop_history)
if grep -q '^halo-check|Rebooting now will break your ROCm engine (llama-rocm-7.1.1)|Kernel 6.18.5-200.fc43 will start. Kernel 6.18.4 and newer crash ROCm images without the gfx1151 fix.\\nFix: Move the engine to an image with the fix.' <<<"$h" \
   && grep -q 'Changed since it last worked (2026-01-12T08:54:03Z):\\nkernel.next_boot.release 6.18.3-200.fc43.x86_64 → 6.18.5-200.fc43.x86_64\\npackage.kernel.evr 6.18.3-200.fc43 → 6.18.5-200.fc43' <<<"$h"; then
    ok "after-reboot text in history"
else
    bad "after-reboot history" "$h"
fi

# --- "Show details": dunst invokes the action, the Notifier's sd-event loop runs xdg-open ------
mkdir "$W/bin"
printf '#!/bin/sh\nprintf "%%s\\n" "$1" > "%s/opened"\n' "$W" >"$W/bin/xdg-open"
chmod +x "$W/bin/xdg-open"
PATH="$W/bin:$PATH" "$send" action "$W/report.txt" 10 >"$W/action.out" & helper=$!
for _ in $(seq 100); do grep -q '^id ' "$W/action.out" && break; sleep 0.05; done
sleep 0.2
dunstctl action 0
wait $helper; rc=$?
if [ $rc -eq 0 ] && grep -q "^action default topic engine" "$W/action.out" && [ "$(cat "$W/opened" 2>/dev/null)" = "$W/report.txt" ]; then
    ok "Show details: ActionInvoked arrived through sd-event, xdg-open got the report path"
else
    bad "action" "rc=$rc" "$(cat "$W/action.out")"
fi
desktop_history >/dev/null

# --- the gate with a server: every event sent, nothing to log --------------------------------
out=$("$send" gate 3)
if [ "$(grep -c '^outcome sent' <<<"$out")" = 3 ] && ! grep -q '^log' <<<"$out"; then ok "gate sends, no log lines"; else bad "gate" "$out"; fi
desktop_history >/dev/null

# --- the server goes away: an error, not a hang -------------------------------------------------
kill "$desktop_dunst_pid"; wait "$desktop_dunst_pid" 2>/dev/null
out=$("$send" send t "after dunst" body normal); rc=$?
if [ $rc -eq 3 ] && grep -q "No desktop notification server answers" <<<"$out"; then ok "server gone: clear error"; else bad "server gone" "rc=$rc" "$out"; fi

exit $fail
