"""
Scenario: the HTTP API's views of what happened, driven with requests
against the real daemon after real RADIUS traffic (pyrad-style clients
from conftest): an attach from a foreign device raises imei_mismatch
(finding and alert), accounting records give the SIM a session and usage.
Then: GET /v1/findings (filter by kind and subject, cursor pagination),
GET /v1/actions (what was done, with the finding it answered),
GET /v1/alerts and acknowledge / resolve (operator; audited; 409 once
resolved; another tenant's alert is 404 and stays as it was),
GET /v1/sims/{iccid}/sessions and /usage (current at once: the daemon
writes them before answering), and /metrics in Prometheus text format
(platform-admin only).
"""

import pytest
import requests

from conftest import (ACCT_INTERIM, ACCT_START, FLEET, acct_listen_line, create_token,
                      free_tcp_port, utc_day)


@pytest.fixture(scope="module")
def api(daemon_factory):
    port = free_tcp_port()
    d = daemon_factory("api-events", conf_extra=acct_listen_line() + "listen api 127.0.0.1:%d\n" % port)
    d.api_base = "http://127.0.0.1:%d" % port

    def token(name, role, tenant=None):
        return create_token(d, name, role, tenant)
    d.tokens = {"op": token("op", "operator", "acme"), "view": token("view", "viewer", "acme"),
                "globex": token("gx", "operator", "globex"), "root": token("root", "platform-admin")}
    return d


def get(api, path, token, **kw):
    return requests.get(api.api_base + path, timeout=10,
                        headers={"Authorization": "Bearer " + api.tokens[token]}, **kw)


def post(api, path, token, **kw):
    return requests.post(api.api_base + path, timeout=10,
                         headers={"Authorization": "Bearer " + api.tokens[token]}, **kw)


def meter():
    return next(s for s in FLEET.values() if s["tenant"] == "acme" and s["imei"])


