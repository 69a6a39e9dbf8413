"""
Scenario: a tenant's webhooks, driven through the API with requests, and a
receiver written here (Python's http.server on a loopback port) that can
fail, stall, and then accept.

Real traffic raises the events: an attach of acme's meter from a foreign
device (imei_mismatch, and the reject it answers).  Checked from the
outside: the secret is shown once and never again (not by GET, not in the
audit trail or the daemon's log); each delivery carries the event JSON, an
HMAC-SHA256 signature over "<timestamp>.<body>" that verifies with the
secret, and an Idempotency-Key that stays the same across attempts; the
filter and min_severity decide what is sent; a receiver that answers 500,
then stalls past the timeout, then accepts gets the event once accepted,
after three attempts, visible in GET /v1/webhooks/{id}/deliveries; a
receiver that never answers is given up after webhook-attempts; an event
whose webhook was down survives a daemon restart in the outbox and is
delivered afterwards; a full outbox drops and counts; another tenant can
neither see, change, ping, nor hear acme's webhooks; bad input is a 4xx
problem+json.
"""
import hashlib
import hmac
import http.server
import json
import sqlite3
import threading
import time

import pytest
import requests

from conftest import (FLEET, create_token, free_tcp_port, imeisv_of, wait_until)

FAST_RETRIES = ("webhook-timeout 1000\nwebhook-backoff-min 100\nwebhook-backoff-max 400\n")


class Receiver:
    """An HTTP endpoint that records each POST and answers from a script:
    a list of ("status", code) / ("stall", seconds) steps, then 204."""

    def __init__(self, port=None):
        self.port = port or free_tcp_port()
        self.requests = []
        self.script = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with outer.lock:
                    outer.requests.append({"headers": dict(self.headers), "body": body,
                                           "t": time.monotonic()})
                    step = outer.script.pop(0) if outer.script else ("status", 204)
                if step[0] == "stall":
                    time.sleep(step[1])
                    step = ("status", 200)
                try:
                    self.send_response(step[1])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass        # the sender gave up waiting

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d/hook" % self.port

    def events(self, pred=lambda e: True):
        with self.lock:
            got = [(r, json.loads(r["body"])) for r in self.requests]
        return [(r, e) for r, e in got if pred(e)] or None

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def api(daemon_factory):
    port = free_tcp_port()
    d = daemon_factory("webhooks", conf_extra="listen api 127.0.0.1:%d\n%s" % (port, FAST_RETRIES))
    d.api_base = "http://127.0.0.1:%d" % port
    d.tokens = {
        "admin": create_token(d, "acme-admin", "admin", "acme"),
        "op": create_token(d, "acme-op", "operator", "acme"),
        "view": create_token(d, "acme-view", "viewer", "acme"),
        "globex": create_token(d, "globex-admin", "admin", "globex"),
        "root": create_token(d, "root", "platform-admin"),
    }
    return d


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def call(api, method, path, token, **kw):
    return requests.request(method, api.api_base + path, timeout=10,
                            headers={"Authorization": "Bearer " + api.tokens[token]}, **kw)


def is_problem(r, status):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"] == "application/problem+json"
    return r.json()


def meter():
    return next(s for s in FLEET.values() if s["tenant"] == "acme" and s["imei"])


def foreign_attach(d):
    """imei_mismatch (warning) for acme's meter, and the reject it answers."""
    nas = d.client()
    try:
        r = nas.access(imsi=meter()["imsi"], imeisv="3500000000000001")
        assert r is not None and r.rejected
    finally:
        nas.close()


def create(api, receiver_or_url, token="admin", **body):
    url = receiver_or_url if isinstance(receiver_or_url, str) else receiver_or_url.url
    r = call(api, "POST", "/v1/webhooks", token, json={"url": url, **body})
    assert r.status_code == 201, r.text
    return r.json()


def delete(api, hook):
    assert call(api, "DELETE", "/v1/webhooks/%d" % hook["id"], "admin").status_code == 204


def verify(req, secret):
    h = req["headers"]
    ts = h["M2MG-Timestamp"]
    want = "v1=" + hmac.new(secret.encode(), ts.encode() + b"." + req["body"],
                            hashlib.sha256).hexdigest()
    assert hmac.compare_digest(h["M2MG-Signature"], want), h
    assert abs(int(ts) - time.time()) < 60


