"""
Scenario: the daemon writes sessions and daily usage from memory every
`acct-flush` (here: never on its own during the test), while every
acknowledged record is appended at once to the accounting log with the
usage it counted and its session's state.  kill -9 before any flush: the
log has every record, the sessions table only what was written at once (a
session's end); usage_daily nothing yet.  At the next start the daemon
redoes the log past its mark: the open session is back with its last
counters, the closed one keeps its row, every SIM's usage is exact, and a
retransmission or the next Interim counts nothing twice.  A clean stop
then leaves nothing to redo.
"""
import os
import signal
import sqlite3

import pytest

from conftest import ACCT_INTERIM, ACCT_START, ACCT_STOP, acct_listen_line

A, B = "234151000000101", "234151000000102"


def rows(daemon, sql, *args):
    """Query the file directly (the daemon is not asked to flush)."""
    con = sqlite3.connect(str(daemon.db), timeout=10)
    try:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute(sql, args).fetchall()]
    finally:
        con.close()


def usage_of(daemon, imsi):
    r = rows(daemon, "SELECT coalesce(sum(u.in_octets), 0) AS i, coalesce(sum(u.out_octets), 0)"
             " AS o FROM usage_daily u JOIN sims s ON s.id = u.sim_id WHERE s.imsi = ?", imsi)
    return r[0]["i"], r[0]["o"]


@pytest.fixture
def daemon(daemon_factory):
    return daemon_factory("acct-redo", conf_extra=acct_listen_line() + "acct-flush 600000\n")


def test_kill_before_a_flush_loses_nothing(daemon):
    nas = daemon.acct_client()
    try:
        assert nas.acct(ACCT_START, session_id="rd-a", imsi=A, in_octets=0, out_octets=0,
                        session_time=0) is not None
        assert nas.acct(ACCT_INTERIM, session_id="rd-a", imsi=A, in_octets=1000,
                        out_octets=200, session_time=60) is not None
        last_a = nas.build_acct(ACCT_INTERIM, session_id="rd-a", imsi=A, in_octets=3000,
                                out_octets=700, session_time=120)
        assert nas.acct_exchange(last_a) is not None
        assert nas.acct(ACCT_START, session_id="rd-b", imsi=B, in_octets=0, out_octets=0,
                        session_time=0) is not None
        assert nas.acct(ACCT_STOP, session_id="rd-b", imsi=B, in_octets=400, out_octets=50,
                        session_time=30) is not None
    finally:
        nas.close()
    assert daemon.acct_stats()["flushes"] == 0

    os.kill(daemon.proc.pid, signal.SIGKILL)
    daemon.proc.wait(5)
    assert daemon.stop() == -signal.SIGKILL
    # As the killed daemon left it: all five records in the log, B's end
    # written at once, A's session and all usage not yet.
    assert len(rows(daemon, "SELECT id FROM acct_records WHERE acct_session_id LIKE 'rd-%'")) == 5
    assert [r["state"] for r in rows(daemon, "SELECT state FROM sessions"
                                     " WHERE acct_session_id = 'rd-b'")] == ["closed"]
    assert rows(daemon, "SELECT id FROM sessions WHERE acct_session_id = 'rd-a'") == []
    assert usage_of(daemon, A) == (0, 0) and usage_of(daemon, B) == (0, 0)

    daemon.start()
    st = daemon.acct_stats()
    assert st["redone_at_start"] == 5, st
    assert st["sessions_open"] == 1
    assert "5 log records redone" in daemon.stderr()
    # The redo was written at start: the file alone has it all now.
    a = rows(daemon, "SELECT * FROM sessions WHERE acct_session_id = 'rd-a'")
    assert len(a) == 1 and a[0]["state"] == "open"
    assert (a[0]["in_octets"], a[0]["out_octets"]) == (3000, 700)
    assert (a[0]["last_in"], a[0]["last_out"], a[0]["last_time"]) == (3000, 700, 120)
    b = rows(daemon, "SELECT * FROM sessions WHERE acct_session_id = 'rd-b'")
    assert len(b) == 1 and b[0]["state"] == "closed" and b[0]["in_octets"] == 400
    assert usage_of(daemon, A) == (3000, 700)
    assert usage_of(daemon, B) == (400, 50)

    nas = daemon.acct_client()
    try:
        # The NAS did not hear A's last answer: the retransmission counts 0.
        assert nas.acct_exchange(last_a) is not None
        assert nas.acct(ACCT_INTERIM, session_id="rd-a", imsi=A, in_octets=3500,
                        out_octets=900, session_time=180) is not None
        assert nas.acct(ACCT_STOP, session_id="rd-a", imsi=A, in_octets=4000,
                        out_octets=1000, session_time=200) is not None
    finally:
        nas.close()
    assert daemon.stop() == 0, daemon.stderr()[-3000:]
    a = rows(daemon, "SELECT * FROM sessions WHERE acct_session_id = 'rd-a'")
    assert len(a) == 1 and a[0]["state"] == "closed"
    assert (a[0]["in_octets"], a[0]["out_octets"]) == (4000, 1000)
    assert usage_of(daemon, A) == (4000, 1000)

    # A clean stop flushed: nothing to redo.
    daemon.start()
    assert daemon.acct_stats()["redone_at_start"] == 0
    assert usage_of(daemon, A) == (4000, 1000)
