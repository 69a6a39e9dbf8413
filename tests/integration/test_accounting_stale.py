"""
Scenario: stale sessions.  A session with no record for 2 × its
Acct-Interim-Interval + 60 s is closed ("stale", accounting.sessions_stale);
one that is merely quiet is not.  The interval comes from the SIM's group
policy: trackers 600 s (stale after 1260 s), meters 900 s (after 1860 s).

Waiting that long is no test, and the policy minimum (60 s → 180 s) is no
better.  Instead the daemon first runs under libfaketime 25 minutes
(1500 s) in the past: the sessions it opens carry that time.  It is then
restarted on the real clock; the sweep that runs as the accounting thread
starts finds the tracker's session 1500 s old (> 1260: closed) and the
meter's too (< 1860: kept open).  No database is written by the test.

Skipped without libfaketime (Debian package libfaketime).  In a sanitizer
build the ASan runtime must come first in the initial library list, so it
is preloaded ahead of libfaketime.
"""
import time

import pytest

from conftest import (ACCT_INTERIM, ACCT_START, NEEDS_FAKETIME, acct_listen_line,
                      faketime_preload)

OFFSET_S = 1500
TRACKER, METER = "234151000000111", "234151000000036"


pytestmark = [NEEDS_FAKETIME]


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("acct-stale", conf_extra=acct_listen_line(), start=False)


def test_stale_session_is_closed_and_a_quiet_one_is_not(daemon, monkeypatch):
    monkeypatch.setenv("LD_PRELOAD", faketime_preload())
    monkeypatch.setenv("FAKETIME", "-%d" % OFFSET_S)
    monkeypatch.setenv("FAKETIME_DONT_RESET", "1")
    daemon.start()
    nas = daemon.acct_client()
    try:
        for sid, imsi in (("stale-tracker", TRACKER), ("quiet-meter", METER)):
            assert nas.acct(ACCT_START, session_id=sid, imsi=imsi, in_octets=0, out_octets=0,
                            session_time=0) is not None
            assert nas.acct(ACCT_INTERIM, session_id=sid, imsi=imsi, in_octets=100,
                            out_octets=200, session_time=60) is not None
    finally:
        nas.close()
    rows = {r["acct_session_id"]: r for r in daemon.sessions()}
    assert rows["stale-tracker"]["interim"] == 600
    assert rows["quiet-meter"]["interim"] == 900
    age_ms = time.time() * 1000 - rows["stale-tracker"]["updated_ms"]
    assert age_ms > (OFFSET_S - 60) * 1000, "libfaketime did not move the daemon's clock"
    assert daemon.acct_stats()["sessions_stale"] == 0
    assert daemon.stop() == 0

    monkeypatch.delenv("LD_PRELOAD")
    monkeypatch.delenv("FAKETIME")
    t0 = time.time() * 1000
    daemon.start()
    st = daemon.stats_when(lambda s: s["accounting"]["batches"] >= 1, timeout=5,
                           what="the first accounting pass (with the stale sweep)")
    acct = st["accounting"]
    assert acct["sessions_stale"] == 1, acct
    assert acct["sessions_open"] == 1, acct

    rows = {r["acct_session_id"]: r for r in daemon.sessions()}
    t = rows["stale-tracker"]
    assert t["state"] == "closed" and t["close_reason"] == "stale"
    assert t["stopped_ms"] >= t0 - 1000
    assert (t["in_octets"], t["out_octets"]) == (100, 200)     # closing adds nothing
    m = rows["quiet-meter"]
    assert m["state"] == "open" and m["close_reason"] is None
    assert daemon.usage(TRACKER) == (100, 200)
    assert daemon.usage(METER) == (100, 200)

    # The quiet session goes on in the same row.
    nas = daemon.acct_client()
    try:
        assert nas.acct(ACCT_INTERIM, session_id="quiet-meter", imsi=METER, in_octets=150,
                        out_octets=250, session_time=1560) is not None
    finally:
        nas.close()
    rows = daemon.sessions("quiet-meter")
    assert len(rows) == 1 and rows[0]["in_octets"] == 150 and rows[0]["state"] == "open"
