"""
Scenario: the HTTP API (listen api), driven with requests and curl.

Tokens come from the CLI (m2mguard token create): an operator and a viewer
of tenant acme, a viewer of tenant globex, a platform-admin.  Checked from
the outside: every route in docs/openapi.json exists and no route exists
that the document lacks; /v1/health needs no token, everything else does
(401 problem+json otherwise, each failure counted, an api_auth_failure
finding per source and minute, 429 after ten failures a minute); roles
(a viewer cannot suspend: 403); tenant isolation (globex sees none of
acme's SIMs — not by list, filter, id or guess — and cannot change them);
cursor pagination walks every SIM once; bad input (limits, cursors, JSON,
unknown fields, SQL-looking text, huge bodies) is a 4xx problem+json and
changes nothing; suspend and resume through the API go through the command
layer: audited with the token's name, applied by the daemon (the next
Access-Request is refused).
"""
import json
import re
import subprocess
from pathlib import Path

import pytest
import requests

from conftest import (FLEET, create_token, free_tcp_port)

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / "docs" / "openapi.json"
API_C = ROOT / "src" / "api" / "api.c"


@pytest.fixture(scope="module")
def api(daemon_factory):
    port = free_tcp_port()
    d = daemon_factory("api", conf_extra="listen api 127.0.0.1:%d\n" % port)
    d.api_base = "http://127.0.0.1:%d" % port

    def token(name, role, tenant=None):
        return create_token(d, name, role, tenant)
    d.tokens = {
        "acme-op": token("acme-op", "operator", "acme"),
        "acme-view": token("acme-view", "viewer", "acme"),
        "globex-view": token("globex-view", "viewer", "globex"),
        "globex-op": token("globex-op", "operator", "globex"),
        "root": token("root", "platform-admin"),
    }
    return d


def get(api, path, token=None, **kw):
    h = {"Authorization": "Bearer " + api.tokens[token]} if token else {}
    return requests.get(api.api_base + path, headers=h, timeout=10, **kw)


def post(api, path, token=None, **kw):
    h = {"Authorization": "Bearer " + api.tokens[token]} if token else {}
    return requests.post(api.api_base + path, headers=h, timeout=10, **kw)


def is_problem(r, status):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"] == "application/problem+json"
    p = r.json()
    assert p["status"] == status and p["title"] and p["detail"], p
    return p


def acme_sims():
    return [s for s in FLEET.values() if s["tenant"] == "acme"]


def test_routes_match_the_openapi_document():
    doc = json.loads(OPENAPI.read_text())
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    code = set(re.findall(r'\{ "(GET|POST|PUT|PATCH|DELETE)", "(/[^"]*)"', API_C.read_text()))
    assert code, "no route table found in api.c"
    assert documented == code, ("only in the document: %s; only in the code: %s"
                                % (documented - code, code - documented))


def test_health_needs_no_token_everything_else_does(api):
    r = get(api, "/v1/health")
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["store"] is True
    before = api.stats()["api"]["auth_failures"]
    is_problem(get(api, "/v1/sims"), 401)
    is_problem(requests.get(api.api_base + "/v1/sims", timeout=10,
                            headers={"Authorization": "Bearer m2mg_1_" + "A" * 43}), 401)
    is_problem(requests.get(api.api_base + "/v1/sims", timeout=10,
                            headers={"Authorization": "Basic Zm9vOmJhcg=="}), 401)
    assert api.stats()["api"]["auth_failures"] == before + 3
    assert [f for f in api.findings(kind="api_auth_failure") if f["subject"] == "127.0.0.1"]


