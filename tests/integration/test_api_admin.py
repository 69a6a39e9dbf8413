"""
Scenario: administration through the HTTP API — tenants (platform-admin
only), groups and their policies (read: viewer; replace: admin, validated
with every error listed and nothing changed on error, applied by the
running daemon), and the bulk SIM import as CSV or as JSON (admin; all or
nothing, every bad row in the problem's "errors"; a tenant's token can
import only into its own tenant, whatever the file says).
"""

import pytest
import requests

from conftest import (FLEET, create_token, free_tcp_port)


def luhn(payload):
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return payload + str((10 - total % 10) % 10)


@pytest.fixture(scope="module")
def api(daemon_factory):
    port = free_tcp_port()
    d = daemon_factory("api-admin", conf_extra="listen api 127.0.0.1:%d\n" % port)
    d.api_base = "http://127.0.0.1:%d" % port

    def token(name, role, tenant=None):
        return create_token(d, name, role, tenant)
    d.tokens = {"admin": token("adm", "admin", "acme"), "view": token("v", "viewer", "acme"),
                "gx-admin": token("gxa", "admin", "globex"), "root": token("root", "platform-admin")}
    return d


def call(api, method, path, token, **kw):
    return requests.request(method, api.api_base + path, timeout=10,
                            headers={"Authorization": "Bearer " + api.tokens[token],
                                     **kw.pop("headers", {})}, **kw)


def test_tenants_are_for_the_platform(api):
    assert call(api, "GET", "/v1/tenants", "admin").status_code == 403
    names = [t["name"] for t in call(api, "GET", "/v1/tenants", "root").json()["items"]]
    assert {"acme", "globex"} <= set(names)
    r = call(api, "POST", "/v1/tenants", "root", json={"name": "initech"})
    assert r.status_code == 201 and r.json() == {"name": "initech"}
    assert call(api, "POST", "/v1/tenants", "root", json={"name": "initech"}).status_code == 409
    assert call(api, "POST", "/v1/tenants", "root", json={"name": "bad name!"}).status_code == 400
    assert call(api, "POST", "/v1/tenants", "root", json={"name": "x", "more": 1}).status_code == 400
    assert call(api, "POST", "/v1/tenants", "admin", json={"name": "mine"}).status_code == 403


def test_policies(api):
    groups = call(api, "GET", "/v1/groups", "view").json()["items"]
    acme_groups = {s["group"] for s in FLEET.values() if s["tenant"] == "acme"}
    assert {g["name"] for g in groups} == acme_groups and \
        all(g["tenant"] == "acme" for g in groups)
    before = call(api, "GET", "/v1/groups/meters/policy", "view").json()
    assert before["group"] == "meters" and before["version"] >= 1 and before["policy"]
    # Invalid: every error listed, nothing changed.
    r = call(api, "PUT", "/v1/groups/meters/policy", "admin",
             data=b'{"rat": {"mode": "enforce"}, "colour": "blue"}')
    assert r.status_code == 400
    errors = r.json()["errors"]
    assert any('unknown key "colour"' in e for e in errors)
    assert any("rat" in e and "lists no radio type" in e for e in errors)
    assert call(api, "GET", "/v1/groups/meters/policy", "view").json()["version"] == before["version"]
    # Viewers read, admins write.
    assert call(api, "PUT", "/v1/groups/meters/policy", "view", data=b"{}").status_code == 403
    r = call(api, "PUT", "/v1/groups/meters/policy", "admin",
             json={"description": "via the API", "rat": {"mode": "alert", "allowed": ["NB-IoT"]}})
    assert r.status_code == 200, r.text
    after = r.json()
    assert after["version"] == before["version"] + 1
    assert after["policy"]["description"] == "via the API"
    log = api.db_rows("SELECT actor, action FROM admin_log WHERE action = 'policy.set'"
                      " ORDER BY id DESC LIMIT 1")[0]
    assert log["actor"] == "api:adm"
    # Another tenant's group does not exist for globex; the platform names the tenant.
    assert call(api, "GET", "/v1/groups/meters/policy", "gx-admin").status_code == 404
    assert call(api, "PUT", "/v1/groups/meters/policy", "gx-admin", json={}).status_code == 404
    assert call(api, "GET", "/v1/groups/meters/policy", "root").status_code == 400
    assert call(api, "GET", "/v1/groups/meters/policy", "root",
                params={"tenant": "acme"}).json()["version"] == after["version"]


