#!/usr/bin/env bash
# `halo-check update --url`: a real HTTPS server on loopback with a test CA made by openssl; a
# good feed, a conditional fetch (the stored ETag as If-None-Match, the stored Last-Modified as
# If-Modified-Since) answered 304 and counted, 404, 500, a server that hangs, a truncated answer
# and a 100 MB answer: exit 3 (not fetched) with the installed knowledge kept. A configuration
# with only [feed] is halo-check's; halo-checkd refuses it, saying what to add.
source "$HALO_SOURCE_DIR/tests/support/assert.sh"
source "$HALO_SOURCE_DIR/tests/support/feed.sh"
for p in openssl python3; do command -v $p >/dev/null || fail "$p is not installed (scripts/install-deps)"; done
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
feed_keys . k
mkdir www
FEED_NAME="https test feed" FEED_RULE_ID="feed.https-rule" FEED_TITLE="Fetched over HTTPS" feed_write www/feed.toml 7
feed_sign www/feed.toml 7 k.key
cat >server.py <<'PY'
import http.server, ssl, sys, time
ETAG, MODIFIED = '"feed-7-3f2a"', "Thu, 01 Jan 2026 00:00:00 GMT"
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def send(self, code, body, length=None, etag=True, modified=True):
        # One line a request: what it asked for, its conditional headers, the answer.
        with open("requests.log", "a") as log:
            log.write("%s inm=%s ims=%s -> %d\n" % (self.path, self.headers.get("If-None-Match"),
                                                    self.headers.get("If-Modified-Since"), code))
        self.send_response(code)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        if etag: self.send_header("ETag", ETAG)
        if modified: self.send_header("Last-Modified", MODIFIED)
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        p = self.path
        # /lm/…: a server that sends Last-Modified only, so the client has only If-Modified-Since.
        lm = p.startswith("/lm/")
        f = p[3:] if lm else p
        if f in ("/feed.toml", "/feed.toml.minisig"):
            if f == "/feed.toml":
                inm, ims = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
                if (inm == ETAG if inm is not None else ims == MODIFIED):
                    return self.send(304, b"", etag=not lm)
            return self.send(200, open("www" + f, "rb").read(), etag=not lm)
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
grep -qx '/feed.toml inm=None ims=None -> 200' requests.log || fail "the first fetch was conditional: $(cat requests.log)"
grep -q '^etag "feed-7-3f2a"$' state/halo-check/feed/http-validators || fail "the ETag was not stored"
: >requests.log
update --url "$base/feed.toml"
expect_rc 0 "304 for the installed version"
expect_out "knowledge feed 7 is current"
[ "$(cat requests.log)" = '/feed.toml inm="feed-7-3f2a" ims=Thu, 01 Jan 2026 00:00:00 GMT -> 304' ] ||
    fail "the second fetch was not one conditional request answered 304: $(cat requests.log)"
checks=$((checks + 1))
# Only Last-Modified from the server: If-Modified-Since alone, and 304.
XDG_STATE_HOME="$tmp/state-lm" update --url "$base/lm/feed.toml"
expect_rc 0 "a feed from a server without ETags installs"
: >requests.log
XDG_STATE_HOME="$tmp/state-lm" update --url "$base/lm/feed.toml"
expect_rc 0 "304 on If-Modified-Since"
expect_out "knowledge feed 7 is current"
[ "$(cat requests.log)" = '/lm/feed.toml inm=None ims=Thu, 01 Jan 2026 00:00:00 GMT -> 304' ] ||
    fail "If-Modified-Since alone was not sent, or not answered 304: $(cat requests.log)"
checks=$((checks + 1))
# The validators belong to the URL they came from: another URL is fetched whole.
: >requests.log
XDG_STATE_HOME="$tmp/state-lm" update --url "$base/feed.toml"
expect_rc 0 "the same feed from another URL is current"
grep -qx '/feed.toml inm=None ims=None -> 200' requests.log || fail "another URL got the old validators"
checks=$((checks + 1))
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
# A configuration with only [feed]: halo-check's own, for a user who runs no daemon.
cat >feed-only.toml <<TOML
[feed]
url = "$base/feed.toml"
ca_file = "$tmp/ca.pem"
trusted_keys = ["$tmp/k.pub"]
TOML
XDG_STATE_HOME="$tmp/state3" run "$HALO_CHECK" update --config feed-only.toml --facts "$facts"
expect_rc 0 "a configuration with only [feed]"
expect_out "installed knowledge feed 7"
XDG_STATE_HOME="$tmp/state3" run "$HALO_CHECK" check --config feed-only.toml --facts "$facts" --no-gpu-ok
[ "$rc" -ne 3 ] || fail "check refused a configuration with only [feed]: $err"
expect_out "knowledge: feed 7"
run "$HALO_CHECK" config validate --config feed-only.toml
expect_rc 0 "config validate accepts [feed] only"
expect_out "halo-checkd needs [engine]"
run "$HALO_BINARY_DIR/halo-checkd" --config feed-only.toml --facts "$facts" --state-dir "$tmp/dstate"
expect_rc 78 "halo-checkd refuses a configuration without [engine]"
expect_err "no [engine] table; halo-checkd needs the engine's command"
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
