"""
Scenario: the daemon restarts (SIGTERM, then `serve` again with the same
config) while sessions are open.  The open sessions are loaded back
(accounting.sessions_open unchanged, "N open sessions restored"), the
stale-session sweep that runs at start-up does not close them, and a later
Interim continues the same session row: a retransmission of the last
record counts nothing, the next one only its delta.  A Stop answered before
the restart and retransmitted after it (the NAS did not hear the answer)
must not open and count a second session.
"""
import pytest

from conftest import ACCT_INTERIM, ACCT_START, ACCT_STOP, acct_listen_line

A, B, C = "234151000000101", "234151000000102", "234151000000103"


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("acct-restart", conf_extra=acct_listen_line())


def restart(daemon):
    assert daemon.stop() == 0, daemon.stderr()[-3000:]
    daemon.start()


def snapshot(daemon):
    return {r["acct_session_id"]: dict(r) for r in daemon.sessions()}


def test_open_sessions_survive_a_restart(daemon):
    nas = daemon.acct_client()
    try:
        for sid, imsi in (("rs-a", A), ("rs-b", B), ("rs-c", C)):
            assert nas.acct(ACCT_START, session_id=sid, imsi=imsi, in_octets=0, out_octets=0,
                            session_time=0) is not None
        assert nas.acct(ACCT_INTERIM, session_id="rs-a", imsi=A, in_octets=1000,
                        out_octets=2000, session_time=60) is not None
        last_b = nas.build_acct(ACCT_INTERIM, session_id="rs-b", imsi=B, in_octets=500,
                                out_octets=600, session_time=60)
        assert nas.acct_exchange(last_b) is not None
        assert nas.acct(ACCT_STOP, session_id="rs-c", imsi=C, in_octets=70, out_octets=80,
                        session_time=30) is not None
    finally:
        nas.close()
    before = daemon.acct_stats()
    assert before["sessions_open"] == 2
    rows_before = snapshot(daemon)

    restart(daemon)
    assert "accounting: 2 open sessions restored" in daemon.stderr()
    st = daemon.acct_stats()
    assert st["sessions_open"] == 2
    assert st["sessions_started"] == 0 and st["octets_in"] == 0    # a new process's counters
    # The stale sweep runs as the accounting thread starts (it waits at most
    # 1 s for work first): give it that time, the sessions must stay open.
    daemon.stats_when(lambda s: s["accounting"]["batches"] >= 1, timeout=5,
                      what="the first accounting pass")
    assert daemon.acct_stats()["sessions_stale"] == 0
    assert snapshot(daemon) == rows_before

    nas = daemon.acct_client()
    try:
        # The NAS retransmits B's last Interim: answered, nothing counted.
        assert nas.acct_exchange(last_b) is not None
        assert daemon.usage(B) == (500, 600)
        # The next Interims continue the same rows.
        assert nas.acct(ACCT_INTERIM, session_id="rs-a", imsi=A, in_octets=1500,
                        out_octets=2100, session_time=120) is not None
        assert nas.acct(ACCT_INTERIM, session_id="rs-b", imsi=B, in_octets=900,
                        out_octets=600, session_time=120) is not None
    finally:
        nas.close()
    rows = snapshot(daemon)
    assert len(rows) == 3
    assert rows["rs-a"]["id"] == rows_before["rs-a"]["id"]
    assert (rows["rs-a"]["in_octets"], rows["rs-a"]["out_octets"]) == (1500, 2100)
    assert (rows["rs-b"]["in_octets"], rows["rs-b"]["out_octets"]) == (900, 600)
    assert rows["rs-a"]["started_ms"] == rows_before["rs-a"]["started_ms"]
    assert daemon.usage(A) == (1500, 2100)
    assert daemon.usage(B) == (900, 600)
    st = daemon.acct_stats()
    assert st["sessions_open"] == 2
    assert st["sessions_started"] == 0
    assert (st["octets_in"], st["octets_out"]) == (500 + 400, 100)
    assert st["counter_resets"] == 0 and st["reordered"] == 0


def test_sessions_restored_twice_are_still_one_row_each(daemon):
    restart(daemon)
    assert daemon.acct_stats()["sessions_open"] == 2
    nas = daemon.acct_client()
    try:
        assert nas.acct(ACCT_STOP, session_id="rs-a", imsi=A, in_octets=1600, out_octets=2100,
                        session_time=150) is not None
    finally:
        nas.close()
    rows = daemon.sessions("rs-a")
    assert len(rows) == 1 and rows[0]["state"] == "closed" and rows[0]["in_octets"] == 1600
    assert daemon.usage(A) == (1600, 2100)
    assert daemon.acct_stats()["sessions_open"] == 1


def test_stop_retransmitted_after_a_restart_is_not_counted_twice(daemon):
    D = "234151000000104"
    nas = daemon.acct_client()
    try:
        assert nas.acct(ACCT_START, session_id="rs-d", imsi=D, in_octets=0, out_octets=0,
                        session_time=0) is not None
        stop = nas.build_acct(ACCT_STOP, session_id="rs-d", imsi=D, in_octets=1000,
                              out_octets=2000, session_time=60)
        assert nas.acct_exchange(stop) is not None
    finally:
        nas.close()
    assert daemon.usage(D) == (1000, 2000)
    restart(daemon)
    nas = daemon.acct_client()
    try:
        assert nas.acct_exchange(stop) is not None
    finally:
        nas.close()
    assert daemon.usage(D) == (1000, 2000), "the retransmitted Stop was counted again"
    assert len(daemon.sessions("rs-d")) == 1
