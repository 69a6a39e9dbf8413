"""
Scenario: GET /v1/events — findings and actions together, in time order,
after real RADIUS traffic (pyrad): an acme meter in a foreign device
(imei_mismatch, and the attach rejected), then a moment later an unknown
SIM and another acme meter in a foreign device; a suspended globex SIM
attaching (sim_inactive, rejected) is globex's.

Checked: the list is exactly /v1/findings plus /v1/actions, ordered by
(time, findings before actions, id); limit=1 pages walk it once in the same
order; since / until select [since, until) alike as epoch milliseconds and
as RFC 3339 (Z, an offset, a fraction, an unencoded '+'); sim (an ICCID)
gives that SIM's findings and actions, kind and type select; every role
reads its own tenant's events and no other's (not by ICCID either), the
platform everyone's; bad times, since after until, bad cursors, kinds,
types and SIMs are 400 problem+json.
"""
import datetime
import time

import pytest
import requests

from conftest import FLEET, create_token, free_tcp_port


@pytest.fixture(scope="module")
def api(daemon_factory):
    port = free_tcp_port()
    d = daemon_factory("api-events-time", conf_extra="listen api 127.0.0.1:%d\n" % port)
    d.api_base = "http://127.0.0.1:%d" % port
    d.tokens = {"view": create_token(d, "v", "viewer", "acme"),
                "op": create_token(d, "o", "operator", "acme"),
                "admin": create_token(d, "a", "admin", "acme"),
                "gx": create_token(d, "gx", "viewer", "globex"),
                "root": create_token(d, "root", "platform-admin")}
    acme = [s for s in FLEET.values() if s["tenant"] == "acme" and s["group"] == "meters"]
    d.first, d.second = acme[0], acme[1]
    d.globex = next(s for s in FLEET.values() if s["tenant"] == "globex")
    d.cli("sim", "suspend", d.globex["iccid"], check=True)
    nas = d.client()
    try:
        assert nas.access(imsi=d.first["imsi"], imeisv="35000000000000" + "01").rejected
        time.sleep(0.05)        # the second burst is strictly later
        assert nas.access(imsi="234159990000001", imeisv="3500000000000101").rejected
        assert nas.access(imsi=d.second["imsi"], imeisv="35000000000000" + "01").rejected
        assert nas.access(imsi=d.globex["imsi"], imeisv="3500000000000101").rejected
    finally:
        nas.close()
    d.flush()
    return d


def get(api, path, token, **kw):
    return requests.get(api.api_base + path, timeout=10,
                        headers={"Authorization": "Bearer " + api.tokens[token]}, **kw)


