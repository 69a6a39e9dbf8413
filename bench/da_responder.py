#!/usr/bin/env python3
"""da_responder.py — the GGSN's side of RFC 5176 for the benchmark.

Listens on 127.0.0.1:PORT, checks each Disconnect-Request / CoA-Request
(Request Authenticator, RFC 5176 §3: MD5 over the packet with a zero
authenticator, then the secret) and answers every valid one with an ACK
(code + 1) carrying a Message-Authenticator and a Response Authenticator,
as a NAS that always finds the session would.  On SIGTERM / SIGINT it
prints one line: "da_responder: received=N answered=M invalid=K".

Usage: da_responder.py --port PORT --secret SECRET
Standard library only.
"""
import argparse
import hashlib
import hmac
import signal
import socket
import struct
import sys

DISCONNECT_REQUEST, COA_REQUEST = 40, 43
ATTR_MESSAGE_AUTHENTICATOR = 80

stop = False


def on_signal(_sig, _frame):
    global stop
    stop = True


def request_ok(raw, secret):
    if len(raw) < 20 or raw[0] not in (DISCONNECT_REQUEST, COA_REQUEST):
        return False
    length = struct.unpack("!H", raw[2:4])[0]
    if length != len(raw):
        return False
    expect = hashlib.md5(raw[:4] + bytes(16) + raw[20:] + secret).digest()
    return hmac.compare_digest(expect, raw[4:20])


def ack(raw, secret):
    hdr = struct.pack("!BBH", raw[0] + 1, raw[1], 20 + 18)
    req_auth = raw[4:20]
    ma = hmac.new(secret, hdr + req_auth + bytes([ATTR_MESSAGE_AUTHENTICATOR, 18]) + bytes(16),
                  hashlib.md5).digest()
    body = bytes([ATTR_MESSAGE_AUTHENTICATOR, 18]) + ma
    return hdr + hashlib.md5(hdr + req_auth + body + secret).digest() + body


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--secret", required=True)
    args = ap.parse_args()
    secret = args.secret.encode()
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind(("127.0.0.1", args.port))
    sock.settimeout(0.2)
    received = answered = invalid = 0
    while not stop:
        try:
            raw, peer = sock.recvfrom(4096)
        except socket.timeout:
            continue
        except InterruptedError:
            continue
        received += 1
        if not request_ok(raw, secret):
            invalid += 1
            continue
        sock.sendto(ack(raw, secret), peer)
        answered += 1
    print("da_responder: received=%d answered=%d invalid=%d" % (received, answered, invalid),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
