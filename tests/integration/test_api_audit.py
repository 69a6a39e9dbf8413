"""
Scenario: the audit trail over HTTP — GET /v1/audit (records, cursor
pages, kind / target / time filters) and GET /v1/audit/verify (the walk of
`m2mguard audit verify`), for admins only.

The fleet import, policies, tokens and a few suspensions through the CLI and
the API leave records of tenants acme, globex and the platform.  Checked:
a tenant's admin lists exactly its tenant's records (the store's rows, in
seq order, each with its hash and its parsed record), never another's — by
filter, target or cursor; the platform lists them all, or one tenant's;
viewers and operators get 403.  Verification: the platform gets the verdict
and the head (the same as the CLI's; a published head is checked with
head=SEQ:HASH), a tenant's admin whether the chain is intact and how many
of its records were proven, never the head; a record changed in the store
is named to the platform and to its own tenant, and only "not this
tenant's" to the others.  A chain of 100,000 records is verified in its own
thread: other requests are answered meanwhile, a second verification gets
429.
"""
import hashlib
import json
import sqlite3
import threading
import time

import pytest
import requests

from conftest import FLEET, create_token, free_tcp_port


@pytest.fixture(scope="module")
def api(daemon_factory):
    port = free_tcp_port()
    d = daemon_factory("api-audit", conf_extra="listen api 127.0.0.1:%d\n" % port)
    d.api_base = "http://127.0.0.1:%d" % port
    d.tokens = {"admin": create_token(d, "acme-admin", "admin", "acme"),
                "op": create_token(d, "acme-op", "operator", "acme"),
                "view": create_token(d, "acme-view", "viewer", "acme"),
                "gx-admin": create_token(d, "gx-admin", "admin", "globex"),
                "root": create_token(d, "root", "platform-admin")}
    d.acme_sim = next(s for s in FLEET.values() if s["tenant"] == "acme")
    d.gx_sim = next(s for s in FLEET.values() if s["tenant"] == "globex")
    d.cli("sim", "suspend", d.acme_sim["iccid"], "--reason", "audit test", check=True)
    d.cli("sim", "resume", d.acme_sim["iccid"], check=True)
    r = call(d, "POST", "/v1/sims/%s/suspend" % d.gx_sim["iccid"], "root")
    assert r.status_code == 200, r.text
    d.tenant_ids = {r["name"]: r["id"] for r in d.db_rows("SELECT id, name FROM tenants")}
    return d


def call(api, method, path, token=None, **kw):
    h = {"Authorization": "Bearer " + api.tokens[token]} if token else {}
    return requests.request(method, api.api_base + path, headers=h, timeout=60, **kw)


