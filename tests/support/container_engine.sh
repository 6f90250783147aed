# shellcheck shell=bash disable=SC2034 # CE_* variables are for the sourcing test
# Sourced by integration tests that run the engine the way users do: `toolbox run -c NAME
# llama-server …`, that is `podman exec` into a long-running toolbox container
# (docs/containers-and-killmode.md). It gives such a test:
#
#   ce_enter_private_mounts "$0" "$@"   first line of the test: re-runs it in a private mount
#                          namespace whose /run (and /var/lib/containers, when it exists) are
#                          empty tmpfs, so podman, runc and toolbox write no host state there.
#   ce_setup LLAMA_BIN     a podman that can start containers, state only under $CE_DIR:
#                          storage.conf (vfs), containers.conf (runtime, ulimits, cgroupfs,
#                          tmp_dir); picks an OCI runtime that works here. Returns 1 with the
#                          reason in $CE_WHY when podman cannot run a container at all.
#   ce_create NAME         the image (llama-server, the libraries ldd names, what toolbox needs
#                          inside) imported as $CE_IMAGE; a toolbox container NAME made by the
#                          real `toolbox create` (or `podman create` with toolbox's flags when
#                          toolbox is not installed), started, initialized.
#   ce_engine_argv NAME ARGS…   the engine command as lines: toolbox run -c NAME ARGS… (or
#                          podman exec NAME ARGS…); ce_engine_toml turns them into a TOML array.
#   ce_engine_pids ARGS…   host pids of in-container processes whose command line is exactly ARGS
#                          (the container runs with --pid host, as toolbox's do).
#   ce_cleanup             podman rm -f every container, kill what is left in the namespace.
#
# Needs root (CI runs as root; rootless podman is a different setup, see the doc), podman,
# runc or crun, util-linux's unshare, python3. The engine's home inside the container is
# $CE_HOME, which toolbox mounts at the same path: put models there.

CE_IMAGE="docker.io/kyuz0/amd-strix-halo-toolboxes:vulkan-radv"
CE_DIR=""
CE_HOME=""
CE_WHY=""
CE_VIA=""          # toolbox | podman: how the engine is launched
CE_RUNTIME=""      # the OCI runtime that started a container here
CE_NAMES=()        # containers this test created
# Milliseconds of import, create and start+init, for the caller's report.
CE_T_IMPORT=0 CE_T_CREATE=0 CE_T_START=0

_ce_now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ce_enter_private_mounts SCRIPT ARGS…: exec's the test again under unshare. Everything the test
# starts (halo-checkd, toolbox, podman, conmon, the engine) lives in that namespace, which is
# how ce_cleanup finds leftovers without guessing by name.
ce_enter_private_mounts() {
    [ -n "${HALO_CE_PRIVATE:-}" ] && return 0
    [ "$(id -u)" -eq 0 ] || return 0           # ce_setup says why it cannot run
    command -v unshare >/dev/null || return 0
    export HALO_CE_PRIVATE=1
    exec unshare --mount --propagation private -- bash "$@"
}

_ce_private_mounts() {
    [ -n "${HALO_CE_PRIVATE:-}" ] || return 0
    # An empty /run: runc's state (/run/runc), libpod's (/run/libpod), toolbox's stamps and
    # lock (/run/toolbox) and crun's stay in this namespace. It also hides the host's D-Bus and
    # systemd sockets, which none of this may use.
    local run_host; run_host=$(readlink /run/host 2>/dev/null)
    mount -t tmpfs -o mode=755 halo-ce-run /run || { CE_WHY="cannot mount a tmpfs on /run"; return 1; }
    # Debian's toolbox binary asks for /run/host/lib/…/ld-linux-x86-64.so.2 as its ELF
    # interpreter (the host's loader, also inside containers); its tmpfiles.d makes /run/host a
    # link to /.
    if [ -n "$run_host" ]; then ln -s "$run_host" /run/host; fi
    # podman import writes a blob-info cache to /var/lib/containers/cache whatever --root says.
    if [ -d /var/lib/containers ]; then mount -t tmpfs -o mode=700 halo-ce-varlib /var/lib/containers; fi
    # toolbox mounts the user's home (from passwd, not $HOME) into the container and runs a login
    # shell there: give root a home of our own so no real dotfile is read.
    sed "s#^\(root:[^:]*:0:[^:]*:[^:]*:\)[^:]*\(:.*\)\$#\1$CE_HOME\2#" /etc/passwd >"$CE_DIR/passwd"
    mount --bind "$CE_DIR/passwd" /etc/passwd
}