def test_list_and_paginate_every_sim_of_the_tenant_once(api):
    seen, cursor, pages = [], None, 0
    while True:
        r = get(api, "/v1/sims", "acme-view", params={"limit": 7, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [s["iccid"] for s in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert pages < 100
    assert sorted(seen) == sorted(s["iccid"] for s in acme_sims())
    assert len(seen) == len(set(seen))
    one = get(api, "/v1/sims", "acme-view", params={"q": acme_sims()[0]["imsi"]}).json()["items"]
    assert [s["imsi"] for s in one] == [acme_sims()[0]["imsi"]]


def test_tenant_isolation(api):
    acme = acme_sims()[0]
    # globex sees only its own SIMs, whatever the filter...
    items = get(api, "/v1/sims", "globex-view", params={"limit": 1000}).json()["items"]
    assert items and all(s["tenant"] == "globex" for s in items)
    assert get(api, "/v1/sims", "globex-view", params={"q": acme["imsi"]}).json()["items"] == []
    assert get(api, "/v1/sims", "globex-view", params={"tenant": "acme"}).json()["items"] == items
    assert get(api, "/v1/sims", "globex-view", params={"group": "meters"}).json()["items"] == []
    # ...and acme's SIMs do not exist for it, by ICCID or IMSI.
    for key in (acme["iccid"], acme["imsi"]):
        p = is_problem(get(api, "/v1/sims/" + key, "globex-view"), 404)
        assert "acme" not in json.dumps(p)
    # The platform sees both.
    tenants = {s["tenant"] for s in get(api, "/v1/sims", "root", params={"limit": 1000}).json()["items"]}
    assert {"acme", "globex"} <= tenants


def test_roles(api):
    sim = acme_sims()[1]
    p = is_problem(post(api, "/v1/sims/%s/suspend" % sim["iccid"], "acme-view"), 403)
    assert "viewer" in p["detail"]
    assert get(api, "/v1/sims/" + sim["iccid"], "acme-view").json()["state"] == "active"


def test_suspend_and_resume_through_the_command_layer(api):
    sim = acme_sims()[2]
    r = post(api, "/v1/sims/%s/suspend" % sim["iccid"], "acme-op", json={"reason": "stolen van"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "suspended" and r.json()["iccid"] == sim["iccid"]
    # Applied by the daemon: the SIM's next attach is refused.
    nas = api.client()
    try:
        reply = nas.access(imsi=sim["imsi"], imeisv=sim["imei"][:14] + "01")
        assert reply is not None and reply.rejected
    finally:
        nas.close()
    # Audited with the token's name and the reason.
    log = api.db_rows("SELECT actor, action, detail FROM admin_log WHERE target = ?"
                      " ORDER BY id DESC LIMIT 1", sim["iccid"])[0]
    assert log["actor"] == "api:acme-op" and log["action"] == "sim.suspend"
    assert json.loads(log["detail"])["reason"] == "stolen van"
    # globex cannot resume it: its operator is told there is no such SIM.
    is_problem(post(api, "/v1/sims/%s/resume" % sim["iccid"], "globex-op"), 404)
    assert get(api, "/v1/sims/" + sim["iccid"], "acme-view").json()["state"] == "suspended"
    assert post(api, "/v1/sims/%s/resume" % sim["iccid"], "acme-op").json()["state"] == "active"


def test_bad_input_is_a_problem_and_changes_nothing(api):
    sim = acme_sims()[3]
    errors_before = api.stats()["api"]["errors"]
    for params in ({"limit": 0}, {"limit": 1001}, {"limit": "ten"}, {"cursor": "nope"},
                   {"cursor": "s-1"}, {"state": "stolen"}, {"q": "x" * 65}):
        is_problem(get(api, "/v1/sims", "acme-view", params=params), 400)
    for body in (b"{", b"[]", b'{"reason": 5}', b'{"reason": "x", "state": "active"}',
                 b'{"reason": "a", "reason": "b"}'):
        is_problem(post(api, "/v1/sims/%s/suspend" % sim["iccid"], "acme-op", data=body), 400)
    is_problem(post(api, "/v1/sims/%s/suspend" % sim["iccid"], "acme-op",
                    data=b'{"reason": "' + b"x" * 70000 + b'"}'), 413)
    # SQL-looking text is only text.
    r = get(api, "/v1/sims", "acme-view", params={"q": "' OR 1=1 --"})
    assert r.status_code == 200 and r.json()["items"] == []
    is_problem(get(api, "/v1/sims/1%27%20OR%201=1", "acme-view"), 404)
    is_problem(get(api, "/v1/nothing", "acme-view"), 404)
    is_problem(requests.delete(api.api_base + "/v1/sims", timeout=10,
                               headers={"Authorization": "Bearer " + api.tokens["acme-op"]}), 405)
    assert get(api, "/v1/sims/" + sim["iccid"], "acme-view").json()["state"] == "active"
    # Every refusal counted by its status.
    errors = api.stats()["api"]["errors"]
    assert errors["400"] - errors_before["400"] == 12
    assert errors["413"] - errors_before["413"] == 1
    assert errors["404"] - errors_before["404"] == 2
    assert errors["405"] - errors_before["405"] == 1


def test_curl_sees_the_same(api):
    out = subprocess.run(["curl", "-sS", "-H", "Authorization: Bearer " + api.tokens["acme-view"],
                          api.api_base + "/v1/sims/" + acme_sims()[0]["iccid"]],
                         capture_output=True, text=True, timeout=10)
    assert json.loads(out.stdout)["imsi"] == acme_sims()[0]["imsi"]


def test_failed_authentications_are_throttled(api):
    # Run last in this module: the source is then throttled for a minute.
    codes = [get(api, "/v1/sims", params={"x": i}).status_code for i in range(12)]
    assert 429 in codes and codes[0] == 401
    assert api.stats()["api"]["throttled"] >= 1
    # A valid token from the throttled source waits too (the source is
    # guessing); health stays open.
    assert get(api, "/v1/sims", "acme-view").status_code == 429
    assert get(api, "/v1/health").status_code == 200