def test_import_csv_and_json(api):
    iccids = [luhn("894411000000777%04d" % i) for i in range(3)]
    csv = "iccid,imsi,group,tenant,msisdn\n%s,234159990000001,trackers,acme,447000000001\n" \
          "%s,234159990000002,trackers,acme,\n" % (iccids[0], iccids[1])
    r = call(api, "POST", "/v1/sims/import", "admin", data=csv.encode(),
             headers={"Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json() == {"rows": 2, "imported": 2}, r.text
    got = call(api, "GET", "/v1/sims/" + iccids[0], "view").json()
    assert got["imsi"] == "234159990000001" and got["msisdn"] == "447000000001"
    # JSON, one bad row: nothing imported, the row named.
    body = [{"iccid": iccids[2], "imsi": "234159990000003", "group": "meters", "tenant": "acme"},
            {"iccid": "8944110000000000001", "imsi": "23415", "group": "meters", "tenant": "acme"}]
    r = call(api, "POST", "/v1/sims/import", "admin", json=body)
    assert r.status_code == 422
    assert any(e.startswith("body:3:") for e in r.json()["errors"]), r.json()
    assert call(api, "GET", "/v1/sims/" + iccids[2], "view").status_code == 404
    # Unknown fields and types are refused.
    r = call(api, "POST", "/v1/sims/import", "admin", json=[{"iccid": 5}])
    assert r.status_code == 400
    r = call(api, "POST", "/v1/sims/import", "admin", json=[{"iccid": iccids[2], "pin": "1234"}])
    assert r.status_code == 400 and "pin" in r.json()["detail"]
    # globex's admin cannot import into acme (nor create tenants by import).
    r = call(api, "POST", "/v1/sims/import", "gx-admin", json=body[:1],
             params={"create_missing": "true"})
    assert r.status_code == 422
    assert any("not this token's tenant" in e for e in r.json()["errors"])
    r = call(api, "POST", "/v1/sims/import", "gx-admin", params={"create_missing": "true"},
             json=[dict(body[0], tenant="newco")])
    assert r.status_code == 422
    assert "newco" not in [t["name"] for t in call(api, "GET", "/v1/tenants", "root").json()["items"]]
    # Viewers do not import; other media types are refused.
    assert call(api, "POST", "/v1/sims/import", "view", json=body[:1]).status_code == 403
    assert call(api, "POST", "/v1/sims/import", "admin", data=b"x",
                headers={"Content-Type": "application/xml"}).status_code == 415
    # The running daemon admits the imported SIM (trackers: the IMEI lock
    # learns its device at this first attach).
    nas = api.client()
    try:
        reply = nas.access(imsi="234159990000001", imeisv="3533281100000101")
        assert reply is not None and reply.accepted
    finally:
        nas.close()


def test_create_and_change_one_sim(api):
    iccid = luhn("894411000000888000")
    body = {"iccid": iccid, "imsi": "234159990000077", "group": "trackers", "tenant": "acme",
            "msisdn": "447000000077"}
    r = call(api, "POST", "/v1/sims", "admin", json=body)
    assert r.status_code == 201, r.text
    assert r.json()["iccid"] == iccid and r.json()["group"] == "trackers"
    again = call(api, "POST", "/v1/sims", "admin", json=body)
    assert again.status_code == 422 and again.json()["errors"]
    assert call(api, "POST", "/v1/sims", "view", json=body).status_code == 403
    assert call(api, "POST", "/v1/sims", "gx-admin",
                json=dict(body, iccid=luhn("894411000000888001"), imsi="234159990000078")
                ).status_code == 422
    # Change it: group, bound IMEI, static IP, MSISDN cleared.
    r = call(api, "PATCH", "/v1/sims/" + iccid, "admin",
             json={"group": "meters", "imei": "353328110000997", "ip": "10.99.0.7", "msisdn": None})
    assert r.status_code == 200, r.text
    s = r.json()
    assert (s["group"], s["imei"], s["imei_source"], s["ip"], s["msisdn"]) == \
        ("meters", "35332811000099", "admin", "10.99.0.7", "")
    log = api.db_rows("SELECT actor, detail FROM admin_log WHERE action = 'sim.update' AND target = ?",
                      iccid)
    assert log and log[-1]["actor"] == "api:adm" and '"before"' in log[-1]["detail"]
    # Bad values change nothing.
    for patch, status in (({"imei": "12345"}, 400), ({"ip": "10.99.0.300"}, 400),
                          ({"group": "nope"}, 400), ({"state": "active"}, 400), ({}, 400),
                          ({"group": None}, 400), ({"msisdn": "abc"}, 400)):
        r = call(api, "PATCH", "/v1/sims/" + iccid, "admin", json=patch)
        assert r.status_code == status, (patch, r.text)
    other = next(s for s in FLEET.values() if s["tenant"] == "acme" and s["ip"])
    r = call(api, "PATCH", "/v1/sims/" + iccid, "admin", json={"ip": other["ip"]})
    assert r.status_code == 409
    assert call(api, "GET", "/v1/sims/" + iccid, "view").json()["ip"] == "10.99.0.7"
    assert call(api, "PATCH", "/v1/sims/" + iccid, "gx-admin", json={"msisdn": None}).status_code == 404
    assert call(api, "PATCH", "/v1/sims/" + iccid, "view", json={"msisdn": None}).status_code == 403
