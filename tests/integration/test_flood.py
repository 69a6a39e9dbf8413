"""
Scenario: a flood of junk and of valid-looking but wrong requests, while a
legitimate NAS keeps asking (docs/hardening.md, "Limits a peer controls").

For FLOOD_S seconds, UDP_SENDERS processes send as fast as they can, to
the authentication and accounting ports: truncated packets, a Length
field longer than the datagram, attributes with a bad length or running
off the end, Access-Requests signed with the wrong secret (bad
Message-Authenticator) or without one, an accounting code on the
authentication port, Accounting-Requests with a bad authenticator, and
well-formed requests from an address that is no client.  API_SENDERS
processes send malformed HTTP (bad version, header without a colon, an
over-long URI) and requests with a wrong token to the HTTP API.

Meanwhile a legitimate GGSN sends Access-Requests for provisioned SIMs,
retransmitting each up to LEGIT_TRIES times: at least LEGIT_SHARE of them
must be answered.  The daemon outruns what Python can send here, so it is
stopped (SIGSTOP) for STALL_S in the middle, as a daemon starved of CPU
would be: its receive buffers overflow and the kernel drops datagrams.  The daemon's memory (VmRSS) must stay within
RSS_GROWTH_KB of what it was before.  And every datagram must be
accounted for: what the senders sent = what the workers received + what
the kernel dropped on the daemon's sockets (radius.socket_drops); what
was received = answered + dropped by reason; each reason's drops match
what was sent of that kind, up to the kernel's drops.  On the API, each
malformed request answered by libmicrohttpd is counted in
api.http_errors, each wrong token in api.auth_failures or api.throttled.

A second scenario holds API_CONNECTIONS_PER_ADDRESS + 8 idle connections
from one address: 8 are refused and counted (api.connections_refused).
"""
import multiprocessing
import os
import signal
import socket
import struct
import threading
import time
from collections import Counter

import pytest
import requests

from conftest import (ACCESS_REQUEST, ACCOUNTING_REQUEST, ACCT_START, FLEET, AcctClient,
                      RadiusClient, acct_listen_line, create_token, free_tcp_port, imeisv_of,
                      sanitizer_runtime, wait_until)

FLOOD_S = 12
UDP_SENDERS = 3
API_SENDERS = 1
LEGIT_INTERVAL_S = 0.02
LEGIT_TRIES = 4
LEGIT_TIMEOUT_S = 0.5
LEGIT_SHARE = 0.90
STALL_S = 1.0
# Generous: the flood must not make memory grow with what it sends.  A
# sanitizer build keeps freed memory in quarantine (up to 256 MiB).
RSS_GROWTH_KB = (384 if sanitizer_runtime() else 64) * 1024
API_CONNECTIONS_PER_ADDRESS = 64        # src/api/api.h
WRONG_SECRET = b"not-the-secret-of-this-client-0000"
STRANGER = "127.0.0.2"                  # no client block covers it
SIMS = [imsi for imsi, row in FLEET.items() if row["group"] == "meters"][:8]


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    api_port = free_tcp_port()
    d = daemon_factory("flood", conf_extra=acct_listen_line()
                       + "listen api 127.0.0.1:%d\n" % api_port)
    d.api_port = api_port
    return d


# ---------------------------------------------------------------- junk

def header(code, ident, length, auth=None):
    return struct.pack("!BBH", code, ident, length) + (auth or os.urandom(16))


