"""
Scenario: a NAS restarts.  Its Accounting-On (or -Off) says every session
it had is gone (RFC 2866 §5.1): m2mguard closes all open sessions of that
NAS — close_reason "accounting-on" / "accounting-off", counted in
accounting.sessions_nas_reset — and leaves the sessions of the other NAS
alone.  Sessions are keyed by (NAS client, Acct-Session-Id): two PGWs may
use the same Acct-Session-Id without touching each other's session.

Two clients: `ggsn` (127.0.0.1) and `pgw2` (127.0.0.2, its own secret).
"""
import pytest

from conftest import (ACCT_INTERIM, ACCT_OFF, ACCT_ON, ACCT_START, ACCT_STOP, CLIENT, TENANT,
                      acct_listen_line)

SECRET2 = b"second-pgw-secret-4b7e1c9d2a6f3e80"
PGW2 = ('client pgw2 {\n    address 127.0.0.2/32\n    secret "%s"\n    tenant %s\n}\n'
        % (SECRET2.decode(), TENANT))

IMSIS = ["234151000000021", "234151000000022", "234151000000023", "234151000000024",
         "234151000000025", "234151000000026"]


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("acct-nas-reset", conf_extra=acct_listen_line() + PGW2)


@pytest.fixture
def ggsn(daemon):
    c = daemon.acct_client()
    yield c
    c.close()


@pytest.fixture
def pgw2(daemon):
    c = daemon.acct_client(secret=SECRET2, source="127.0.0.2")
    yield c
    c.close()


def state(daemon, nas, sid):
    rows = daemon.db_rows("SELECT state, close_reason, stopped_ms, in_octets FROM sessions"
                          " WHERE nas = ? AND acct_session_id = ? ORDER BY id", nas, sid)
    return [(r["state"], r["close_reason"]) for r in rows]


def start(client, sid, imsi, c_in=0):
    assert client.acct(ACCT_START, session_id=sid, imsi=imsi, in_octets=0, out_octets=0,
                       session_time=0) is not None
    if c_in:
        assert client.acct(ACCT_INTERIM, session_id=sid, imsi=imsi, in_octets=c_in,
                           out_octets=c_in, session_time=60) is not None


def test_accounting_on_closes_only_that_nas_sessions(daemon, ggsn, pgw2):
    start(ggsn, "g-1", IMSIS[0], 100)
    start(ggsn, "g-2", IMSIS[1], 200)
    start(ggsn, "g-3", IMSIS[2])
    start(ggsn, "g-done", IMSIS[3])
    assert ggsn.acct(ACCT_STOP, session_id="g-done", imsi=IMSIS[3], in_octets=5,
                     out_octets=5, session_time=5) is not None
    start(pgw2, "p-1", IMSIS[4], 300)
    start(pgw2, "p-2", IMSIS[5])
    st0 = daemon.acct_stats()
    assert st0["sessions_open"] == 5

    # Accounting-On carries no Acct-Session-Id.
    on = ggsn.build_acct(ACCT_ON, extra=[("Acct-Terminate-Cause", "NAS-Reboot")])
    assert ggsn.acct_exchange(on) is not None

    for sid in ("g-1", "g-2", "g-3"):
        assert state(daemon, CLIENT, sid) == [("closed", "accounting-on")], sid
    assert state(daemon, CLIENT, "g-done") == [("closed", "stop")]
    assert state(daemon, "pgw2", "p-1") == [("open", None)]
    assert state(daemon, "pgw2", "p-2") == [("open", None)]
    closed = daemon.db_rows("SELECT stopped_ms, updated_ms, in_octets FROM sessions"
                            " WHERE acct_session_id = 'g-1'")[0]
    assert closed["stopped_ms"] is not None and closed["stopped_ms"] == closed["updated_ms"]
    assert closed["in_octets"] == 100       # closing adds nothing

    st = daemon.acct_stats()
    assert st["sessions_open"] == 2
    assert st["sessions_nas_reset"] == st0["sessions_nas_reset"] + 3
    assert st["octets_in"] == st0["octets_in"]
    # The Accounting-On itself is kept (its Acct-Session-Id column: see
    # test_accounting_attributes.py).
    rec = daemon.db_rows("SELECT nas FROM acct_records WHERE status = 7")
    assert [r["nas"] for r in rec] == [CLIENT]

    # The other NAS's sessions go on.
    assert pgw2.acct(ACCT_INTERIM, session_id="p-1", imsi=IMSIS[4], in_octets=350,
                     out_octets=350, session_time=120) is not None
    assert daemon.usage(IMSIS[4]) == (350, 350)

    # After its restart the first NAS starts new sessions as usual.
    start(ggsn, "g-4", IMSIS[0])
    assert daemon.acct_stats()["sessions_open"] == 3


def test_accounting_off_closes_the_other_nas_sessions(daemon, pgw2, ggsn):
    st0 = daemon.acct_stats()
    open_before = daemon.db_rows("SELECT acct_session_id FROM sessions"
                                 " WHERE nas = 'pgw2' AND state = 'open'")
    assert len(open_before) == 2
    assert pgw2.acct(ACCT_OFF) is not None
    assert state(daemon, "pgw2", "p-1") == [("closed", "accounting-off")]
    assert state(daemon, "pgw2", "p-2") == [("closed", "accounting-off")]
    assert state(daemon, CLIENT, "g-4") == [("open", None)]
    st = daemon.acct_stats()
    assert st["sessions_open"] == st0["sessions_open"] - 2
    assert st["sessions_nas_reset"] == st0["sessions_nas_reset"] + 2


def test_same_session_id_on_two_nas_are_two_sessions(daemon, ggsn, pgw2):
    sid = "shared-id-1"
    start(ggsn, sid, IMSIS[1], 1000)
    start(pgw2, sid, IMSIS[2], 50)
    assert ggsn.acct(ACCT_INTERIM, session_id=sid, imsi=IMSIS[1], in_octets=1500,
                     out_octets=1500, session_time=120) is not None
    rows = daemon.db_rows("SELECT nas, in_octets, state FROM sessions WHERE acct_session_id = ?"
                          " ORDER BY nas", sid)
    assert [(r["nas"], r["in_octets"], r["state"]) for r in rows] == \
        [(CLIENT, 1500, "open"), ("pgw2", 50, "open")]
    # A Stop from one NAS closes its own session only.
    assert pgw2.acct(ACCT_STOP, session_id=sid, imsi=IMSIS[2], in_octets=60, out_octets=60,
                     session_time=90) is not None
    rows = daemon.db_rows("SELECT nas, in_octets, state FROM sessions WHERE acct_session_id = ?"
                          " ORDER BY nas", sid)
    assert [(r["nas"], r["in_octets"], r["state"]) for r in rows] == \
        [(CLIENT, 1500, "open"), ("pgw2", 60, "closed")]