def test_delivery_signed_and_filtered(api, receiver):
    hook = create(api, receiver, events=["finding.imei_mismatch", "action.reject"])
    secret = hook["secret"]
    assert secret.startswith("whsec_") and len(secret) == 49
    assert hook["tenant"] == "acme" and hook["enabled"] and hook["pending"] == 0
    assert hook["events"] == ["finding.imei_mismatch", "action.reject"]
    # Never shown again.
    got = call(api, "GET", "/v1/webhooks/%d" % hook["id"], "view").json()
    assert "secret" not in got and got["url"] == receiver.url
    assert secret not in call(api, "GET", "/v1/webhooks", "view").text

    foreign_attach(api)
    finding = wait_until(lambda: receiver.events(lambda e: e["type"] == "finding"),
                         timeout=10, what="the finding at the receiver")
    req, ev = finding[0]
    verify(req, secret)
    assert ev["kind"] == "imei_mismatch" and ev["tenant"] == "acme"
    assert ev["subject"] == meter()["iccid"]
    assert req["headers"]["M2MG-Event"] == "finding.imei_mismatch"
    assert req["headers"]["M2MG-Webhook"] == str(hook["id"])
    assert req["headers"]["M2MG-Attempt"] == "1"
    assert req["headers"]["Idempotency-Key"] == req["headers"]["M2MG-Delivery"]
    action = wait_until(lambda: receiver.events(lambda e: e["type"] == "action" and
                                                e["finding_id"] == ev["id"]),
                        timeout=10, what="the reject action at the receiver")
    assert action[0][1]["kind"] == "reject"
    # The same as the store has.
    assert [f for f in api.findings(kind="imei_mismatch") if f["id"] == ev["id"]]

    # A suspended SIM's attach: sim_inactive (warning) and its reject.  A
    # webhook for disconnects only, and one for critical findings only,
    # get no outbox row for it (rows are written with the event).
    other = Receiver()
    try:
        quiet = create(api, other, events=["action.disconnect"])
        loud = create(api, other.url + "?all", min_severity="critical", events=["finding"])
        sim = next(s for s in FLEET.values() if s["tenant"] == "acme" and s["imei"]
                   and s["iccid"] != meter()["iccid"])
        assert call(api, "POST", "/v1/sims/%s/suspend" % sim["iccid"], "op").status_code == 200
        nas = api.client()
        try:
            assert nas.access(imsi=sim["imsi"], imeisv=imeisv_of(sim["imei"])).rejected
        finally:
            nas.close()
        api.flush()
        inactive = [f for f in api.findings(kind="sim_inactive") if f["subject"] == sim["iccid"]]
        assert inactive
        wait_until(lambda: receiver.events(lambda e: e.get("finding_id") == inactive[0]["id"]),
                   timeout=10, what="the reject of sim_inactive at the first receiver")
        deliveries = lambda h: call(api, "GET", "/v1/webhooks/%d/deliveries" % h["id"],
                                    "view").json()["items"]
        assert deliveries(quiet) == [], deliveries(quiet)
        assert deliveries(loud) == [], deliveries(loud)
        assert other.events() is None
        assert call(api, "POST", "/v1/sims/%s/resume" % sim["iccid"], "op").status_code == 200
        delete(api, quiet)
        delete(api, loud)
    finally:
        other.close()
    delete(api, hook)

    # The audit trail has the change, not the secret; neither has the log.
    db = sqlite3.connect(str(api.db))
    try:
        rows = db.execute("SELECT action, detail FROM admin_log WHERE action LIKE 'webhook.%'"
                          ).fetchall()
        body = "".join(b for (b,) in db.execute("SELECT body FROM audit_chain"))
    finally:
        db.close()
    assert ("webhook.create" in {a for a, _ in rows}) and ("webhook.delete" in {a for a, _ in rows})
    assert secret not in json.dumps(rows) and secret not in body
    assert secret not in api.stderr()
    assert "webhook.create" in api.cli("audit", "list", check=True).stdout
    assert api.cli("audit", "verify").returncode == 0


