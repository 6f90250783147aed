#!/usr/bin/env bash
# `halo-check update --url`: a real HTTPS server on loopback with a test CA made by openssl; a
# good feed, 304 for the installed version (If-None-Match), 404, 500, a server that hangs, a
# truncated answer and a 100 MB answer: exit 3 (not fetched) with the installed knowledge kept.
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
for p in minisign openssl python3; do command -v $p >/dev/null || fail "$p is not installed (scripts/install-deps)"; done
tmp=$(mktemp -d)
server_pid=""
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
export XDG_STATE_HOME="$tmp/state" HOME="$tmp"
unset STATE_DIRECTORY
cd "$tmp"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=halo test CA" \
    2>/dev/null || fail "openssl: CA"
openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj "/CN=127.0.0.1" 2>/dev/null ||
    fail "openssl: server key"
printf 'subjectAltName=IP:127.0.0.1\n' >san.ext
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem -days 2 -extfile san.ext \
    2>/dev/null || fail "openssl: server certificate"
minisign -G -W -p k.pub -s k.key >/dev/null || fail "minisign -G failed"
mkdir www
cat >www/feed.toml <<'TOML'
[feed]
name = "https test feed"
version = 7
published = 2026-01-01T00:00:00Z
expires = 2099-01-01T00:00:00Z
min_halo_check = "0.1"

[[rule]]
id = "feed.https-rule"
severity = "info"
title = "Fetched over HTTPS"
explain = "x"
fix = "y"
links = ["https://example.org"]
since = 2026-01-01
when = { "host.os.id" = "*" }
TOML
minisign -S -s k.key -t "version=7" -m www/feed.toml >/dev/null || fail "minisign -S failed"
cat >server.py <<'PY'
import http.server, ssl, sys, time
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def send(self, code, body, length=None):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.send_header("ETag", '"7"')
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        p = self.path
        if p in ("/feed.toml", "/feed.toml.minisig"):
            if p == "/feed.toml" and self.headers.get("If-None-Match") == '"7"':
                return self.send(304, b"")
            return self.send(200, open("www" + p, "rb").read())
        if p.startswith("/500"): return self.send(500, b"oops")
        if p.startswith("/hang"): time.sleep(30); return
        if p.startswith("/trunc"): return self.send(200, b"[feed]\nname = ", length=5000)
        if p.startswith("/big"):
            self.send_response(200); self.send_header("Content-Length", str(100 << 20)); self.end_headers()
            chunk = b"#" * (1 << 20)
            try:
                for _ in range(100): self.wfile.write(chunk)
            except OSError: pass
            return
        self.send(404, b"no")
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain("srv.pem", "srv.key")
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
PY
python3 server.py >port.txt 2>server.log &
server_pid=$!
for _ in $(seq 50); do [ -s port.txt ] && break; sleep 0.1; done
port=$(cat port.txt)
[ -n "$port" ] || fail "the HTTPS server did not start: $(cat server.log)"
base="https://127.0.0.1:$port"
facts="$DATA/facts/broken-kernel-6.18.5-rocm-7.1.1.toml"
update() { run "$HALO_CHECK" update --trusted-key k.pub --ca-file ca.pem --facts "$facts" --timeout 3 "$@"; }

update --url "$base/feed.toml"
expect_rc 0 "a feed over HTTPS installs"
expect_out "installed knowledge feed 7"
update --url "$base/feed.toml"
expect_rc 0 "304 for the installed version"
expect_out "knowledge feed 7 is current"
run "$HALO_CHECK" update --trusted-key k.pub --facts "$facts" --timeout 3 --url "$base/feed.toml" --allow-downgrade
expect_rc 3 "a server whose CA is not trusted"
# The configuration's [feed] names the URL, the CA and the key.
cat >config.toml <<TOML
[engine]
command = ["/bin/true"]

[feed]
url = "$base/feed.toml"
ca_file = "$tmp/ca.pem"
trusted_keys = ["$tmp/k.pub"]
TOML
XDG_STATE_HOME="$tmp/state2" run "$HALO_CHECK" update --config config.toml --facts "$facts"
expect_rc 0 "[feed] url, ca_file and trusted_keys from the configuration"
expect_out "installed knowledge feed 7"
for case in "404 HTTP 404" "500 HTTP 500" "hang timed out" "trunc $base/trunc" "big larger than"; do
    set -- $case
    update --url "$base/$1" --allow-downgrade
    expect_rc 3 "$1: not fetched"
    expect_err "$2"
    expect_err "the installed knowledge stays"
    [ "$(cat state/halo-check/feed/current)" = 7 ] || fail "$1: the installed feed changed"
    checks=$((checks + 1))
done
done_ok
