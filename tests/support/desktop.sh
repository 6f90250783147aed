# Sourced by tests/integration/notify_dunst.sh, watch_*.sh and bench/watch_daemon_bench.sh: a
# private session bus, Xvfb on a free display and dunst, started here and killed by desktop_stop
# (only these pids). Needs $W (a scratch directory). Sets DBUS_SESSION_BUS_ADDRESS and DISPLAY.
# desktop_start does all three; the steps are separate for tests that need a bus without a
# server or a display first.
desktop_pids=()
desktop_dunst_pid=""
desktop_need() {
    for tool in dbus-daemon Xvfb dunst dunstctl python3; do
        command -v "$tool" >/dev/null || { echo "skip: $tool is not installed (apt install dbus xvfb dunst python3)"; exit 77; }
    done
}
desktop_bus() {
    unset XDG_RUNTIME_DIR DBUS_SESSION_BUS_ADDRESS DISPLAY WAYLAND_DISPLAY
    dbus-daemon --session --fork --print-address=3 --print-pid=4 3>"$W/bus.addr" 4>"$W/bus.pid" || return 1
    export DBUS_SESSION_BUS_ADDRESS=$(cat "$W/bus.addr")
}
desktop_display() {
    local n=$(( 100 + $$ % 400 ))
    while [ -e "/tmp/.X11-unix/X$n" ] || [ -e "/tmp/.X$n-lock" ]; do n=$((n + 1)); done
    Xvfb ":$n" -screen 0 1280x720x24 -nolisten tcp >"$W/xvfb.log" 2>&1 & desktop_pids+=($!)
    for _ in $(seq 100); do [ -S "/tmp/.X11-unix/X$n" ] && break; sleep 0.05; done
    [ -S "/tmp/.X11-unix/X$n" ] || return 1
    export DISPLAY=":$n"
}
# desktop_dunst [EXTRA_DUNSTRC_SECTIONS]: starts dunst and waits until it owns the name.
desktop_dunst() {
    cat >"$W/dunstrc" <<CONF
[global]
    font = DejaVu Sans 13
    width = 760
    height = 400
    origin = top-right
    offset = 12x12
    padding = 12
    horizontal_padding = 14
    frame_width = 2
    markup = full
    format = "<b>%s</b>\n%b"
    word_wrap = yes
    icon_position = off
[urgency_normal]
    background = "#2b2b2b"
    foreground = "#ffffff"
    timeout = 0
[urgency_critical]
    background = "#7a0e0e"
    foreground = "#ffffff"
    frame_color = "#ff5555"
    timeout = 0
${1:-}
CONF
    dunst -config "$W/dunstrc" >"$W/dunst.log" 2>&1 & desktop_pids+=($!)
    desktop_dunst_pid=$!
    for _ in $(seq 100); do
        dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner \
            string:org.freedesktop.Notifications 2>/dev/null | grep -q 'boolean true' && return 0
        sleep 0.05
    done
    return 1
}
desktop_start() {
    desktop_bus && desktop_display && desktop_dunst
}
# The history as "appname|summary|body" lines (bodies with \n for newlines); closes all first.
desktop_history() {
    dunstctl close-all
    sleep 0.2
    dunstctl history | python3 -c '
import json, sys
for group in json.load(sys.stdin)["data"]:
    for n in group:
        print("{}|{}|{}".format(n["appname"]["data"], n["summary"]["data"], n["body"]["data"].replace("\n", "\\n")))'
}
desktop_stop() {
    for p in "${desktop_pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${desktop_pids[@]}"; do wait "$p" 2>/dev/null; done
    [ -s "$W/bus.pid" ] && kill "$(cat "$W/bus.pid")" 2>/dev/null
    desktop_pids=()
}
