"""
Scenario: usage_burst — a SIM's bytes in the current (UTC) hour against the
moving mean of its own hourly bytes (policy usage.burst: factor 5, at least
100 kB, a 3-hour mean, judged after 3 hours of history).

The daemon's clock is moved with libfaketime (a timestamp file re-read on
every call, so the test sets the hour of each record).  Tracker A sends
50 kB an hour for four hours, then 60 kB (no burst: below 5 × 50 kB and
below 100 kB), then 300 kB more in the same hour: one usage_burst with the
hour, the bytes, the baseline and the history in its evidence; more
traffic in that hour raises nothing more.  Tracker B keeps to its 50 kB an
hour: nothing.  The detector's state survives a restart: the same hour's
burst is not raised again, and the baseline is in the store.
"""
import pytest

from conftest import (ACCT_INTERIM, ACCT_START, DATA, DEFAULT_POLICIES, FLEET, NEEDS_FAKETIME,
                      acct_barrier, acct_listen_line, daemon_dir, faketime_preload, wait_until)

POLICIES = dict(DEFAULT_POLICIES, trackers=DATA / "policies" / "usage-burst.json")
A, B = "234151000000101", "234151000000102"

pytestmark = [NEEDS_FAKETIME]


def iccid_of(imsi):
    return FLEET[imsi]["iccid"]


@pytest.fixture
def clock(monkeypatch):
    """Set the daemon's clock offset in hours (relative to now).  The file is
    where the daemon, once it runs as its unprivileged user, can read it."""
    f = daemon_dir("clock") / "faketime"

    def set_hours(h):
        f.write_text("%+d\n" % (h * 3600))
    set_hours(-5)
    monkeypatch.setenv("LD_PRELOAD", faketime_preload())
    monkeypatch.setenv("FAKETIME_TIMESTAMP_FILE", str(f))
    monkeypatch.setenv("FAKETIME_NO_CACHE", "1")
    monkeypatch.setenv("FAKETIME_DONT_FAKE_MONOTONIC", "1")
    monkeypatch.setenv("FAKETIME_DONT_RESET", "1")
    return set_hours


@pytest.fixture
def daemon(daemon_factory, clock):
    return daemon_factory("burst", policies=POLICIES, conf_extra=acct_listen_line())


def bursts(daemon, imsi):
    return [f for f in daemon.findings(kind="usage_burst", subject=iccid_of(imsi))]


def test_burst_against_the_sims_own_baseline(daemon, clock):
    nas = daemon.acct_client()
    total = {A: 0, B: 0}
    t = {A: 0, B: 0}

    def send(imsi, add, status=ACCT_INTERIM):
        total[imsi] += add
        t[imsi] += 60
        assert nas.acct(status, session_id="burst-" + imsi[-3:], imsi=imsi,
                        in_octets=total[imsi] // 5, out_octets=total[imsi] - total[imsi] // 5,
                        session_time=t[imsi]) is not None
    try:
        clock(-5)
        for imsi in (A, B):
            send(imsi, 0, ACCT_START)
        for h in (-4, -3, -2, -1):          # four hours of 50 kB
            clock(h)
            send(A, 50000)
            send(B, 50000)
        clock(0)
        send(A, 60000)
        send(B, 50000)
        acct_barrier(nas)
        assert bursts(daemon, A) == []
        send(A, 300000)                     # 360 kB this hour: more than 5 × the mean
        found = wait_until(lambda: bursts(daemon, A) or None, what="a usage_burst for A")
        assert len(found) == 1
        ev = found[0]["evidence"]
        assert ev["bytes_this_hour"] == 360000
        assert 30000 <= ev["baseline_bytes_per_hour"] <= 50000, ev
        assert ev["factor_x100"] == 500 and ev["history_hours"] >= 3, ev
        assert ev["hour"].endswith(":00Z") and ev["acct_session_id"] == "burst-101"
        send(A, 300000)                     # the same hour: once is enough
        send(B, 10000)
        acct_barrier(nas)
        assert len(bursts(daemon, A)) == 1
        assert bursts(daemon, B) == []
    finally:
        nas.close()

    assert daemon.stop() == 0, daemon.stderr()[-3000:]
    daemon.start()
    nas = daemon.acct_client()
    try:
        send(A, 300000)
        acct_barrier(nas)
    finally:
        nas.close()
    assert len(bursts(daemon, A)) == 1, "the burst of this hour was raised again after a restart"
    row = daemon.db_rows("SELECT b.* FROM usage_burst b JOIN sims s ON s.id = b.sim_id"
                         " WHERE s.imsi = ?", A)[0]
    assert row["hour_bytes"] == 960000 and row["fired"] == 1 and row["hours"] >= 3