def test_retries_then_delivered(api, receiver):
    receiver.script = [("status", 500), ("stall", 2.0)]     # 500, then past the 1 s timeout
    hook = create(api, receiver, events=["finding.imei_mismatch"])
    foreign_attach(api)
    wait_until(lambda: receiver.events() and len(receiver.events()) >= 3, timeout=15,
               what="three attempts")
    reqs = [r for r, _ in receiver.events()]
    keys = {r["headers"]["Idempotency-Key"] for r in reqs}
    assert len(keys) == 1, keys                 # the same delivery each time
    assert [r["headers"]["M2MG-Attempt"] for r in reqs[:3]] == ["1", "2", "3"]
    for r in reqs:
        verify(r, hook["secret"])
    assert reqs[1]["t"] - reqs[0]["t"] >= 0.09  # backed off
    items = wait_until(lambda: [i for i in call(api, "GET", "/v1/webhooks/%d/deliveries"
                                                % hook["id"], "view").json()["items"]
                                if i["state"] == "delivered"] or None,
                       timeout=10, what="the delivery recorded as delivered")
    d = items[0]
    assert d["attempts"] == 3 and d["event"] == "finding.imei_mismatch"
    assert d["last_status"] in (200, 204) and d["done_ms"] and d["next_attempt_ms"] is None
    st = api.stats()["webhooks"]
    assert st["retried"] >= 2 and st["delivered"] >= 1
    delete(api, hook)


def test_given_up_after_attempts(daemon_factory):
    port = free_tcp_port()
    dead = free_tcp_port()                      # nobody listens there
    d = daemon_factory("webhooks-giveup", conf_extra="listen api 127.0.0.1:%d\n%s"
                       "webhook-attempts 3\n" % (port, FAST_RETRIES))
    d.api_base = "http://127.0.0.1:%d" % port
    d.tokens = {"admin": create_token(d, "a", "admin", "acme")}
    hook = create(d, "http://127.0.0.1:%d/x" % dead, events=["finding.imei_mismatch"])
    foreign_attach(d)
    st = d.stats_when(lambda s: s["webhooks"]["failed"] == 1, timeout=15,
                      what="the event given up")["webhooks"]
    assert st["attempts"] == 3 and st["retried"] == 2 and st["delivered"] == 0
    items = call(d, "GET", "/v1/webhooks/%d/deliveries?state=failed" % hook["id"],
                 "admin").json()["items"]
    assert len(items) == 1 and items[0]["attempts"] == 3
    assert all("onnect" in i["last_error"] for i in items), items
    assert call(d, "GET", "/v1/webhooks/%d" % hook["id"], "admin").json()["pending"] == 0


def test_outbox_survives_restart_and_limits(daemon_factory):
    port = free_tcp_port()
    rport = free_tcp_port()
    d = daemon_factory("webhooks-restart", conf_extra="listen api 127.0.0.1:%d\n%s"
                       "webhook-outbox-max 3\n" % (port, FAST_RETRIES))
    d.api_base = "http://127.0.0.1:%d" % port
    d.tokens = {"admin": create_token(d, "a", "admin", "acme")}
    hook = create(d, "http://127.0.0.1:%d/hook" % rport, events=["finding.imei_mismatch"])
    for _ in range(5):
        foreign_attach(d)
    d.flush()
    st = d.stats()["webhooks"]
    assert st["queued"] == 3 and st["dropped"] == 2     # the outbox holds 3
    got = call(d, "GET", "/v1/webhooks/%d" % hook["id"], "admin").json()
    assert got["pending"] == 3 and got["dropped"] == 2
    assert d.stop() == 0
    d.start()
    receiver = Receiver(rport)
    try:
        wait_until(lambda: receiver.events() and len(receiver.events()) == 3, timeout=15,
                   what="the three queued events after the restart")
        ids = {e["id"] for _, e in receiver.events()}
        assert len(ids) == 3
    finally:
        receiver.close()


