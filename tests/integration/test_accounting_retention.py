"""
Scenario: the accounting log (acct_records) keeps `acct-retention` days.
The daemon first runs under libfaketime 40 days in the past and takes a
session's records; then it runs on the real clock with `acct-retention 30`:
the old rows go (counted in stats: accounting.retention_deleted), the new
ones stay, and the session and the usage they counted stay too (they live
in their own tables).
"""

from conftest import (ACCT_INTERIM, ACCT_START, NEEDS_FAKETIME, acct_listen_line,
                      faketime_preload, wait_until)

A = "234151000000101"

pytestmark = [NEEDS_FAKETIME]


def test_old_log_rows_are_deleted(daemon_factory, monkeypatch):
    d = daemon_factory("acct-retention", conf_extra=acct_listen_line() + "acct-retention 30\n",
                       start=False)
    monkeypatch.setenv("LD_PRELOAD", faketime_preload())
    monkeypatch.setenv("FAKETIME", "-40d")
    monkeypatch.setenv("FAKETIME_DONT_FAKE_MONOTONIC", "1")
    monkeypatch.setenv("FAKETIME_DONT_RESET", "1")
    d.start()
    nas = d.acct_client()
    try:
        assert nas.acct(ACCT_START, session_id="ret-1", imsi=A, in_octets=0, out_octets=0,
                        session_time=0) is not None
        for i in range(1, 4):
            assert nas.acct(ACCT_INTERIM, session_id="ret-1", imsi=A, in_octets=100 * i,
                            out_octets=10 * i, session_time=60 * i) is not None
    finally:
        nas.close()
    assert d.acct_stats()["retention_deleted"] == 0     # 40 days ago, they are new
    assert d.stop() == 0
    monkeypatch.delenv("LD_PRELOAD")
    monkeypatch.delenv("FAKETIME")

    d.start()
    nas = d.acct_client()
    try:
        assert nas.acct(ACCT_INTERIM, session_id="ret-1", imsi=A, in_octets=500, out_octets=50,
                        session_time=300) is not None
    finally:
        nas.close()
    wait_until(lambda: d.acct_stats()["retention_deleted"] == 4, timeout=5,
               what="the four old log rows deleted")
    rows = d.db_rows("SELECT in_octets FROM acct_records WHERE acct_session_id = 'ret-1'")
    assert [r["in_octets"] for r in rows] == [500]
    s = d.sessions("ret-1")
    assert len(s) == 1 and s[0]["in_octets"] == 500 and s[0]["state"] == "open"
    assert d.usage(A) == (500, 50)