# _ce_limit HARD CAP: the smaller of a hard limit (may be "unlimited") and CAP.
_ce_limit() { if [ "$1" = unlimited ] || [ "$1" -gt "$2" ]; then echo "$2"; else echo "$1"; fi; }

_ce_write_conf() {
    # Rootful podman 4.3 asks for RLIMIT_NOFILE 1048576 (also for toolbox's `--ulimit host`) and
    # lowers its own RLIMIT_NPROC to 32768 before starting the runtime; without
    # CAP_SYS_RESOURCE the runtime can then neither raise NOFILE nor set NPROC above 32768
    # ("setrlimit RLIMIT_NOFILE: Operation not permitted"). Limits at or below both work.
    local nofile nproc
    nofile=$(_ce_limit "$(ulimit -Hn)" 1048576)
    nproc=$(_ce_limit "$(ulimit -Hu)" 32768)
    local runtime_line=""
    if [ -n "$CE_RUNTIME" ]; then runtime_line="runtime = \"$CE_RUNTIME\""; fi
    cat >"$CE_DIR/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$CE_DIR/storage"
runroot = "$CE_DIR/runroot"
EOF
    cat >"$CE_DIR/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
$runtime_line
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$CE_DIR/libpod-tmp"
volume_path = "$CE_DIR/volumes"
EOF
}

# _ce_copy_binary ROOTFS PATH: the binary into /usr/bin and every library ldd names, at the
# path ldd gives (the dynamic loader included).
_ce_copy_binary() {
    local root=$1 bin=$2 lib
    cp -L "$bin" "$root/usr/bin/" || return 1
    for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*'); do
        mkdir -p "$root$(dirname "$lib")"
        [ -e "$root$lib" ] || cp -L "$lib" "$root$lib" || return 1
    done
}

_ce_build_image() {
    local root="$CE_DIR/rootfs" tool path
    rm -rf "$root"
    mkdir -p "$root"/{usr/bin,etc,tmp,run,proc,sys,dev,root,var/tmp,home,media,mnt}
    ln -s usr/bin "$root/bin"
    ln -s usr/bin "$root/sbin"
    ln -s bin "$root/usr/sbin"
    chmod 1777 "$root/tmp" "$root/var/tmp"
    _ce_copy_binary "$root" "$CE_LLAMA" || { CE_WHY="cannot copy $CE_LLAMA into the image"; return 1; }
    # What podman exec needs is only the binary it runs. toolbox run needs capsh and bash
    # (it runs `capsh --caps= -- --login -c 'exec "$@"' bash CMD…`); toolbox init-container
    # runs usermod, passwd and mount. sleep is the entry point without toolbox; ps, kill, cat
    # and true are for looking inside.
    for tool in bash sh capsh usermod passwd mount sleep ps kill cat true; do
        path=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin type -P "$tool") || continue
        _ce_copy_binary "$root" "$path" || { CE_WHY="cannot copy $path into the image"; return 1; }
    done
    # root's home as the host's passwd (in the private namespace) gives it: toolbox
    # init-container runs usermod --home with it, and usermod refuses to change the home of a
    # user that has processes (with --pid host it sees all of the host's).
    printf 'root:x:0:0:root:%s:/bin/bash\n' "$(getent passwd 0 | cut -d: -f6)" >"$root/etc/passwd"
    printf 'root:x:0:\nwheel:x:10:\n' >"$root/etc/group"        # init-container needs a sudo group
    printf 'root:*:19000:0:99999:7:::\n' >"$root/etc/shadow"
    printf 'root:*::\nwheel:*::\n' >"$root/etc/gshadow"
    chmod 600 "$root/etc/shadow" "$root/etc/gshadow"
    tar -C "$root" -cf "$CE_DIR/rootfs.tar" . || return 1
    podman import -q --change 'LABEL com.github.containers.toolbox=true' \
        "$CE_DIR/rootfs.tar" "$CE_IMAGE" >/dev/null 2>"$CE_DIR/import.err" ||
        { CE_WHY="podman import failed: $(tail -1 "$CE_DIR/import.err")"; return 1; }
    rm -rf "$root" "$CE_DIR/rootfs.tar"
}

# _ce_try_runtime RUNTIME: can it start a container here (with --pid host, as toolbox's are)?
_ce_try_runtime() {
    podman run --rm --runtime "$1" --network host --pid host "$CE_IMAGE" true >/dev/null 2>"$CE_DIR/run-$1.err"
}

