"""
Scenario: one PGW session from Start to Stop on the accounting port
(RFC 2866).  The session row goes open → closed ("stop") with the right
totals, usage_daily for today (UTC) holds the same sum, `stats` follows
(accounting.sessions_open 1 → 0), every valid Accounting-Request gets a
verified Accounting-Response (Response Authenticator and a first
Message-Authenticator) only after it is in the database, and a request the
daemon cannot authenticate gets none and changes nothing.  A retransmitted
Stop is answered without a second session; a later Start that reuses the
Acct-Session-Id is a new session.
"""
import time

import pytest

from conftest import (ACCT_INTERIM, ACCT_START, ACCT_STOP, FLEET, acct_listen_line, imeisv_of,
                      utc_day)

IMSI = "234151000000011"
IP = FLEET[IMSI]["ip"]


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("acct-lifecycle", conf_extra=acct_listen_line())


@pytest.fixture
def nas(daemon):
    c = daemon.acct_client()
    yield c
    c.close()


def ip_int(dotted):
    a, b, c, d = (int(x) for x in dotted.split("."))
    return a << 24 | b << 16 | c << 8 | d


def records(daemon, sid):
    return [(r["status"], r["in_octets"], r["out_octets"], r["session_time"])
            for r in daemon.db_rows("SELECT * FROM acct_records WHERE acct_session_id = ?"
                                    " ORDER BY id", sid)]


def test_start_interim_stop(daemon, nas):
    sid = "lifecycle-0001"
    day_before = utc_day()
    s0 = daemon.acct_stats()
    assert s0["sessions_open"] == 0

    common = dict(session_id=sid, imsi=IMSI, framed_ip=IP,
                  imeisv=imeisv_of(FLEET[IMSI]["imei"]))
    assert nas.acct(ACCT_START, in_octets=0, out_octets=0, session_time=0, **common) is not None
    # The response is sent after the commit: the row is already there.
    rows = daemon.sessions(sid)
    assert len(rows) == 1
    s = rows[0]
    assert s["state"] == "open" and s["close_reason"] is None and s["stopped_ms"] is None
    assert s["nas"] == "ggsn" and s["imsi"] == IMSI
    assert s["framed_ip"] == ip_int(IP)
    assert s["interim"] == 900          # the meters policy's Acct-Interim-Interval
    assert (s["in_octets"], s["out_octets"]) == (0, 0)
    st = daemon.acct_stats()
    assert st["sessions_open"] == 1
    assert st["sessions_started"] == s0["sessions_started"] + 1

    assert nas.acct(ACCT_INTERIM, in_octets=1000, out_octets=5000, session_time=60,
                    ma=True, **common) is not None
    assert nas.acct(ACCT_INTERIM, in_octets=3000, out_octets=9000, session_time=120,
                    **common) is not None
    s = daemon.sessions(sid)[0]
    assert s["state"] == "open"
    assert (s["in_octets"], s["out_octets"]) == (3000, 9000)
    assert daemon.usage(IMSI) == (3000, 9000)
    assert daemon.acct_stats()["sessions_open"] == 1

    assert nas.acct(ACCT_STOP, in_octets=4500, out_octets=12000, session_time=150,
                    extra=[("Acct-Terminate-Cause", "User-Request")], **common) is not None
    rows = daemon.sessions(sid)
    assert len(rows) == 1
    s = rows[0]
    assert s["state"] == "closed" and s["close_reason"] == "stop"
    assert s["stopped_ms"] is not None and s["stopped_ms"] >= s["started_ms"]
    assert (s["in_octets"], s["out_octets"]) == (4500, 12000)
    assert (s["last_in"], s["last_out"], s["last_time"]) == (4500, 12000, 150)

    # usage_daily for today (UTC) is the whole session.
    day = utc_day()
    u = daemon.db_rows("SELECT u.day, u.in_octets, u.out_octets, u.tenant_id FROM usage_daily u"
                       " JOIN sims s ON s.id = u.sim_id WHERE s.imsi = ?", IMSI)
    assert len(u) == 1, [dict(r) for r in u]
    assert u[0]["day"] in (day_before, day)
    assert (u[0]["in_octets"], u[0]["out_octets"]) == (4500, 12000)
    assert u[0]["tenant_id"] == s["tenant_id"]

    st = daemon.acct_stats()
    assert st["sessions_open"] == 0
    assert st["sessions_stopped"] == s0["sessions_stopped"] + 1
    assert st["octets_in"] - s0["octets_in"] == 4500
    assert st["octets_out"] - s0["octets_out"] == 12000
    assert st["records"] - s0["records"] == 4

    assert records(daemon, sid) == [(1, 0, 0, 0), (3, 1000, 5000, 60), (3, 3000, 9000, 120),
                                    (2, 4500, 12000, 150)]


def test_request_with_wrong_secret_gets_no_response_and_changes_nothing(daemon, nas):
    sid = "lifecycle-0002"
    assert nas.acct(ACCT_START, session_id=sid, imsi=IMSI, in_octets=0, out_octets=0,
                    session_time=0) is not None
    before = daemon.usage(IMSI)
    forged = nas.build_acct(ACCT_INTERIM, session_id=sid, imsi=IMSI, in_octets=10 ** 9,
                            out_octets=10 ** 9, session_time=60,
                            secret=b"not-the-secret-of-this-nas")
    assert nas.acct_exchange(forged, timeout=0.5) is None
    # A later, valid request is answered, and the forged one left no trace.
    assert nas.acct(ACCT_INTERIM, session_id=sid, imsi=IMSI, in_octets=100, out_octets=200,
                    session_time=60) is not None
    assert records(daemon, sid) == [(1, 0, 0, 0), (3, 100, 200, 60)]
    s = daemon.sessions(sid)[0]
    assert (s["in_octets"], s["out_octets"]) == (100, 200)
    assert daemon.usage(IMSI) == (before[0] + 100, before[1] + 200)
    assert nas.acct(ACCT_STOP, session_id=sid, imsi=IMSI, in_octets=100, out_octets=200,
                    session_time=70) is not None


