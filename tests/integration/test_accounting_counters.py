"""
Scenario: usage from cumulative counters (accounting.h).  64-bit counters
with Acct-{Input,Output}-Gigawords; a retransmission (same datagram) counts
once; an older Acct-Session-Time is ignored (`reordered`); counters that go
backwards while time goes forward are a reset and the new value is the
delta (`counter_resets`); an Interim or a Stop without a Start opens the
session with its full counters; a Stop right after the Start counts.  And
whatever the NAS sends, no total ever decreases: a mixed sequence is checked
after every answer against a model of the rules.

Each test has its own SIM, so usage_daily of that SIM is the test's alone.
"""
import pytest

from conftest import (ACCT_INTERIM, ACCT_START, ACCT_STOP, GIGAWORD, acct_listen_line)


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("acct-counters", conf_extra=acct_listen_line())


@pytest.fixture
def nas(daemon):
    c = daemon.acct_client()
    yield c
    c.close()


def totals(daemon, sid):
    rows = daemon.sessions(sid)
    assert len(rows) == 1, [dict(r) for r in rows]
    return rows[0]["in_octets"], rows[0]["out_octets"]


def test_gigawords_extend_the_counters_to_64_bits(daemon, nas):
    imsi, sid = "234151000000012", "gw-1"
    start = nas.build_acct(attrs=[
        ("Acct-Status-Type", "Start"), ("Acct-Session-Id", sid), ("User-Name", imsi),
        ("Acct-Input-Octets", 5), ("Acct-Input-Gigawords", 2),
        ("Acct-Output-Octets", 7), ("Acct-Output-Gigawords", 1),
        ("Acct-Session-Time", 0), ("3GPP-IMSI", imsi)])
    assert nas.acct_exchange(start) is not None
    assert totals(daemon, sid) == (2 * GIGAWORD + 5, GIGAWORD + 7)
    assert daemon.usage(imsi) == (2 * GIGAWORD + 5, GIGAWORD + 7)
    r = daemon.db_rows("SELECT in_octets, out_octets FROM acct_records"
                       " WHERE acct_session_id = ?", sid)
    assert (r[0]["in_octets"], r[0]["out_octets"]) == (2 * GIGAWORD + 5, GIGAWORD + 7)

    # Octets wraps, Gigawords carries: the delta is across the 2^32 boundary.
    assert nas.acct(ACCT_INTERIM, session_id=sid, imsi=imsi, in_octets=3 * GIGAWORD + 1,
                    out_octets=GIGAWORD + 7 + 100, session_time=60) is not None
    assert totals(daemon, sid) == (3 * GIGAWORD + 1, GIGAWORD + 107)
    assert daemon.usage(imsi) == (3 * GIGAWORD + 1, GIGAWORD + 107)


def test_retransmission_is_counted_once(daemon, nas):
    imsi, sid = "234151000000013", "rtx-1"
    assert nas.acct(ACCT_START, session_id=sid, imsi=imsi, in_octets=0, out_octets=0,
                    session_time=0) is not None
    st0 = daemon.acct_stats()
    interim = nas.build_acct(ACCT_INTERIM, session_id=sid, imsi=imsi, in_octets=1500,
                             out_octets=2500, session_time=60)
    assert nas.acct_exchange(interim) is not None
    assert nas.acct_exchange(interim) is not None      # same bytes: both answered
    assert totals(daemon, sid) == (1500, 2500)
    assert daemon.usage(imsi) == (1500, 2500)
    st = daemon.acct_stats()
    assert st["octets_in"] - st0["octets_in"] == 1500
    assert st["reordered"] == st0["reordered"]
    assert st["counter_resets"] == st0["counter_resets"]
    n = daemon.db_rows("SELECT count(*) AS n FROM acct_records WHERE acct_session_id = ?"
                       " AND status = 3", sid)[0]["n"]
    assert n == 2       # every acknowledged record is kept, usage counted once


