"""
Scenario: the daemon copies its write-ahead log back into the database on
a thread of its own (store/checkpointer.h), never in the accounting
thread's commits.  Its work shows in `stats` (store.checkpoints,
store.checkpoint_pages), and a clean stop leaves no WAL behind: the last
checkpoint truncates it, so the database file alone holds everything.
"""
import os
import sqlite3

from conftest import ACCT_INTERIM, ACCT_START, acct_listen_line

A = "234151000000101"


def test_wal_is_copied_back_and_emptied_at_stop(daemon_factory):
    d = daemon_factory("store-ckpt", conf_extra=acct_listen_line())
    nas = d.acct_client()
    try:
        assert nas.acct(ACCT_START, session_id="ck-1", imsi=A, in_octets=0, out_octets=0,
                        session_time=0) is not None
        for i in range(1, 50):
            assert nas.acct(ACCT_INTERIM, session_id="ck-1", imsi=A, in_octets=1000 * i,
                            out_octets=10 * i, session_time=60 * i) is not None
    finally:
        nas.close()
    st = d.stats()["store"]
    for key in ("checkpoints", "checkpoint_pages", "checkpoint_errors", "wal_pages",
                "last_checkpoint_ms"):
        assert key in st, st
    assert st["checkpoint_errors"] == 0
    assert d.stop() == 0, d.stderr()[-3000:]
    wal = str(d.db) + "-wal"
    assert not os.path.exists(wal) or os.path.getsize(wal) == 0, \
        "WAL not emptied at stop: %d bytes" % os.path.getsize(wal)
    # Everything is in the database file itself.
    con = sqlite3.connect(str(d.db))
    try:
        n = con.execute("SELECT count(*) FROM acct_records WHERE acct_session_id = 'ck-1'")
        assert n.fetchone()[0] == 50
    finally:
        con.close()
