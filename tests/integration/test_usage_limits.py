"""
Scenario: data usage thresholds from RADIUS accounting (policy `usage`).

Trackers get data/policies/usage-daily-cap.json: warn at 5000 bytes a day,
limit at 10000, and `"usage_limit": ["disconnect", "suspend"]`.  Interim
updates that push a SIM past 5000 raise one usage_warning; past 10000 one
usage_limit, a Disconnect-Request to the GGSN (a TestNAS that ACKs) and the
SIM suspended.  Each fires once per day, whatever follows.

Meters get data/policies/usage-session-upload-cap.json: at most 3000 bytes
uplink (Acct-Input-Octets) per session, response disconnect.  Downlink
does not count; the limit fires once per session.

Usage is stored per SIM and day, so a limit holds across a restart: usage
counted before it plus a small delta after it reaches the limit, and a
threshold already reported before the restart is not reported again.

Findings are raised after the Accounting-Response is sent, so a test that
checks that nothing was raised first waits for acct_barrier() (conftest).
"""
import time

import pytest

from conftest import (ACCT_INTERIM, ACCT_START, ACCT_STOP, DATA, DEFAULT_POLICIES, FLEET,
                      acct_barrier, acct_listen_line, imeisv_of, wait_until)

POLICIES = dict(DEFAULT_POLICIES,
                trackers=DATA / "policies" / "usage-daily-cap.json",
                meters=DATA / "policies" / "usage-session-upload-cap.json")
HOME = "23415"


@pytest.fixture(scope="module")
def daemon(daemon_factory, da_nas):
    return daemon_factory("usage", policies=POLICIES, conf_extra=acct_listen_line(),
                          client_extra=da_nas.client_lines())


def usage_findings(daemon, iccid, kind=None):
    kinds = (kind,) if kind else ("usage_warning", "usage_limit")
    return [f for f in daemon.findings(subject=iccid) if f["kind"] in kinds]


def wait_findings(daemon, iccid, kind, n):
    return wait_until(lambda: (lambda f: f if len(f) >= n else None)(
        usage_findings(daemon, iccid, kind)), timeout=3.0,
        what="%d %s finding(s) for %s" % (n, kind, iccid))


def interim(acct, sid, imsi, i, o, t):
    assert acct.acct(ACCT_INTERIM, session_id=sid, imsi=imsi, in_octets=i, out_octets=o,
                     session_time=t) is not None


