#!/usr/bin/python3
"""make demo's webhook receiver: one line per POST in OUT, after checking
the signature (M2MG-Signature = v1=HMAC-SHA256(secret, "<ts>.<body>")) and
the timestamp, as docs/operator-guide.md tells a receiver to.
Usage: demo-receiver.py PORT SECRET-FILE OUT"""
import hashlib
import hmac
import http.server
import json
import sys
import time

port, secret_file, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        secret = open(secret_file).read().strip().encode()
        ts = self.headers.get("M2MG-Timestamp", "0")
        want = "v1=" + hmac.new(secret, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        ok = (hmac.compare_digest(self.headers.get("M2MG-Signature", ""), want)
              and abs(time.time() - int(ts)) < 300)
        ev = json.loads(body)
        with open(out, "a") as f:
            f.write("%s %s %s %s (delivery %s)\n" % (
                "signature ok " if ok else "BAD SIGNATURE", ev.get("type"), ev.get("kind", ""),
                ev.get("subject", ev.get("target", "")), self.headers.get("Idempotency-Key")))
        self.send_response(204 if ok else 401)
        self.end_headers()

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
