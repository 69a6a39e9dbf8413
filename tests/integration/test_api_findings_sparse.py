"""
Scenario: a filter that matches little of a long findings table.  70,000
sim_unknown findings (written straight into the store, as a busy week of
probing would leave them) and then one imei_mismatch: GET /v1/findings
with kind=imei_mismatch reads the table in bounded steps, so its first
page may come back short — but then with a cursor, never a null one before
the end: following the cursors finds the one finding.  GET /v1/events
finds it in one page (its filters are SQL).
"""
import sqlite3
import time

import requests

from conftest import create_token, free_tcp_port


def test_sparse_filter_reads_on_to_the_end(daemon_factory):
    port = free_tcp_port()
    d = daemon_factory("api-findings-sparse", start=False,
                       conf_extra="listen api 127.0.0.1:%d\n" % port)
    token = create_token(d, "v", "viewer", "acme")
    con = sqlite3.connect(str(d.db), timeout=10)
    try:
        acme = con.execute("SELECT id FROM tenants WHERE name = 'acme'").fetchone()[0]
        now = int(time.time() * 1000)
        con.executemany("INSERT INTO findings (tenant_id, ts, kind, severity, subject, evidence)"
                        " VALUES (?, ?, 'sim_unknown', 'warning', ?, '{}')",
                        [(acme, now, "23415999%07d" % i) for i in range(70000)])
        con.execute("INSERT INTO findings (tenant_id, ts, kind, severity, subject, evidence)"
                    " VALUES (?, ?, 'imei_mismatch', 'critical', '8944110000000100014', '{}')",
                    (acme, now + 1))
        con.commit()
    finally:
        con.close()
    d.start()
    h = {"Authorization": "Bearer " + token}
    base = "http://127.0.0.1:%d" % port
    found, cursor, pages = [], None, 0
    while True:
        r = requests.get(base + "/v1/findings", headers=h, timeout=30,
                         params={"kind": "imei_mismatch", **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        found += r.json()["items"]
        cursor = r.json()["next_cursor"]
        pages += 1
        if cursor is None:
            break
        assert pages < 10
    assert [f["subject"] for f in found] == ["8944110000000100014"]
    assert pages >= 2       # the first step budget ended short of it
    r = requests.get(base + "/v1/events", headers=h, timeout=30,
                     params={"kind": "imei_mismatch"}).json()
    assert [e["subject"] for e in r["items"]] == ["8944110000000100014"]
    assert r["next_cursor"] is None