def test_daily_warning_then_limit_disconnects_and_suspends_once(daemon, da_nas, acct):
    imsi = "234151000000113"
    iccid = FLEET[imsi]["iccid"]
    sid = "usage-day-0001"
    assert acct.acct(ACCT_START, session_id=sid, imsi=imsi, framed_ip=FLEET[imsi]["ip"],
                     in_octets=0, out_octets=0, session_time=0)
    interim(acct, sid, imsi, 1000, 2000, 60)            # 3000: below both
    acct_barrier(acct)
    assert usage_findings(daemon, iccid) == []

    interim(acct, sid, imsi, 2000, 4000, 120)           # 6000: past the warning
    [w] = wait_findings(daemon, iccid, "usage_warning", 1)
    assert w["severity"] == "warning"
    ev = w["evidence"]
    assert (ev["period"], ev["direction"], ev["bytes"], ev["threshold"]) == \
        ("daily", "total", 6000, 5000), ev
    assert ev["imsi"] == imsi and ev["acct_session_id"] == sid
    interim(acct, sid, imsi, 3000, 4500, 180)           # 7500: already warned
    acct_barrier(acct)
    assert len(usage_findings(daemon, iccid, "usage_warning")) == 1
    assert usage_findings(daemon, iccid, "usage_limit") == []
    assert da_nas.requests() == []
    assert daemon.sim_state(imsi) == "active"

    da_nas.clear()
    interim(acct, sid, imsi, 4000, 7000, 240)           # 11000: past the limit
    [lim] = wait_findings(daemon, iccid, "usage_limit", 1)
    assert lim["severity"] == "critical"
    ev = lim["evidence"]
    assert (ev["period"], ev["direction"], ev["bytes"], ev["threshold"]) == \
        ("daily", "total", 11000, 10000), ev
    [req] = da_nas.wait_for(1, timeout=2.0)
    assert req.problems == [], req
    assert dict(req.identification())["Acct-Session-Id"] == sid
    wait_until(lambda: daemon.sessions(sid)[0]["close_reason"] == "disconnect",
               what="the session closed by the ACK")
    assert daemon.sim_state(imsi) == "suspended"
    log = daemon.db_rows("SELECT actor, action FROM admin_log WHERE target = ?", iccid)
    assert [(r["actor"], r["action"]) for r in log] == [("rule:usage_limit", "sim.suspend")]
    # The finding's actions, in the store: disconnect and suspend, done.
    done = daemon.db_rows("SELECT kind, outcome FROM actions WHERE finding_id = ?", lim["id"])
    assert sorted((r["kind"], r["outcome"]) for r in done) == \
        [("disconnect", "done"), ("suspend", "done")]
    # The SIM is refused from now on.
    radius = daemon.client()
    try:
        r = radius.access(imsi=imsi, imeisv="8612030400011301", plmn=HOME, rat="EUTRAN")
    finally:
        radius.close()
    assert r.rejected and r.reply_message == "m2mguard: sim_inactive", r

    # Further updates raise nothing: a late Interim of the cut session ...
    interim(acct, sid, imsi, 5000, 9000, 300)
    # ... and, once the operator resumes the SIM, a new session the same day.
    daemon.cli("sim", "resume", iccid, "--reason", "x", check=True)
    sid2 = "usage-day-0002"
    assert acct.acct(ACCT_START, session_id=sid2, imsi=imsi, in_octets=0, out_octets=0,
                     session_time=0)
    interim(acct, sid2, imsi, 800, 1200, 60)
    acct_barrier(acct)
    time.sleep(1.0)         # a Disconnect command would be on the wire by now
    assert len(usage_findings(daemon, iccid, "usage_warning")) == 1
    assert len(usage_findings(daemon, iccid, "usage_limit")) == 1
    assert len(da_nas.requests()) == 1, da_nas.requests()
    assert daemon.sim_state(imsi) == "active"
    assert daemon.sessions(sid2)[0]["state"] == "open"
    da_nas.check()


def test_session_upload_limit_counts_only_acct_input_octets(daemon, da_nas, acct):
    imsi = "234151000000020"
    iccid = FLEET[imsi]["iccid"]
    sid = "usage-up-0001"
    da_nas.answer = "nak"       # the session stays open: later updates keep coming
    try:
        da_nas.clear()
        assert acct.acct(ACCT_START, session_id=sid, imsi=imsi, in_octets=0, out_octets=0,
                         session_time=0, imeisv=imeisv_of(FLEET[imsi]["imei"]))
        interim(acct, sid, imsi, 100, 50000, 60)        # lots of downlink: no matter
        interim(acct, sid, imsi, 2900, 90000, 120)
        acct_barrier(acct)
        assert usage_findings(daemon, iccid) == []
        assert da_nas.requests() == []

        interim(acct, sid, imsi, 3100, 91000, 180)      # uplink past 3000
        [lim] = wait_findings(daemon, iccid, "usage_limit", 1)
        ev = lim["evidence"]
        assert (ev["period"], ev["direction"], ev["bytes"], ev["threshold"]) == \
            ("session", "up", 3100, 3000), ev
        [req] = da_nas.wait_for(1, timeout=2.0)
        assert dict(req.identification())["Acct-Session-Id"] == sid
        # disconnect only: the SIM itself stays active.
        assert daemon.sim_state(imsi) == "active"

        # Once per session: more uplink on the same session raises nothing.
        interim(acct, sid, imsi, 6000, 95000, 240)
        acct_barrier(acct)
        time.sleep(1.0)
        assert len(usage_findings(daemon, iccid, "usage_limit")) == 1
        assert len(da_nas.requests()) == 1, da_nas.requests()
        assert usage_findings(daemon, iccid, "usage_warning") == []

        # A new session has a limit of its own.
        sid2 = "usage-up-0002"
        assert acct.acct(ACCT_START, session_id=sid2, imsi=imsi, in_octets=0, out_octets=0,
                         session_time=0)
        interim(acct, sid2, imsi, 3500, 10, 60)
        lims = wait_findings(daemon, iccid, "usage_limit", 2)
        assert [f["evidence"]["acct_session_id"] for f in lims] == [sid, sid2]
    finally:
        da_nas.answer = "ack"
    da_nas.check()


# ------------------------------------------------------------ across a restart

