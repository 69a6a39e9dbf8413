"""
Scenario: GET /v1/stream, the live feed of findings and actions as
Server-Sent Events, read here with a plain HTTP client while real RADIUS
traffic raises events.  Checked from the outside: an acme token's stream
carries acme's imei_mismatch and the reject that answered it, each with an
id and an event name, the data the same JSON the store has; globex's
stream carries none of it; the platform's carries everything; types= and
kind= narrow the feed; a client that reconnects with Last-Event-ID gets
exactly what it missed, and one whose id the daemon does not know gets an
event "gap" first; bad parameters are 400 problem+json, no token 401; an
open stream does not hold up a clean stop.
"""
import http.client
import json
import socket
import threading
import time

import pytest

from conftest import (FLEET, create_token, free_tcp_port, wait_until)


class Stream:
    """One SSE connection; events are parsed on a thread into a list."""

    def __init__(self, port, token, path="/v1/stream", last_event_id=None):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": "Bearer " + token, "Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.conn.request("GET", path, headers=headers)
        self.resp = self.conn.getresponse()
        self.events = []
        self.comments = []
        self.ended = False
        if self.resp.status == 200:
            self.thread = threading.Thread(target=self._read, daemon=True)
            self.thread.start()

    def _read(self):
        ev = {}
        try:
            while True:
                line = self.resp.fp.readline()
                if not line:
                    break
                line = line.decode().rstrip("\n")
                if line == "":
                    if ev:
                        self.events.append(ev)
                    ev = {}
                elif line.startswith(":"):
                    self.comments.append(line)
                else:
                    k, _, v = line.partition(":")
                    ev[k] = v[1:] if v.startswith(" ") else v
        except (OSError, ValueError):
            pass
        self.ended = True

    def data(self, pred=lambda e, d: True):
        got = [(e, json.loads(e["data"])) for e in list(self.events) if "data" in e]
        return [(e, d) for e, d in got if pred(e, d)] or None

    def close(self):
        try:
            self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()


@pytest.fixture(scope="module")
def api(daemon_factory):
    port = free_tcp_port()
    d = daemon_factory("stream", conf_extra="listen api 127.0.0.1:%d\n" % port)
    d.api_port = port
    d.tokens = {
        "acme": create_token(d, "acme-view", "viewer", "acme"),
        "globex": create_token(d, "globex-view", "viewer", "globex"),
        "root": create_token(d, "root", "platform-admin"),
    }
    return d


def meter():
    return next(s for s in FLEET.values() if s["tenant"] == "acme" and s["imei"])


def foreign_attach(d):
    nas = d.client()
    try:
        assert nas.access(imsi=meter()["imsi"], imeisv="3500000000000001").rejected
    finally:
        nas.close()


def unknown_attach(d, imsi):
    nas = d.client()
    try:
        assert nas.access(imsi=imsi, imeisv="3500000000000101").rejected
    finally:
        nas.close()


def open_stream(api, token, path="/v1/stream", **kw):
    s = Stream(api.api_port, api.tokens[token], path, **kw)
    assert s.resp.status == 200, s.resp.read()
    assert s.resp.getheader("Content-Type") == "text/event-stream"
    wait_until(lambda: s.comments, timeout=5, what="the stream's preamble")
    return s


