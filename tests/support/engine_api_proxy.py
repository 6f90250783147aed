#!/usr/bin/env python3
"""A proxy in front of the real llama-server that misbehaves on purpose, for engine-check's tests.

engine_api_proxy.py PORT UPSTREAM MODE [DATA_DIR]; prints "ready" once it listens. Everything is
forwarded to UPSTREAM except what MODE changes:
  html        POST /v1/messages answers an HTML page (a misconfigured reverse proxy)
  truncated   a streamed /v1/messages is cut off after its first events
  big         POST /v1/messages answers a 10 MB body
  hang        a streamed /v1/messages sends message_start and then nothing
  prefill400  a request ending in an assistant turn gets the recorded 400 of older builds
  tools400    a request with tools gets the recorded 400 of a template that cannot render them
  billing     the billing-header line of system[0] is rewritten into text the server cannot
              normalise, as a server without the cch= handling sees Claude Code's nonce
"""
import http.server
import json
import re
import socketserver
import sys
import time
import urllib.error
import urllib.request

PORT, UPSTREAM, MODE = int(sys.argv[1]), sys.argv[2].rstrip("/"), sys.argv[3]
DATA = sys.argv[4] if len(sys.argv) > 4 else "."


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def forward(self, body):
        req = urllib.request.Request(UPSTREAM + self.path, data=body, method=self.command)
        for h in ("Authorization", "x-api-key", "Content-Type"):
            if self.headers.get(h):
                req.add_header(h, self.headers[h])
        try:
            up = urllib.request.urlopen(req, timeout=120)
        except urllib.error.HTTPError as e:
            up = e
        self.send_response(up.status if hasattr(up, "status") else up.code)
        self.send_header("Content-Type", up.headers.get("Content-Type", "application/json"))
        self.end_headers()  # HTTP/1.0: the body ends when the connection closes
        while True:
            chunk = up.read1(65536) if hasattr(up, "read1") else up.read(65536)
            if not chunk:
                break
            self.wfile.write(chunk)
            self.wfile.flush()

    def sse_start(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()

    def do_GET(self):
        self.forward(None)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        req = json.loads(body or b"{}")
        messages = self.path == "/v1/messages"
        stream = bool(req.get("stream"))
        if messages and MODE == "html":
            return self.answer(200, "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
                               "text/html")
        if messages and MODE == "big":
            return self.answer(200, '{"pad":"' + "x" * (10 << 20) + '"}')
        if messages and stream and MODE in ("truncated", "hang"):
            self.sse_start()
            self.wfile.write(b'event: message_start\ndata: {"type":"message_start","message":{"id":"m",'
                             b'"type":"message","role":"assistant","content":[]}}\n\n')
            if MODE == "truncated":
                self.wfile.write(b'event: content_block_start\ndata: {"type":"content_block_start","index":0,'
                                 b'"content_block":{"type":"text","text":""}}\n\ndata: {"type":"content_blo')
                self.wfile.flush()
                return
            self.wfile.flush()
            time.sleep(3600)
            return
        if messages and MODE == "prefill400" and req.get("messages", [{}])[-1].get("role") == "assistant":
            return self.answer(400, open(DATA + "/prefill-400.json").read())
        if messages and MODE == "tools400" and req.get("tools"):
            return self.answer(400, open(DATA + "/tools-cannot-render-400.json").read())
        if messages and MODE == "billing" and isinstance(req.get("system"), list) and req["system"]:
            first = req["system"][0].get("text", "")
            req["system"][0]["text"] = re.sub(r"x-anthropic-billing-header:.*cch=([0-9a-f]+);?",
                                              r"session \1", first)
            body = json.dumps(req).encode()
        self.forward(body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


server = Server(("127.0.0.1", PORT), Handler)
print("ready", flush=True)
server.serve_forever()