def records(api, token, **params):
    """Every record the token may list (walked page by page)."""
    out, cursor = [], None
    while True:
        r = call(api, "GET", "/v1/audit", token,
                 params={"limit": 7, **params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        out += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return out
        assert len(out) < 100000


def rows(api, tenant=None):
    if tenant is None:
        return api.db_rows("SELECT * FROM audit_chain ORDER BY seq")
    return api.db_rows("SELECT * FROM audit_chain WHERE tenant_id = ? ORDER BY seq",
                       api.tenant_ids[tenant])


def is_problem(r, status):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"] == "application/problem+json"
    return r.json()


def test_a_tenants_admin_lists_its_records(api):
    mine = records(api, "admin")
    expect = rows(api, "acme")
    assert [r["seq"] for r in mine] == [r["seq"] for r in expect] and len(mine) >= 4
    for got, row in zip(mine, expect):
        assert got["hash"] == row["hash"] and got["prev_hash"] == row["prev_hash"]
        assert got["record"] == json.loads(row["body"]) and got["tenant"] == "acme"
        assert got["ts_ms"] == row["ts"] and got["kind"] == row["kind"]
    actions = [r["record"]["action"] for r in mine]
    assert {"policy.set", "token.create", "sim.suspend", "sim.resume"} <= set(actions)
    # The CLI's import of the whole fleet is the platform's record, not acme's.
    assert "sim.import" not in actions
    assert "sim.import" in [r["record"]["action"] for r in records(api, "root")]
    # The reason and who, as recorded.
    susp = next(r["record"] for r in mine if r["record"]["action"] == "sim.suspend")
    assert susp["target"] == api.acme_sim["iccid"] and susp["detail"]["reason"] == "audit test"
    assert susp["source"] == "cli" and susp["before"] == "active"


def test_filters(api):
    mine = records(api, "admin")
    by_target = records(api, "admin", target=api.acme_sim["iccid"])
    assert [r["record"]["action"] for r in by_target] == ["sim.suspend", "sim.resume"]
    assert records(api, "admin", kind="action") == [r for r in mine if r["kind"] == "action"]
    assert records(api, "admin", kind="admin") == [r for r in mine if r["kind"] == "admin"]
    cut = mine[len(mine) // 2]["ts_ms"]
    assert records(api, "admin", since=cut) == [r for r in mine if r["ts_ms"] >= cut]
    assert records(api, "admin", until=cut) == [r for r in mine if r["ts_ms"] < cut]
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(cut // 1000)) + ".%03dZ" % (cut % 1000)
    assert records(api, "admin", since=iso) == [r for r in mine if r["ts_ms"] >= cut]
    for params in ({"kind": "alert"}, {"target": "x" * 65}, {"target": ""}, {"cursor": "s5"},
                   {"cursor": "r"}, {"limit": 0}, {"since": "today"},
                   {"since": "2024-01-02T00:00:00Z", "until": "2024-01-01T00:00:00Z"}):
        is_problem(call(api, "GET", "/v1/audit", "admin", params=params), 400)


def test_tenants_are_isolated(api):
    gx = records(api, "gx-admin")
    assert [r["seq"] for r in gx] == [r["seq"] for r in rows(api, "globex")] and gx
    assert all(r["tenant"] == "globex" for r in gx)
    # Not by target, tenant= or a cursor from before acme's records.
    assert records(api, "gx-admin", target=api.acme_sim["iccid"]) == []
    assert records(api, "gx-admin", tenant="acme") == gx
    assert records(api, "gx-admin", cursor="r0") == gx
    # The platform: everything, or one tenant's.
    assert [r["seq"] for r in records(api, "root")] == [r["seq"] for r in rows(api)]
    assert records(api, "root", tenant="acme") == records(api, "admin")
    assert records(api, "root", tenant="nobody") == []
    # Viewers and operators: not at all.
    for token in ("view", "op"):
        for path in ("/v1/audit", "/v1/audit/verify"):
            p = is_problem(call(api, "GET", path, token), 403)
            assert "may not GET" in p["detail"]
    is_problem(call(api, "GET", "/v1/audit"), 401)
    is_problem(call(api, "GET", "/v1/audit/verify"), 401)


def test_verify(api):
    r = call(api, "GET", "/v1/audit/verify", "root")
    assert r.status_code == 200, r.text
    v = r.json()
    last = rows(api)[-1]
    assert v["intact"] is True and v["verdict"] == "intact" and v["scope"] == "platform"
    assert v["head"] == {"seq": last["seq"], "hash": last["hash"]}
    assert v["records"] == len(rows(api)) and v["seq"] is None
    cli = api.cli("audit", "verify", check=True).stdout
    assert "head %d %s" % (last["seq"], last["hash"]) in cli
    # A published head: still there, or not.
    head = "%d:%s" % (last["seq"], last["hash"])
    assert call(api, "GET", "/v1/audit/verify", "root", params={"head": head}).json()["intact"]
    bad = call(api, "GET", "/v1/audit/verify", "root",
               params={"head": "%d:%s" % (last["seq"], "0" * 64)}).json()
    assert bad["intact"] is False and bad["seq"] == last["seq"] and bad["head"] is None
    for head in ("1", "0:" + "a" * 64, "x:" + "a" * 64, "1:" + "A" * 64, "1:" + "a" * 63):
        is_problem(call(api, "GET", "/v1/audit/verify", "root", params={"head": head}), 400)
    # A tenant's admin: intact, its own records counted, no head.
    for token, tenant in (("admin", "acme"), ("gx-admin", "globex")):
        t = call(api, "GET", "/v1/audit/verify", token).json()
        assert t["intact"] is True and t["scope"] == "tenant" and t["head"] is None
        assert t["records"] == len(rows(api, tenant)) > 0
        assert str(rows(api)[-1]["hash"]) not in json.dumps(t)
    is_problem(call(api, "GET", "/v1/audit/verify", "admin", params={"head": head}), 403)


def test_a_changed_record_is_named_to_its_tenant_only(api):
    victim = rows(api, "globex")[0]
    body = victim["body"]
    con = sqlite3.connect(str(api.db), timeout=10)
    try:
        con.execute("UPDATE audit_chain SET body = ? WHERE seq = ?",
                    (body.replace('"globex"', '"gl0bex"', 1) if '"globex"' in body
                     else body.replace("}", ',"x":1}', 1), victim["seq"]))
        con.commit()
        root = call(api, "GET", "/v1/audit/verify", "root").json()
        assert root["intact"] is False and root["verdict"] == "changed"
        assert root["seq"] == victim["seq"] and "changed" in root["detail"]
        gx = call(api, "GET", "/v1/audit/verify", "gx-admin").json()
        assert gx["intact"] is False and gx["seq"] == victim["seq"]
        assert str(victim["seq"]) in gx["detail"]
        acme = call(api, "GET", "/v1/audit/verify", "admin").json()
        assert acme["intact"] is False and acme["seq"] is None and acme["head"] is None
        assert "not this tenant's" in acme["detail"] and str(victim["seq"]) not in acme["detail"]
        assert api.cli("audit", "verify").returncode == 1
    finally:
        con.execute("UPDATE audit_chain SET body = ? WHERE seq = ?", (body, victim["seq"]))
        con.commit()
        con.close()
    assert call(api, "GET", "/v1/audit/verify", "root").json()["intact"] is True


def append_chain(db, n, tenant_id):
    """n more well-formed records at the end of the chain, as m2mguard would
    have appended them (the count it keeps included)."""
    con = sqlite3.connect(str(db), timeout=10)
    try:
        seq, prev = con.execute("SELECT seq, hash FROM audit_chain"
                                " ORDER BY seq DESC LIMIT 1").fetchone()
        ts = int(time.time() * 1000)
        batch = []
        for _ in range(n):
            seq += 1
            body = json.dumps({"seq": seq, "ts": ts, "tenant_id": tenant_id, "kind": "admin",
                               "actor": "cli:bulk", "role": None, "source": "cli",
                               "action": "test.bulk", "target": "bulk-%d" % seq,
                               "before": None, "after": None, "detail": None},
                              sort_keys=True, separators=(",", ":"))
            h = hashlib.sha256(bytes.fromhex(prev) + body.encode()).hexdigest()
            batch.append((seq, ts, tenant_id, "admin", body, prev, h))
            prev = h
        con.executemany("INSERT INTO audit_chain (seq, ts, tenant_id, kind, body, prev_hash,"
                        " hash) VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
        con.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('audit_seq', ?)", (seq,))
        con.commit()
        return seq, prev
    finally:
        con.close()


def test_a_long_verification_does_not_hold_up_other_requests(daemon_factory):
    port = free_tcp_port()
    d = daemon_factory("api-audit-long", start=False,
                       conf_extra="listen api 127.0.0.1:%d\n" % port)
    d.api_base = "http://127.0.0.1:%d" % port
    d.tokens = {"root": create_token(d, "root", "platform-admin"),
                "admin": create_token(d, "acme-admin", "admin", "acme")}
    seq, head = append_chain(d.db, 100000, 1)
    d.start()
    done = {}

    def verify():
        r = call(d, "GET", "/v1/audit/verify", "root")
        done["t"] = time.monotonic()
        done["r"] = r

    t = threading.Thread(target=verify)
    t.start()
    try:
        time.sleep(0.1)     # the verification is under way
        quick = []
        for _ in range(5):
            t0 = time.monotonic()
            assert call(d, "GET", "/v1/health").status_code == 200
            assert call(d, "GET", "/v1/sims", "admin", params={"limit": 1}).status_code == 200
            quick.append(time.monotonic() - t0)
        quick_done = time.monotonic()
        # One at a time.
        p = is_problem(call(d, "GET", "/v1/audit/verify", "admin"), 429)
        assert "another audit verification" in p["detail"]
        busy_done = time.monotonic()
    finally:
        t.join(120)
    r = done["r"]
    assert r.status_code == 200, r.text
    v = r.json()
    assert v["intact"] is True and v["head"] == {"seq": seq, "hash": head}, v
    # The other requests were answered while the walk went on, each in a
    # small part of its time (relative: the machine may be busy).
    assert quick_done < busy_done < done["t"], (quick_done, busy_done, done["t"])
    assert 4 * max(quick) < v["duration_ms"] / 1000, (quick, v)
    # And it may run again once it is done.
    assert call(d, "GET", "/v1/audit/verify", "admin").json()["intact"] is True