def test_reordered_interim_is_ignored(daemon, nas):
    imsi, sid = "234151000000014", "reorder-1"
    assert nas.acct(ACCT_START, session_id=sid, imsi=imsi, in_octets=0, out_octets=0,
                    session_time=0) is not None
    older = nas.build_acct(ACCT_INTERIM, session_id=sid, imsi=imsi, in_octets=1000,
                           out_octets=1000, session_time=60)
    newer = nas.build_acct(ACCT_INTERIM, session_id=sid, imsi=imsi, in_octets=2000,
                           out_octets=3000, session_time=120)
    assert nas.acct_exchange(newer) is not None
    st0 = daemon.acct_stats()
    assert nas.acct_exchange(older) is not None         # late, but answered
    st = daemon.acct_stats()
    assert st["reordered"] == st0["reordered"] + 1
    assert st["counter_resets"] == st0["counter_resets"]
    assert st["octets_in"] == st0["octets_in"]
    s = daemon.sessions(sid)[0]
    assert (s["in_octets"], s["out_octets"], s["last_time"]) == (2000, 3000, 120)
    assert daemon.usage(imsi) == (2000, 3000)
    # The next one in order continues from the newer record.
    assert nas.acct(ACCT_INTERIM, session_id=sid, imsi=imsi, in_octets=2500, out_octets=3100,
                    session_time=180) is not None
    assert totals(daemon, sid) == (2500, 3100)
    assert daemon.usage(imsi) == (2500, 3100)


def test_counter_reset_adds_the_new_value(daemon, nas):
    imsi, sid = "234151000000015", "reset-1"
    assert nas.acct(ACCT_START, session_id=sid, imsi=imsi, in_octets=0, out_octets=0,
                    session_time=0) is not None
    assert nas.acct(ACCT_INTERIM, session_id=sid, imsi=imsi, in_octets=5000, out_octets=8000,
                    session_time=60) is not None
    st0 = daemon.acct_stats()
    # The PGW's counters restarted; time went on.
    assert nas.acct(ACCT_INTERIM, session_id=sid, imsi=imsi, in_octets=300, out_octets=400,
                    session_time=120) is not None
    st = daemon.acct_stats()
    assert st["counter_resets"] == st0["counter_resets"] + 1
    assert st["reordered"] == st0["reordered"]
    assert st["octets_in"] - st0["octets_in"] == 300
    assert totals(daemon, sid) == (5300, 8400)
    assert nas.acct(ACCT_INTERIM, session_id=sid, imsi=imsi, in_octets=1300, out_octets=900,
                    session_time=180) is not None
    assert totals(daemon, sid) == (6300, 8900)
    assert daemon.usage(imsi) == (6300, 8900)
    assert daemon.acct_stats()["counter_resets"] == st0["counter_resets"] + 1


def test_interim_without_start_opens_the_session_with_its_counters(daemon, nas):
    imsi, sid = "234151000000016", "nostart-1"
    st0 = daemon.acct_stats()
    assert nas.acct(ACCT_INTERIM, session_id=sid, imsi=imsi, in_octets=7000, out_octets=3000,
                    session_time=300) is not None
    s = daemon.sessions(sid)
    assert len(s) == 1 and s[0]["state"] == "open"
    assert (s[0]["in_octets"], s[0]["out_octets"]) == (7000, 3000)
    # Started Acct-Session-Time seconds before it was received.
    assert s[0]["updated_ms"] - s[0]["started_ms"] == 300000
    assert daemon.usage(imsi) == (7000, 3000)
    st = daemon.acct_stats()
    assert st["sessions_started"] == st0["sessions_started"] + 1
    assert st["sessions_open"] == st0["sessions_open"] + 1
    assert nas.acct(ACCT_INTERIM, session_id=sid, imsi=imsi, in_octets=7100, out_octets=3000,
                    session_time=360) is not None
    assert totals(daemon, sid) == (7100, 3000)


def test_stop_right_after_start_is_counted(daemon, nas):
    imsi, sid = "234151000000017", "short-1"
    assert nas.acct(ACCT_START, session_id=sid, imsi=imsi, in_octets=0, out_octets=0,
                    session_time=0) is not None
    assert nas.acct(ACCT_STOP, session_id=sid, imsi=imsi, in_octets=4096, out_octets=8192,
                    session_time=30) is not None
    s = daemon.sessions(sid)[0]
    assert s["state"] == "closed" and s["close_reason"] == "stop"
    assert (s["in_octets"], s["out_octets"]) == (4096, 8192)
    assert daemon.usage(imsi) == (4096, 8192)