# ce_setup LLAMA_BIN: 0 when a container can be started; else 1 with $CE_WHY.
ce_setup() {
    CE_LLAMA=$1
    if [ "$(id -u)" -ne 0 ]; then CE_WHY="needs root (rootless podman is not set up by this helper)"; return 1; fi
    command -v podman >/dev/null || { CE_WHY="podman is not installed (scripts/install-deps test)"; return 1; }
    command -v python3 >/dev/null || { CE_WHY="python3 is not installed"; return 1; }
    CE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/halo-ce.XXXXXX") || return 1
    CE_HOME="$CE_DIR/home"
    mkdir -p "$CE_HOME" "$CE_DIR/xdg" && chmod 700 "$CE_DIR/xdg"
    _ce_private_mounts || return 1
    export CONTAINERS_STORAGE_CONF="$CE_DIR/storage.conf" CONTAINERS_CONF="$CE_DIR/containers.conf"
    export XDG_RUNTIME_DIR="$CE_DIR/xdg" HOME="$CE_HOME" XDG_CONFIG_HOME="$CE_HOME/.config"
    export XDG_DATA_HOME="$CE_HOME/.local/share"
    # toolbox create takes the user's shell from the environment's $SHELL and refuses without
    # it. A CI runner may start the tests with none; bash then sets SHELL from passwd but does
    # not export it.
    export SHELL="${SHELL:-$(getent passwd "$(id -un)" | cut -d: -f7)}"
    # toolbox create mounts the D-Bus system socket and refuses when there is none; the private
    # /run has none, so point it at a file of ours.
    : >"$CE_DIR/system_bus_socket"
    export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$CE_DIR/system_bus_socket"
    _ce_write_conf
    local t0; t0=$(_ce_now_ms)
    _ce_build_image || return 1
    CE_T_IMPORT=$(( $(_ce_now_ms) - t0 ))
    # The configured default first (crun on Debian), then the others installed.
    local default r; default=$(podman info --format '{{.Host.OCIRuntime.Name}}' 2>/dev/null)
    CE_TRIED=""
    for r in $default crun runc; do
        case " $CE_TRIED " in *" $r "*) continue ;; esac
        command -v "$r" >/dev/null || continue
        CE_TRIED="$CE_TRIED $r"
        if _ce_try_runtime "$r"; then CE_RUNTIME=$r; break; fi
    done
    if [ -z "$CE_RUNTIME" ]; then
        CE_WHY="no OCI runtime can start a container here:"
        for r in $CE_TRIED; do CE_WHY="$CE_WHY $r: $(tail -1 "$CE_DIR/run-$r.err");"; done
        return 1
    fi
    _ce_write_conf
    if command -v toolbox >/dev/null; then CE_VIA=${HALO_CE_VIA:-toolbox}; else CE_VIA=podman; fi
    return 0
}

# ce_create NAME: a started, initialized toolbox container. Sets CE_T_CREATE and CE_T_START (ms).
ce_create() {
    local name=$1 t0 pid
    t0=$(_ce_now_ms)
    if [ "$CE_VIA" = toolbox ]; then
        # The real thing: toolbox's own podman create flags (--network host --pid host
        # --privileged --userns host --ulimit host, / at /run/host, $HOME, /dev, …) and its
        # entry point, `toolbox init-container`. Run from $CE_HOME: toolbox passes its working
        # directory to podman exec.
        (cd "$CE_HOME" && toolbox -y create -i "$CE_IMAGE" "$name") >"$CE_DIR/create.log" 2>&1 ||
            { CE_WHY="toolbox create failed: $(tail -1 "$CE_DIR/create.log")"; return 1; }
    else
        # toolbox 0.0.99.3's flags (src/cmd/create.go), minus its entry point.
        podman create -q --dns none --hostname toolbox --ipc host \
            --label com.github.containers.toolbox=true --name "$name" --network host --no-hosts \
            --pid host --privileged --security-opt label=disable --ulimit host --userns host \
            --user root:root --volume /dev:/dev:rslave --volume "$CE_HOME:$CE_HOME:rslave" \
            "$CE_IMAGE" sleep infinity >/dev/null 2>"$CE_DIR/create.log" ||
            { CE_WHY="podman create failed: $(tail -1 "$CE_DIR/create.log")"; return 1; }
    fi
    CE_NAMES+=("$name")
    CE_T_CREATE=$(( $(_ce_now_ms) - t0 ))
    t0=$(_ce_now_ms)
    podman start "$name" >/dev/null 2>"$CE_DIR/start.log" ||
        { CE_WHY="podman start failed: $(tail -1 "$CE_DIR/start.log")"; return 1; }
    if [ "$CE_VIA" = toolbox ]; then
        # What toolbox run waits for (it polls once a second): the entry point's stamp.
        pid=$(podman inspect -f '{{.State.Pid}}' "$name")
        for _ in $(seq 300); do
            [ -e "/run/toolbox/container-initialized-$pid" ] && break
            sleep 0.05
        done
        [ -e "/run/toolbox/container-initialized-$pid" ] ||
            { CE_WHY="toolbox init-container did not finish: $(podman logs "$name" 2>&1 | tail -2)"; return 1; }
    fi
    CE_T_START=$(( $(_ce_now_ms) - t0 ))
}