def test_ping(api, receiver):
    hook = create(api, receiver)
    r = call(api, "POST", "/v1/webhooks/%d/ping" % hook["id"], "admin")
    assert r.status_code == 202, r.text
    got = wait_until(lambda: receiver.events(lambda e: e["type"] == "ping"), timeout=10,
                     what="the ping")
    verify(got[0][0], hook["secret"])
    assert got[0][1]["webhook_id"] == hook["id"] and got[0][1]["tenant"] == "acme"
    # Disabled: no ping, no events.
    r = call(api, "PATCH", "/v1/webhooks/%d" % hook["id"], "admin", json={"enabled": False})
    assert r.status_code == 200 and r.json()["enabled"] is False and "secret" not in r.json()
    is_problem(call(api, "POST", "/v1/webhooks/%d/ping" % hook["id"], "admin"), 409)
    # Rotating the secret shows the new one once; deliveries use it.
    r = call(api, "PATCH", "/v1/webhooks/%d" % hook["id"], "admin",
             json={"enabled": True, "rotate_secret": True})
    new = r.json()["secret"]
    assert new != hook["secret"]
    call(api, "POST", "/v1/webhooks/%d/ping" % hook["id"], "admin")
    got = wait_until(lambda: (lambda e: e if len(e) == 2 else None)(
        receiver.events(lambda e: e["type"] == "ping")), timeout=10, what="the second ping")
    verify(got[1][0], new)
    delete(api, hook)


def test_tenant_isolation_and_roles(api, receiver):
    hook = create(api, receiver)
    path = "/v1/webhooks/%d" % hook["id"]
    assert call(api, "GET", "/v1/webhooks", "globex").json()["items"] == []
    for method, p, body in (("GET", path, None), ("PATCH", path, {"enabled": False}),
                            ("DELETE", path, None), ("POST", path + "/ping", None),
                            ("GET", path + "/deliveries", None)):
        is_problem(call(api, method, p, "globex", json=body), 404)
    # A guessed id that does not exist reads the same.
    assert (call(api, "GET", "/v1/webhooks/999999", "globex").json()["detail"]
            == "no webhook 999999")
    # globex's own webhook hears nothing of acme's events.
    other = Receiver()
    try:
        create(api, other, token="globex")
        foreign_attach(api)
        wait_until(lambda: receiver.events(lambda e: e["type"] == "finding"), timeout=10,
                   what="acme's finding at acme's receiver")
        api.flush()
        time.sleep(0.3)
        assert other.events() is None
    finally:
        other.close()
    # Roles: a viewer and an operator read, but do not change.
    for token in ("view", "op"):
        is_problem(call(api, "POST", "/v1/webhooks", token, json={"url": receiver.url}), 403)
        is_problem(call(api, "DELETE", path, token), 403)
    assert call(api, "GET", path, "view").status_code == 200
    # The platform names the tenant; it sees every tenant's webhooks.
    is_problem(call(api, "POST", "/v1/webhooks", "root", json={"url": receiver.url}), 400)
    made = create(api, receiver, token="root", tenant="globex")
    assert made["tenant"] == "globex"
    tenants = {h["tenant"] for h in call(api, "GET", "/v1/webhooks", "root").json()["items"]}
    assert tenants == {"acme", "globex"}
    # An acme admin cannot make one for globex (no such tenant, as it sees it).
    is_problem(call(api, "POST", "/v1/webhooks", "admin",
                    json={"url": receiver.url, "tenant": "globex"}), 404)
    for h in call(api, "GET", "/v1/webhooks", "root").json()["items"]:
        assert call(api, "DELETE", "/v1/webhooks/%d" % h["id"], "root").status_code == 204


@pytest.mark.parametrize("body, why", [
    ({"url": "ftp://example.org/x"}, "http:// or https://"),
    ({"url": "http://user:pw@127.0.0.1/x"}, "credentials"),
    ({"url": "http://127.0.0.1/a b"}, "space"),
    ({"url": "http://"}, "no host"),
    ({"url": "http://127.0.0.1/" + "a" * 1000}, "longer"),
    ({}, "URL is required"),
    ({"url": "http://127.0.0.1/x", "events": ["finding.nonsense"]}, "known kind"),
    ({"url": "http://127.0.0.1/x", "events": []}, "non-empty"),
    ({"url": "http://127.0.0.1/x", "events": "finding"}, "non-empty"),
    ({"url": "http://127.0.0.1/x", "min_severity": "loud"}, "min_severity"),
    ({"url": "http://127.0.0.1/x", "secret": "mine"}, "unknown member"),
    ({"url": "http://127.0.0.1/x", "enabled": "yes"}, "true or false"),
    ({"url": "http://127.0.0.1/x'; DROP TABLE webhooks; --"}, "space"),
])
def test_bad_input(api, body, why):
    before = call(api, "GET", "/v1/webhooks", "admin").json()["items"]
    p = is_problem(call(api, "POST", "/v1/webhooks", "admin", json=body), 400)
    assert why in p["detail"], p
    assert call(api, "GET", "/v1/webhooks", "admin").json()["items"] == before