def junk_kinds(daemon):
    """kind -> (port, source address, [datagrams], the drop reason it must
    be counted under).  Several variants of each (identifiers and
    authenticators differ), built once."""
    auth, acct = daemon.port, daemon.acct_port
    good = daemon.client()
    wrong = daemon.client(secret=WRONG_SECRET)
    acct_wrong = AcctClient(acct, secret=WRONG_SECRET)
    try:
        attrs = good.access_attrs(imsi=SIMS[0], imeisv=imeisv_of(FLEET[SIMS[0]]["imei"]),
                                  plmn="23415")
        kinds = {
            "short": (auth, "127.0.0.1", [os.urandom(n) for n in range(1, 20)], "short_packet"),
            "length_past_end": (auth, "127.0.0.1",
                                [header(ACCESS_REQUEST, i, 400) + os.urandom(40)
                                 for i in range(16)], "bad_length"),
            "attribute_length": (auth, "127.0.0.1",
                                 [header(ACCESS_REQUEST, i, 26) + bytes([1, 1, 0, 0, 0, 0])
                                  for i in range(16)], "attr_bad_length"),
            "attribute_past_end": (auth, "127.0.0.1",
                                   [header(ACCESS_REQUEST, i, 25) + bytes([1, 9, 65, 65, 65])
                                    for i in range(16)], "attr_bad_length"),
            "attribute_header_cut": (auth, "127.0.0.1",
                                     [header(ACCESS_REQUEST, i, 21) + bytes([1])
                                      for i in range(16)], "attr_truncated"),
            "wrong_message_authenticator": (auth, "127.0.0.1",
                                            [wrong.build(attrs=attrs) for _ in range(16)],
                                            "ma_bad"),
            "no_message_authenticator": (auth, "127.0.0.1",
                                         [good.build(attrs=attrs, ma=False) for _ in range(16)],
                                         "ma_missing"),
            "accounting_on_auth_port": (auth, "127.0.0.1",
                                        [good.build(code=ACCOUNTING_REQUEST, attrs=attrs)
                                         for _ in range(16)], "bad_code"),
            "stranger_auth": (auth, STRANGER, [good.build(attrs=attrs) for _ in range(16)],
                              "unknown_client"),
            "wrong_acct_authenticator": (acct, "127.0.0.1",
                                         [acct_wrong.build_acct(ACCT_START, session_id="f%d" % i,
                                                                imsi=SIMS[1])
                                          for i in range(16)], "authenticator_bad"),
            "short_acct": (acct, "127.0.0.1", [os.urandom(n) for n in range(4, 20)],
                           "short_packet"),
            "stranger_acct": (acct, STRANGER,
                              [acct_wrong.build_acct(ACCT_START, session_id="s%d" % i,
                                                     imsi=SIMS[1]) for i in range(16)],
                              "unknown_client"),
        }
    finally:
        good.close()
        wrong.close()
        acct_wrong.close()
    return kinds


def udp_sender(kinds, duration, results):
    """As fast as it can until `duration` is over: every kind in turn, one
    variant after the other.  Reports what it sent, by kind."""
    socks = {}
    for _, source, _, _ in kinds.values():
        if source not in socks:
            socks[source] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            socks[source].bind((source, 0))
    plan = []
    for kind, (port, source, datagrams, _) in kinds.items():
        for raw in datagrams:
            plan.append((socks[source], ("127.0.0.1", port), raw, kind))
    sent = Counter()
    end = time.monotonic() + duration
    while time.monotonic() < end:
        for sock, dest, raw, kind in plan:
            sock.sendto(raw, dest)      # blocking: on loopback nothing is lost here
            sent[kind] += 1
    results.put(("udp", dict(sent)))


API_JUNK = [
    (b"GARBAGE / HTTP/9.9\r\n\r\n", "http_error"),
    (b"GET /v1/sims HTTP/1.1\r\nHost: m2mguard\r\nNo colon in this header\r\n\r\n", "http_error"),
    # Longer than a connection's memory (128 KiB): 414 from libmicrohttpd.
    (b"GET /" + b"A" * 140000 + b" HTTP/1.1\r\nHost: m2mguard\r\n\r\n", "http_error"),
    (b"GET /v1/sims HTTP/1.1\r\nHost: m2mguard\r\nAuthorization: Bearer m2mg_1_wrong\r\n"
     b"Connection: close\r\n\r\n", "wrong_token"),
]