def events(api, token="view", **params):
    r = get(api, "/v1/events", token, params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    assert r.json()["next_cursor"] is None
    return r.json()["items"]


def key(e):
    return (e["ts_ms"], 0 if e["type"] == "finding" else 1, e["id"])


def is_problem(r, status=400):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"] == "application/problem+json"
    p = r.json()
    assert p["status"] == status and p["detail"]
    return p


def rfc3339(ms, offset_minutes=0, fraction=True):
    tz = datetime.timezone(datetime.timedelta(minutes=offset_minutes))
    t = datetime.datetime.fromtimestamp(ms / 1000, tz)
    text = t.strftime("%Y-%m-%dT%H:%M:%S") + (".%03d" % (ms % 1000) if fraction else "")
    return text + ("Z" if offset_minutes == 0 else t.strftime("%z")[:3] + ":" + t.strftime("%z")[3:])


def test_events_are_findings_and_actions_in_time_order(api):
    items = events(api)
    findings = get(api, "/v1/findings", "view", params={"limit": 1000}).json()["items"]
    actions = get(api, "/v1/actions", "view", params={"limit": 1000}).json()["items"]
    assert {e["id"] for e in items if e["type"] == "finding"} == {f["id"] for f in findings}
    assert {e["id"] for e in items if e["type"] == "action"} == {a["id"] for a in actions}
    assert len(items) == len(findings) + len(actions) >= 6
    assert [key(e) for e in items] == sorted(key(e) for e in items)
    # Each keeps its own list's shape.
    f = next(e for e in items if e["type"] == "finding" and e["kind"] == "imei_mismatch")
    assert f["subject"] == api.first["iccid"] and f["severity"] and f["evidence"]["imsi"]
    a = next(e for e in items if e["type"] == "action" and e["target"] == api.first["iccid"])
    assert a["kind"] == "reject" and a["finding_id"] == f["id"] and "detail" in a
    # limit=1 pages: every event once, in the same order.
    seen, cursor = [], None
    while True:
        r = get(api, "/v1/events", "view", params={"limit": 1, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        seen += [(e["type"], e["id"]) for e in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            break
        assert len(seen) <= len(items)
    assert seen == [(e["type"], e["id"]) for e in items]


def test_time_range(api):
    items = events(api)
    second = min(e["ts_ms"] for e in items if e.get("subject") == api.second["iccid"])
    first_burst = [e for e in items if e["ts_ms"] < second]
    assert first_burst and len(first_burst) < len(items)
    later = [e for e in items if e["ts_ms"] >= second]
    for since in (str(second), rfc3339(second), rfc3339(second, 120), rfc3339(second, -330)):
        assert events(api, since=since) == later, since
    assert events(api, until=str(second)) == first_burst
    assert events(api, until=rfc3339(second, 60)) == first_burst
    # [since, until): a one-millisecond window, an empty one.
    one = events(api, since=second, until=second + 1)
    assert one and all(e["ts_ms"] == second for e in one)
    assert events(api, since=second, until=second) == []
    assert events(api, until=0) == []
    # Whole seconds, no fraction: the second's events are in.
    whole = rfc3339(second - second % 1000, fraction=False)
    assert events(api, since=whole) == [e for e in items if e["ts_ms"] >= second - second % 1000]
    # An unencoded '+' arrives as a space and is taken as '+'.
    plus = rfc3339(second, 120)
    assert "+" in plus
    r = requests.get(api.api_base + "/v1/events?limit=1000&since=" + plus, timeout=10,
                     headers={"Authorization": "Bearer " + api.tokens["view"]})
    assert r.status_code == 200 and r.json()["items"] == later, r.text
    # A page inside a range continues inside it.
    page = get(api, "/v1/events", "view", params={"since": second, "limit": 1}).json()
    rest = get(api, "/v1/events", "view", params={"since": second, "limit": 1000,
                                                   "cursor": page["next_cursor"]}).json()
    assert page["items"] + rest["items"] == later


def test_filters(api):
    mine = events(api, sim=api.first["iccid"])
    assert {(e["type"], e["kind"]) for e in mine} >= {("finding", "imei_mismatch"),
                                                     ("action", "reject")}
    assert all(e.get("subject", e.get("target")) == api.first["iccid"] for e in mine)
    unknown = events(api, sim="234159990000001")
    assert [e["kind"] for e in unknown if e["type"] == "finding"] == ["sim_unknown"]
    assert {e["type"] for e in events(api, kind="imei_mismatch")} == {"finding"}
    rejects = events(api, kind="reject")
    assert rejects and {(e["type"], e["kind"]) for e in rejects} == {("action", "reject")}
    assert {e["type"] for e in events(api, type="action")} == {"action"}
    assert {e["type"] for e in events(api, type="finding")} == {"finding"}
    assert events(api, type="finding", kind="imei_mismatch", sim=api.second["iccid"])
    is_problem(get(api, "/v1/events", "view", params={"type": "finding", "kind": "reject"}))
    is_problem(get(api, "/v1/events", "view", params={"type": "action", "kind": "imei_mismatch"}))


def test_roles_and_tenants(api):
    everything = events(api)
    for token in ("op", "admin"):
        assert events(api, token) == everything
    gx = events(api, "gx")
    assert gx and all(e["tenant"] == "globex" for e in gx)
    assert {e["kind"] for e in gx} >= {"sim_inactive", "reject"}
    assert not {(e["type"], e["id"]) for e in gx} & {(e["type"], e["id"]) for e in everything}
    # Not by ICCID, kind or time either.
    assert events(api, "gx", sim=api.first["iccid"]) == []
    assert events(api, "gx", kind="imei_mismatch") == []
    assert all(e["tenant"] == "globex" for e in events(api, "gx", since=0))
    # The platform: both.
    root = events(api, "root")
    assert {(e["type"], e["id"]) for e in root} >= {(e["type"], e["id"]) for e in everything + gx}
    is_problem(requests.get(api.api_base + "/v1/events", timeout=10), 401)


BAD = [
    {"since": "yesterday"}, {"since": "2024-13-01T00:00:00Z"}, {"since": "2023-02-29T00:00:00Z"},
    {"since": "2024-06-01T12:00:00"}, {"since": "2024-06-01T24:00:00Z"},
    {"since": "2024-06-01T12:00:00.Z"}, {"since": "2024-06-01T12:00:00+2:00"},
    {"since": "1969-12-31T23:59:59Z"}, {"until": "10000-01-01T00:00:00Z"},
    {"until": "253402300800000"}, {"since": "-5"}, {"since": ""},
    {"since": "2024-06-02T00:00:00Z", "until": "2024-06-01T00:00:00Z"},
    {"since": "1717200000001", "until": "1717200000000"},
    {"cursor": "e"}, {"cursor": "e12"}, {"cursor": "e12.x3"}, {"cursor": "e12.f0"},
    {"cursor": "f12"}, {"cursor": "e-1.f3"}, {"cursor": "e12.f3x"},
    {"limit": 0}, {"limit": 1001}, {"kind": "stolen"}, {"kind": "none"}, {"type": "alert"},
    {"sim": "abc"}, {"sim": "1" * 23}, {"sim": "12345"},
]


@pytest.mark.parametrize("params", BAD, ids=[repr(p) for p in BAD])
def test_bad_input_is_a_problem(api, params):
    p = is_problem(get(api, "/v1/events", "view", params=params))
    name = next(iter(params))
    if name in ("since", "until"):
        assert name in p["detail"] or "after" in p["detail"], p