# ce_engine_argv NAME ARGS…: the engine command, one argument per line.
ce_engine_argv() {
    local name=$1; shift
    if [ "$CE_VIA" = toolbox ]; then printf '%s\n' toolbox run -c "$name" "$@"
    else printf '%s\n' podman exec "$name" "$@"; fi
}

# ce_engine_toml NAME ARGS…: the same as a TOML array of strings.
ce_engine_toml() {
    ce_engine_argv "$@" | python3 -c 'import json,sys; print(json.dumps([l.rstrip("\n") for l in sys.stdin]))'
}

# ce_engine_pids ARGS…: host pids whose command line is exactly ARGS (NUL-separated).
ce_engine_pids() {
    python3 - "$@" <<'PY'
import os, sys
want = "\0".join(sys.argv[1:]) + "\0"
for p in os.listdir("/proc"):
    if not p.isdigit():
        continue
    try:
        cmd = open(f"/proc/{p}/cmdline", "rb").read().decode(errors="replace")
        state = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        continue
    if cmd == want and state != "Z":
        print(p)
PY
}

# ce_alive PID: exists and is not a zombie (an orphan's zombie lingers until init reaps it).
ce_alive() {
    local s
    s=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null)
    [ -n "$s" ] && [ "$s" != Z ]
}

# ce_in_container PID NAME: the process is in NAME's cgroup (libpod-<id> with either manager).
ce_in_container() {
    local id; id=$(podman inspect -f '{{.Id}}' "$2" 2>/dev/null) || return 1
    grep -q "libpod-$id" "/proc/$1/cgroup" 2>/dev/null
}

# _ce_our_pids: what this test started, one pid a line: the processes in this mount namespace
# (when it is a private one) and those in the test's containers' cgroups (an exec'd engine is in
# the latter only: it has the container's mount namespace).
_ce_our_pids() {
    local me ids="" n p
    me=$(readlink /proc/self/ns/mnt)
    for n in "${CE_NAMES[@]}"; do ids="$ids $(podman inspect -f '{{.Id}}' "$n" 2>/dev/null)"; done
    for p in /proc/[0-9]*; do
        if [ -n "${HALO_CE_PRIVATE:-}" ] && [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$me" ]; then
            echo "${p#/proc/}"
            continue
        fi
        for n in $ids; do
            if grep -q "libpod-$n" "$p/cgroup" 2>/dev/null; then echo "${p#/proc/}"; break; fi
        done
    done
}

# ce_tree: the process tree of what this test started.
ce_tree() {
    local pids; pids=$(_ce_our_pids | paste -sd, -)
    ps -o pid,ppid,pgid,sid,stat,args --forest -p "$pids" 2>/dev/null |
        grep -v -e ' ps -o ' -e ' grep -q ' -e 'readlink' -e ' paste -sd' | cut -c1-220
}

ce_cleanup() {
    [ -n "$CE_DIR" ] || return 0
    local n pid
    # Everything this test started, the engines in the containers included (an exec session of
    # a --pid host container can outlive its client and its conmon), except this shell: it is
    # the namespace's first process (unshare exec'd it).
    for pid in $(_ce_our_pids); do
        [ "$pid" = "$$" ] || kill -KILL "$pid" 2>/dev/null
    done
    for n in "${CE_NAMES[@]}"; do podman rm -f -t 0 "$n" >/dev/null 2>&1; done
    # podman rm started its own helpers (conmon's exit command): once more.
    for pid in $(_ce_our_pids); do
        [ "$pid" = "$$" ] || kill -KILL "$pid" 2>/dev/null
    done
    rm -rf "$CE_DIR"
    CE_DIR=""
}