def test_retransmitted_stop_is_answered_without_a_new_session(daemon, nas):
    sid = "lifecycle-0003"
    assert nas.acct(ACCT_START, session_id=sid, imsi=IMSI, in_octets=0, out_octets=0,
                    session_time=0) is not None
    stop = nas.build_acct(ACCT_STOP, session_id=sid, imsi=IMSI, in_octets=700, out_octets=800,
                          session_time=30)
    usage0 = daemon.usage(IMSI)
    assert nas.acct_exchange(stop) is not None
    st1 = daemon.acct_stats()
    for _ in range(3):      # the NAS did not hear us: the same datagram again
        assert nas.acct_exchange(stop) is not None
    st2 = daemon.acct_stats()
    rows = daemon.sessions(sid)
    assert len(rows) == 1 and rows[0]["state"] == "closed"
    assert (rows[0]["in_octets"], rows[0]["out_octets"]) == (700, 800)
    assert daemon.usage(IMSI) == (usage0[0] + 700, usage0[1] + 800)
    assert st2["sessions_started"] == st1["sessions_started"]
    assert st2["sessions_stopped"] == st1["sessions_stopped"]
    assert st2["octets_in"] == st1["octets_in"]
    assert st2["sessions_open"] == 0


def test_start_reusing_a_closed_session_id_is_a_new_session(daemon, nas):
    sid = "lifecycle-0004"
    assert nas.acct(ACCT_START, session_id=sid, imsi=IMSI, session_time=0) is not None
    assert nas.acct(ACCT_STOP, session_id=sid, imsi=IMSI, in_octets=50, out_octets=60,
                    session_time=10) is not None
    usage0 = daemon.usage(IMSI)
    st0 = daemon.acct_stats()
    assert nas.acct(ACCT_START, session_id=sid, imsi=IMSI, in_octets=0, out_octets=0,
                    session_time=0) is not None
    assert nas.acct(ACCT_INTERIM, session_id=sid, imsi=IMSI, in_octets=20, out_octets=30,
                    session_time=60) is not None
    rows = daemon.sessions(sid)
    assert [(r["state"], r["in_octets"], r["out_octets"]) for r in rows] == \
        [("closed", 50, 60), ("open", 20, 30)]
    assert daemon.usage(IMSI) == (usage0[0] + 20, usage0[1] + 30)
    st = daemon.acct_stats()
    assert st["sessions_open"] == st0["sessions_open"] + 1
    assert st["sessions_started"] == st0["sessions_started"] + 1
    assert nas.acct(ACCT_STOP, session_id=sid, imsi=IMSI, in_octets=20, out_octets=30,
                    session_time=61) is not None
    assert daemon.acct_stats()["sessions_open"] == st0["sessions_open"]


def test_stop_and_start_of_the_same_id_in_one_batch_are_both_counted(daemon, nas):
    """A NAS that ends a session and at once starts another with the same
    Acct-Session-Id: both records land in the same batch when the accounting
    thread is busy (a burst of other sessions' Interims ahead of them)."""
    sid = "lifecycle-0005"
    other = daemon.acct_client()
    try:
        for trial in range(3):
            assert nas.acct(ACCT_START, session_id=sid, imsi=IMSI, in_octets=0, out_octets=0,
                            session_time=0) is not None
            assert nas.acct(ACCT_INTERIM, session_id=sid, imsi=IMSI, in_octets=5000,
                            out_octets=5000, session_time=60) is not None
            st0 = daemon.acct_stats()
            burst = [other.build_acct(ACCT_INTERIM, session_id="burst-%d" % i, imsi=IMSI,
                                      in_octets=0, out_octets=0, session_time=trial)
                     for i in range(200)]
            stop = nas.build_acct(ACCT_STOP, session_id=sid, imsi=IMSI, in_octets=6000,
                                  out_octets=6000, session_time=120)
            start = nas.build_acct(ACCT_START, session_id=sid, imsi=IMSI, in_octets=0,
                                   out_octets=0, session_time=0)
            for raw in burst:
                other.send_raw(raw)
            nas.send_raw(stop)
            nas.send_raw(start)
            assert nas.receive_acct(stop) is not None
            assert nas.receive_acct(start) is not None
            # The burst went through another socket (maybe another worker):
            # wait for all of its answers before reading the counters.
            answered = 0
            other.sock.settimeout(5)
            try:
                while answered < len(burst):
                    other.sock.recvfrom(4096)
                    answered += 1
            except OSError:
                pass
            assert answered == len(burst), answered
            st = daemon.acct_stats()
            # One session stopped, one started, 1000 octets more each way.
            assert st["sessions_stopped"] - st0["sessions_stopped"] == 1, (st0, st)
            assert st["sessions_started"] - st0["sessions_started"] == 1 + \
                (200 if trial == 0 else 0), (st0, st)
            assert st["octets_in"] - st0["octets_in"] == 1000, (st0, st)
            assert nas.acct(ACCT_STOP, session_id=sid, imsi=IMSI, in_octets=0, out_octets=0,
                            session_time=1) is not None
            time.sleep(0.05)
            other.sock.settimeout(0.2)
            try:
                while True:
                    other.sock.recvfrom(4096)
            except OSError:
                pass
    finally:
        other.close()