def test_live_events_in_the_callers_tenant(api):
    acme, globex, root = (open_stream(api, t) for t in ("acme", "globex", "root"))
    actions = open_stream(api, "acme", "/v1/stream?types=action")
    kind = open_stream(api, "root", "/v1/stream?kind=sim_unknown")
    try:
        foreign_attach(api)
        unknown_attach(api, "234159999911111")
        got = wait_until(lambda: acme.data(lambda e, d: d.get("kind") == "imei_mismatch"),
                         timeout=10, what="imei_mismatch on acme's stream")
        ev, finding = got[0]
        assert ev["event"] == "finding" and ev["id"]
        assert finding["subject"] == meter()["iccid"] and finding["tenant"] == "acme"
        stored = [f for f in api.findings(kind="imei_mismatch") if f["id"] == finding["id"]]
        assert stored and stored[0]["evidence"] == finding["evidence"]
        wait_until(lambda: acme.data(lambda e, d: e["event"] == "action" and
                                     d.get("finding_id") == finding["id"]),
                   timeout=10, what="the reject on acme's stream")
        # The platform sees every tenant's events.
        wait_until(lambda: root.data(lambda e, d: d.get("kind") == "sim_unknown"), timeout=10,
                   what="sim_unknown on the platform's stream")
        assert root.data(lambda e, d: d.get("id") == finding["id"])
        # Filters.
        wait_until(lambda: actions.data(), timeout=10, what="an action on the actions stream")
        assert all(e["event"] == "action" for e, _ in actions.data())
        wait_until(lambda: kind.data(), timeout=10, what="sim_unknown on the kind stream")
        assert {d["kind"] for _, d in kind.data()} == {"sim_unknown"}
        # Everything on acme's stream is acme's (the unknown SIM came
        # through acme's GGSN); globex's stream carries nothing at all.
        time.sleep(0.3)
        assert {d["tenant"] for _, d in acme.data()} == {"acme"}
        assert globex.data() is None
        assert api.stats()["api"]["streams_open"] == 5
    finally:
        for s in (acme, globex, root, actions, kind):
            s.close()
    # A closed client is noticed at the keepalives (every 5 s).
    api.stats_when(lambda s: s["api"]["streams_open"] == 0, timeout=20,
                   what="the closed streams forgotten")


def test_resume_with_last_event_id(api):
    s = open_stream(api, "acme")
    try:
        foreign_attach(api)
        got = wait_until(lambda: s.data(lambda e, d: e["event"] == "finding"), timeout=10,
                         what="a finding")
        last = got[-1][0]["id"]
        seen = {d.get("id") for _, d in s.data(lambda e, d: e["event"] == "finding")}
    finally:
        s.close()
    # Missed while away:
    foreign_attach(api)
    api.flush()
    again = open_stream(api, "acme", last_event_id=last)
    try:
        got = wait_until(lambda: again.data(lambda e, d: e["event"] == "finding"), timeout=10,
                         what="the missed finding")
        ids = [d["id"] for _, d in got]
        assert not set(ids) & seen, (ids, seen)     # nothing twice
        assert not [e for e in again.events if e.get("event") == "gap"]
    finally:
        again.close()
    # An id from another boot (or nonsense): a gap first.
    for bogus in ("1-5", "junk"):
        g = open_stream(api, "acme", last_event_id=bogus)
        try:
            wait_until(lambda: [e for e in g.events if e.get("event") == "gap"], timeout=5,
                       what="the gap event")
        finally:
            g.close()


@pytest.mark.parametrize("query, status", [
    ("types=findings", 400), ("types=finding,", 400), ("kind=nonsense", 400),
])
def test_bad_parameters(api, query, status):
    s = Stream(api.api_port, api.tokens["acme"], "/v1/stream?" + query)
    assert s.resp.status == status
    assert s.resp.getheader("Content-Type") == "application/problem+json"
    s.close()


def test_needs_a_token(api):
    s = Stream(api.api_port, "m2mg_1_nonsense")
    assert s.resp.status == 401
    s.close()


def test_open_stream_does_not_hold_up_a_stop(daemon_factory):
    port = free_tcp_port()
    d = daemon_factory("stream-stop", conf_extra="listen api 127.0.0.1:%d\n" % port)
    d.api_port = port
    d.tokens = {"acme": create_token(d, "v", "viewer", "acme")}
    s = open_stream(d, "acme")
    t = time.monotonic()
    assert d.stop() == 0
    assert time.monotonic() - t < 5
    wait_until(lambda: s.ended, timeout=5, what="the stream ended by the server")
    s.close()