def api_sender(port, duration, results):
    """One connection at a time from STRANGER (its wrong tokens get it
    throttled, not the test's own address): a junk request, its status
    line, close."""
    seen = Counter()
    end = time.monotonic() + duration
    i = 0
    while time.monotonic() < end:
        raw, kind = API_JUNK[i % len(API_JUNK)]
        i += 1
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=3,
                                          source_address=(STRANGER, 0)) as s:
                s.sendall(raw)
                status = s.recv(64).split(b" ")[1:2]
        except OSError:
            seen["no_answer"] += 1
            continue
        seen["%s %s" % (kind, status[0].decode() if status else "-")] += 1
    results.put(("api", dict(seen)))


class LegitNas(threading.Thread):
    """The GGSN that must keep being served: one Access-Request after the
    other, each retransmitted (the same datagram) up to LEGIT_TRIES times."""

    def __init__(self, daemon):
        super().__init__(daemon=True)
        self.client = RadiusClient(daemon.port, secret=daemon.secret, timeout=LEGIT_TIMEOUT_S)
        self.requests = self.answered = self.datagrams = 0
        self.errors = []
        self.stop_event = threading.Event()

    def run(self):
        try:
            while not self.stop_event.is_set():
                imsi = SIMS[self.requests % len(SIMS)]
                raw = self.client.build(attrs=self.client.access_attrs(
                    imsi=imsi, imeisv=imeisv_of(FLEET[imsi]["imei"]), plmn="23415"))
                self.requests += 1
                for _ in range(LEGIT_TRIES):
                    self.datagrams += 1
                    if self.client.exchange(raw) is not None:
                        self.answered += 1
                        break
                time.sleep(LEGIT_INTERVAL_S)
        except Exception as e:      # reported by the test
            self.errors.append(e)

    def finish(self):
        self.stop_event.set()
        self.join(10)
        self.client.close()
        assert not self.errors, self.errors