def test_findings_and_alerts_from_real_traffic(api):
    sim = meter()
    nas = api.client()
    try:
        # The SIM in a foreign device (another IMEI): imei_mismatch.
        r = nas.access(imsi=sim["imsi"], imeisv="35000000000000" + "01")
        assert r is not None
        for i in range(3):      # unknown SIMs: sim_unknown, other subjects
            nas.access(imsi="23415999000000%d" % i, imeisv="3500000000000101")
    finally:
        nas.close()
    api.flush()
    found = get(api, "/v1/findings", "view", params={"kind": "imei_mismatch"}).json()["items"]
    assert [f["subject"] for f in found] == [sim["iccid"]]
    assert found[0]["evidence"]["imsi"] == sim["imsi"] and found[0]["tenant"] == "acme"
    by_subject = get(api, "/v1/findings", "view", params={"subject": sim["iccid"]}).json()["items"]
    assert {f["kind"] for f in by_subject} >= {"imei_mismatch"}
    # Every finding once, one per page.
    seen, cursor = [], None
    while True:
        page = get(api, "/v1/findings", "view",
                   params={"limit": 1, **({"cursor": cursor} if cursor else {})}).json()
        seen += [f["id"] for f in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    everything = get(api, "/v1/findings", "view", params={"limit": 1000}).json()["items"]
    assert seen == [f["id"] for f in everything] and len(seen) >= 4
    # What was done about it: the attach refused.
    acts = get(api, "/v1/actions", "view", params={"target": sim["iccid"]}).json()["items"]
    assert any(x["kind"] == "reject" and x["finding_id"] == found[0]["id"] for x in acts), acts
    page = get(api, "/v1/actions", "view", params={"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    nxt = get(api, "/v1/actions", "view", params={"limit": 1, "cursor": page["next_cursor"]})
    assert nxt.json()["items"][0]["id"] > page["items"][0]["id"]
    assert get(api, "/v1/actions", "globex").json()["items"] == []
    # globex sees none of acme's.
    assert get(api, "/v1/findings", "globex").json()["items"] == []
    assert get(api, "/v1/findings", "view", params={"kind": "nonsense"}).status_code == 400

    alerts = get(api, "/v1/alerts", "view").json()["items"]
    mine = [a for a in alerts if a["subject"] == sim["iccid"] and a["kind"] == "imei_mismatch"]
    assert len(mine) == 1 and mine[0]["state"] == "open"
    aid = mine[0]["id"]
    # Another tenant's operator: no such alert, and it stays open.
    assert post(api, "/v1/alerts/%d/acknowledge" % aid, "globex").status_code == 404
    assert post(api, "/v1/alerts/%d/acknowledge" % aid, "view").status_code == 403
    r = post(api, "/v1/alerts/%d/acknowledge" % aid, "op")
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    acked = [a for a in get(api, "/v1/alerts", "view").json()["items"] if a["id"] == aid]
    assert acked[0]["state"] == "acknowledged" and acked[0]["acknowledged_by"] == "api:op"
    assert post(api, "/v1/alerts/%d/resolve" % aid, "op").status_code == 200
    assert post(api, "/v1/alerts/%d/resolve" % aid, "op").status_code == 409
    assert aid not in [a["id"] for a in get(api, "/v1/alerts", "view").json()["items"]]
    assert aid in [a["id"] for a in get(api, "/v1/alerts", "view",
                                        params={"state": "resolved"}).json()["items"]]
    assert post(api, "/v1/alerts/999999/resolve", "op").status_code == 404
    assert post(api, "/v1/alerts/x/resolve", "op").status_code == 404
    assert get(api, "/v1/alerts", "view", params={"state": "closed"}).status_code == 400
    log = api.db_rows("SELECT actor, action FROM admin_log WHERE target = ?", "alert:%d" % aid)
    assert [(r["actor"], r["action"]) for r in log] == [("api:op", "alert.ack"),
                                                        ("api:op", "alert.resolve")]


def test_sessions_and_usage_are_current(api):
    sim = meter()
    nas = api.acct_client()
    try:
        assert nas.acct(ACCT_START, session_id="api-s1", imsi=sim["imsi"], in_octets=0,
                        out_octets=0, session_time=0) is not None
        assert nas.acct(ACCT_INTERIM, session_id="api-s1", imsi=sim["imsi"], in_octets=1500,
                        out_octets=250, session_time=60) is not None
    finally:
        nas.close()
    # No flush asked by the test: the API gets the tables current itself.
    s = get(api, "/v1/sims/%s/sessions" % sim["iccid"], "view").json()
    assert [(x["acct_session_id"], x["state"], x["in_octets"], x["out_octets"])
            for x in s["items"]] == [("api-s1", "open", 1500, 250)]
    u = get(api, "/v1/sims/%s/usage" % sim["iccid"], "view").json()
    assert (u["today"]["in_octets"], u["today"]["out_octets"]) == (1500, 250)
    assert u["today"]["day"] == utc_day()
    assert u["days"] == [{"day": utc_day(), "in_octets": 1500, "out_octets": 250}]
    assert get(api, "/v1/sims/%s/usage" % sim["iccid"], "globex").status_code == 404
    assert get(api, "/v1/sims/%s/sessions" % sim["iccid"], "globex").status_code == 404
    assert get(api, "/v1/sims/%s/usage" % sim["iccid"], "view",
               params={"days": 0}).status_code == 400
    assert get(api, "/v1/sims/%s/sessions" % sim["iccid"], "view",
               params={"cursor": "x1"}).status_code == 400


def test_metrics(api):
    assert get(api, "/metrics", "op").status_code == 403
    r = get(api, "/metrics", "root")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain")
    lines = r.text.splitlines()
    values = {}
    for line in lines:
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            values[name] = float(value)
    assert values['m2mguard_radius_requests_total{result="received"}'] >= 4
    assert values['m2mguard_findings_total{kind="imei_mismatch"}'] >= 1
    assert 'm2mguard_radius_dropped_total{reason="ma_missing"}' in values
    assert values["m2mguard_accounting_records_total"] >= 2
    assert values['m2mguard_trigger_to_wire_seconds_bucket{le="+Inf"}'] == \
        values["m2mguard_trigger_to_wire_seconds_count"]
    assert values["m2mguard_api_requests_total"] >= 1
    # Every sample has its TYPE line.
    typed = {l.split()[2] for l in lines if l.startswith("# TYPE")}
    for name in values:
        base = name.split("{")[0]
        assert any(base == t or base.startswith(t + "_") for t in typed), name