def test_stop_without_start_is_a_closed_session_with_its_counters(daemon, nas):
    imsi, sid = "234151000000018", "stoponly-1"
    st0 = daemon.acct_stats()
    assert nas.acct(ACCT_STOP, session_id=sid, imsi=imsi, in_octets=900, out_octets=100,
                    session_time=45) is not None
    s = daemon.sessions(sid)
    assert len(s) == 1 and s[0]["state"] == "closed" and s[0]["close_reason"] == "stop"
    assert (s[0]["in_octets"], s[0]["out_octets"]) == (900, 100)
    assert daemon.usage(imsi) == (900, 100)
    st = daemon.acct_stats()
    assert st["sessions_open"] == st0["sessions_open"]
    assert st["sessions_started"] == st0["sessions_started"] + 1
    assert st["sessions_stopped"] == st0["sessions_stopped"] + 1


class Model:
    """accounting.h's rules for one session, for comparison."""

    def __init__(self):
        self.last_in = self.last_out = self.last_time = 0
        self.total_in = self.total_out = 0

    def apply(self, c_in, c_out, t):
        if t < self.last_time:
            return                                  # reordered: ignored
        self.total_in += c_in - self.last_in if c_in >= self.last_in else c_in
        self.total_out += c_out - self.last_out if c_out >= self.last_out else c_out
        self.last_in, self.last_out, self.last_time = c_in, c_out, t


def test_totals_never_decrease(daemon, nas):
    imsi, sid = "234151000000019", "mixed-1"
    g = GIGAWORD
    # (status, in, out, time): retransmissions, reordering, resets, gigawords.
    seq = [
        (ACCT_START, 0, 0, 0),
        (ACCT_INTERIM, 1000, 2000, 60),
        (ACCT_INTERIM, 1000, 2000, 60),         # retransmission
        (ACCT_INTERIM, 5000, 2500, 180),
        (ACCT_INTERIM, 3000, 2200, 120),        # late
        (ACCT_INTERIM, 400, 100, 240),          # reset
        (ACCT_INTERIM, 400, 100, 240),          # retransmission of the reset
        (ACCT_INTERIM, 200, 50, 200),           # late, below the reset
        (ACCT_INTERIM, g - 10, 3000, 300),
        (ACCT_INTERIM, g + 10, 3000, 360),      # across 2^32
        (ACCT_INTERIM, 2 * g + 7, g, 420),
        (ACCT_INTERIM, 2 * g + 6, g + 1, 480),  # in backwards, out forwards
        (ACCT_INTERIM, 0, 0, 480),              # both backwards, same time
        (ACCT_INTERIM, 0, 0, 10),               # very late
        (ACCT_INTERIM, 77, 88, 540),
        (ACCT_STOP, 1077, 1088, 600),
    ]
    model = Model()
    prev_session = (0, 0)
    prev_usage = (0, 0)
    prev_stats = daemon.acct_stats()
    for status, c_in, c_out, t in seq:
        assert nas.acct(status, session_id=sid, imsi=imsi, in_octets=c_in, out_octets=c_out,
                        session_time=t) is not None
        model.apply(c_in, c_out, t)
        got = totals(daemon, sid)
        usage = daemon.usage(imsi)
        stats = daemon.acct_stats()
        step = (status, c_in, c_out, t)
        assert got[0] >= prev_session[0] and got[1] >= prev_session[1], (step, prev_session, got)
        assert usage[0] >= prev_usage[0] and usage[1] >= prev_usage[1], (step, prev_usage, usage)
        assert stats["octets_in"] >= prev_stats["octets_in"], step
        assert stats["octets_out"] >= prev_stats["octets_out"], step
        assert got == (model.total_in, model.total_out), step
        assert usage == got, step
        prev_session, prev_usage, prev_stats = got, usage, stats
    assert daemon.sessions(sid)[0]["state"] == "closed"