def rss_kb(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def settled(daemon):
    """Stats once the workers have read everything queued: `received` and
    the kernel's drops stop moving, and every datagram read is answered or
    dropped."""
    last = [None]

    def check():
        s = daemon.stats()
        r = s["radius"]
        key = (r["received"], r["socket_drops"])
        done = last[0] == key and r["received"] == r["answered"] + sum(r["dropped"].values())
        last[0] = key
        return s if done else None
    return wait_until(check, timeout=20, interval=0.3, what="the flood to drain")


def delta(after, before):
    return {k: after[k] - before[k] for k in after}


def test_a_flood_is_counted_and_the_legitimate_nas_is_served(daemon):
    kinds = junk_kinds(daemon)
    token = create_token(daemon, "flood-check", "viewer", "acme")
    before = settled(daemon)
    rss_before = rss_kb(daemon.proc.pid)

    legit = LegitNas(daemon)
    legit.start()
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    procs = [ctx.Process(target=udp_sender, args=(kinds, FLOOD_S, results))
             for _ in range(UDP_SENDERS)]
    procs += [ctx.Process(target=api_sender, args=(daemon.api_port, FLOOD_S, results))
              for _ in range(API_SENDERS)]
    for p in procs:
        p.start()
    # The daemon keeps up with what Python can send on this machine; to see
    # what happens when it cannot, it stops for STALL_S in the middle of the
    # flood (as if starved of CPU): its receive buffers overflow, and the
    # legitimate NAS must get through with its retransmissions.
    time.sleep(FLOOD_S / 2)
    os.kill(daemon.proc.pid, signal.SIGSTOP)
    try:
        time.sleep(STALL_S)
    finally:
        os.kill(daemon.proc.pid, signal.SIGCONT)
    sent, api_seen = Counter(), Counter()
    for _ in procs:
        what, counts = results.get(timeout=FLOOD_S + 60)
        (sent if what == "udp" else api_seen).update(counts)
    for p in procs:
        p.join(10)
        assert p.exitcode == 0, p
    legit.finish()

    after = settled(daemon)
    rss_after = rss_kb(daemon.proc.pid)
    r0, r1 = before["radius"], after["radius"]
    received = r1["received"] - r0["received"]
    answered = r1["answered"] - r0["answered"]
    kernel = r1["socket_drops"] - r0["socket_drops"]
    dropped = Counter(delta(r1["dropped"], r0["dropped"]))
    flood_total = sum(sent.values())
    report = ("sent %s (%d in all) + %d legitimate datagrams; received %d, answered %d, "
              "dropped %s, kernel drops %d; legitimate %d/%d answered; RSS %d -> %d kB; "
              "API %s" % (dict(sent), flood_total, legit.datagrams, received, answered,
                          {k: v for k, v in dropped.items() if v}, kernel, legit.answered,
                          legit.requests, rss_before, rss_after, dict(api_seen)))
    print(report)

    # Many times what the legitimate NAS sends, and it is still served.
    assert flood_total > 20 * legit.datagrams, report
    assert kernel > 0, "the stall did not overflow the receive buffers: " + report
    assert legit.requests > 0 and legit.answered >= LEGIT_SHARE * legit.requests, report

    # Every datagram is accounted for: read by a worker, or dropped by the
    # kernel on the daemon's sockets (counted there).
    assert received + kernel == flood_total + legit.datagrams, report
    assert received == answered + sum(dropped.values()), report
    # Only the legitimate NAS is answered (duplicates from the cache included).
    assert legit.answered <= answered <= legit.datagrams, report
    # Each kind under its reason: all of it, but for what the kernel dropped.
    expected = Counter()
    for kind, n in sent.items():
        expected[kinds[kind][3]] += n
    for reason, n in expected.items():
        assert n - kernel <= dropped[reason] <= n, (reason, report)
    unexpected = {k: v for k, v in dropped.items() if v and k not in expected}
    assert not unexpected, (unexpected, report)

    assert rss_after - rss_before <= RSS_GROWTH_KB, report

    # The API: every malformed request answered by libmicrohttpd is counted,
    # every wrong token too (401, then 429 once the address is throttled).
    a0, a1 = before["api"], after["api"]
    http_errors = sum(n for k, n in api_seen.items() if k.startswith("http_error "))
    wrong_token = sum(n for k, n in api_seen.items() if k.startswith("wrong_token "))
    assert http_errors > 0 and wrong_token > 0, report
    assert not [k for k in api_seen if k.startswith("http_error ") and
                k.split()[1] not in ("400", "414", "505")], report
    assert not [k for k in api_seen if k.startswith("wrong_token ") and
                k.split()[1] not in ("401", "429")], report
    assert a1["http_errors"] - a0["http_errors"] == http_errors, report
    assert (a1["auth_failures"] - a0["auth_failures"]) + (a1["throttled"] - a0["throttled"]) \
        == wrong_token, report
    assert a1["connections_open"] == 0, report
    # And it still serves a valid token.
    r = requests.get("http://127.0.0.1:%d/v1/sims?limit=1" % daemon.api_port,
                     headers={"Authorization": "Bearer " + token}, timeout=10)
    assert r.status_code == 200, r.text


def test_connections_beyond_the_per_address_limit_are_refused_and_counted(daemon):
    before = daemon.stats()["api"]
    extra = 8
    conns = []
    try:
        for _ in range(API_CONNECTIONS_PER_ADDRESS + extra):
            conns.append(socket.create_connection(("127.0.0.1", daemon.api_port), timeout=5))
        s = daemon.stats_when(lambda s: s["api"]["connections_refused"]
                              - before["connections_refused"] >= extra,
                              timeout=10, what="%d refused connections" % extra)["api"]
        assert s["connections_refused"] - before["connections_refused"] == extra, s
        assert s["connections_open"] == API_CONNECTIONS_PER_ADDRESS, s
    finally:
        for c in conns:
            c.close()
    daemon.stats_when(lambda s: s["api"]["connections_open"] == 0, timeout=10,
                      what="the idle connections closed")