def test_bad_requests(api):
    is_problem(call(api, "POST", "/v1/webhooks", "admin", data="{not json"), 400)
    is_problem(call(api, "GET", "/v1/webhooks/abc", "admin"), 404)
    hook = create(api, "http://127.0.0.1:9/x")
    base = "/v1/webhooks/%d" % hook["id"]
    is_problem(call(api, "GET", base + "/deliveries?state=lost", "admin"), 400)
    is_problem(call(api, "GET", base + "/deliveries?cursor=s1", "admin"), 400)
    is_problem(call(api, "PATCH", base, "admin", json={"tenant": "globex"}), 400)
    delete(api, hook)
    is_problem(call(api, "DELETE", base, "admin"), 404)


def test_webhooks_per_tenant_limit(api):
    made = []
    try:
        for i in range(16 - len(call(api, "GET", "/v1/webhooks", "admin").json()["items"])):
            made.append(create(api, "http://127.0.0.1:9/%d" % i))
        p = is_problem(call(api, "POST", "/v1/webhooks", "admin",
                            json={"url": "http://127.0.0.1:9/over"}), 409)
        assert "at most 16" in p["detail"]
    finally:
        for h in made:
            delete(api, h)


def test_cli(api, receiver):
    """The CLI's webhook commands are the API's (one command layer)."""
    r = api.cli("webhook", "add", receiver.url, "--tenant", "acme", "--events",
                "finding.imei_mismatch,action.reject", "--min-severity", "warning", check=True)
    secret = r.stdout.strip()
    assert secret.startswith("whsec_") and "only this once" in r.stderr
    hook = next(h for h in call(api, "GET", "/v1/webhooks", "admin").json()["items"]
                if h["url"] == receiver.url)
    assert hook["events"] == ["finding.imei_mismatch", "action.reject"]
    assert hook["min_severity"] == "warning" and hook["created_by"].startswith("cli:")
    listing = api.cli("webhook", "list", "--tenant", "acme", check=True).stdout
    assert receiver.url in listing and secret not in listing
    api.cli("webhook", "ping", hook["id"], check=True)
    got = wait_until(lambda: receiver.events(lambda e: e["type"] == "ping"), timeout=10,
                     what="the ping from the CLI")
    verify(got[0][0], secret)
    assert "delivered" in wait_until(
        lambda: (lambda o: o if "delivered" in o else None)(
            api.cli("webhook", "deliveries", hook["id"], check=True).stdout),
        timeout=10, what="the ping delivered in the CLI's list")
    api.cli("webhook", "set", hook["id"], "--disable", check=True)
    r = api.cli("webhook", "ping", hook["id"])
    assert r.returncode == 1 and "disabled" in r.stderr
    new = api.cli("webhook", "set", hook["id"], "--enable", "--rotate-secret",
                  check=True).stdout.strip()
    assert new.startswith("whsec_") and new != secret
    bad = api.cli("webhook", "set", hook["id"], "--url", "gopher://x")
    assert bad.returncode == 1 and "http:// or https://" in bad.stderr
    assert api.cli("webhook", "set", "x").returncode == 2
    assert api.cli("webhook", "add", receiver.url).returncode == 2      # no --tenant
    assert api.cli("webhook", "add", receiver.url, "--tenant", "nope").returncode == 1
    api.cli("webhook", "remove", hook["id"], check=True)
    r = api.cli("webhook", "remove", hook["id"])
    assert r.returncode == 1 and "no webhook" in r.stderr