@pytest.fixture(scope="module")
def restarted(daemon_factory, da_nas):
    """A daemon that counted usage, then restarted: tracker 114 used 8000
    bytes today (a closed session), tracker 115 6000 (an open session, its
    warning already raised), meter 21 an open session past its upload cap
    (reported, the Disconnect-Request NAKed)."""
    d = daemon_factory("usage-restart", policies=POLICIES, conf_extra=acct_listen_line(),
                       client_extra=da_nas.client_lines())
    acct = d.acct_client()
    da_nas.answer = "nak"
    try:
        assert acct.acct(ACCT_START, session_id="rst-021a", imsi="234151000000021",
                         in_octets=0, out_octets=0, session_time=0)
        interim(acct, "rst-021a", "234151000000021", 3100, 100, 60)
        wait_until(lambda: d.actions(outcome="nak"), what="the NAK of meter 21's session")
        da_nas.answer = "ack"
        assert acct.acct(ACCT_START, session_id="rst-114a", imsi="234151000000114",
                         in_octets=0, out_octets=0, session_time=0)
        assert acct.acct(ACCT_STOP, session_id="rst-114a", imsi="234151000000114",
                         in_octets=3000, out_octets=5000, session_time=60)
        assert acct.acct(ACCT_START, session_id="rst-115a", imsi="234151000000115",
                         in_octets=0, out_octets=0, session_time=0)
        interim(acct, "rst-115a", "234151000000115", 2000, 4000, 60)
    finally:
        da_nas.answer = "ack"
        acct.close()
    wait_findings(d, FLEET["234151000000114"]["iccid"], "usage_warning", 1)
    wait_findings(d, FLEET["234151000000115"]["iccid"], "usage_warning", 1)
    assert d.stop() == 0, d.stderr()[-3000:]
    d.start()
    return d


def test_usage_before_a_restart_counts_toward_the_daily_limit_after_it(restarted, da_nas):
    imsi = "234151000000114"
    iccid = FLEET[imsi]["iccid"]
    assert usage_findings(restarted, iccid, "usage_limit") == []
    da_nas.clear()
    acct = restarted.acct_client()
    try:
        assert acct.acct(ACCT_START, session_id="rst-114b", imsi=imsi, in_octets=0,
                         out_octets=0, session_time=0)
        interim(acct, "rst-114b", imsi, 1000, 1100, 60)     # 8000 + 2100
    finally:
        acct.close()
    [lim] = wait_findings(restarted, iccid, "usage_limit", 1)
    ev = lim["evidence"]
    assert (ev["period"], ev["bytes"], ev["threshold"]) == ("daily", 10100, 10000), ev
    assert ev["acct_session_id"] == "rst-114b"
    [req] = da_nas.wait_for(1, timeout=2.0)
    assert dict(req.identification())["Acct-Session-Id"] == "rst-114b"
    wait_until(lambda: restarted.sim_state(imsi) == "suspended", what="SIM 114 suspended")


def test_a_warning_reported_before_a_restart_is_not_reported_again(restarted, da_nas):
    """docs/policy.md: each threshold fires "once per period"."""
    imsi = "234151000000115"
    iccid = FLEET[imsi]["iccid"]
    acct = restarted.acct_client()
    try:
        interim(acct, "rst-115a", imsi, 2500, 4000, 120)    # 6500: still past 5000 only
        acct_barrier(acct)
    finally:
        acct.close()
    warnings = usage_findings(restarted, iccid, "usage_warning")
    assert len(warnings) == 1, [f["evidence"] for f in warnings]
    assert usage_findings(restarted, iccid, "usage_limit") == []


def test_a_session_limit_reported_before_a_restart_is_not_reported_again(restarted, da_nas):
    """docs/policy.md: a `session` threshold fires once per session."""
    imsi = "234151000000021"
    iccid = FLEET[imsi]["iccid"]
    assert restarted.sessions("rst-021a")[0]["state"] == "open"
    da_nas.clear()
    acct = restarted.acct_client()
    try:
        interim(acct, "rst-021a", imsi, 3300, 200, 120)
        acct_barrier(acct)
    finally:
        acct.close()
    time.sleep(1.0)
    limits = usage_findings(restarted, iccid, "usage_limit")
    assert len(limits) == 1, [f["evidence"] for f in limits]
    assert da_nas.requests() == []
