"""
Scenario: a session moves after the attach.  Interim-Updates carry the
current RAT, network and IMEISV; the attach rules apply again mid-session
(the meters policy: RAT EUTRAN / LTE-M / NB-IoT, MCC 234 / 235, IMEI lock
enforced).  A rule that would have refused the attach raises its finding
with "mid_session": true and cuts the session with a Disconnect-Request;
an Interim that moves within what the policy allows raises nothing.
"""
import time

import pytest

from conftest import (ACCT_INTERIM, ACCT_START, acct_barrier, acct_listen_line, wait_until)


@pytest.fixture(scope="module")
def daemon(daemon_factory, da_nas):
    return daemon_factory("mid-session", conf_extra=acct_listen_line(),
                          client_extra=da_nas.client_lines())


def radio(rat, plmn):
    return [("3GPP-RAT-Type", rat), ("3GPP-SGSN-MCC-MNC", plmn)]


def mid_session_findings(daemon, kind, sid):
    return [f for f in daemon.findings() if f["kind"] == kind
            and f["evidence"].get("acct_session_id") == sid
            and f["evidence"].get("mid_session") is True]


@pytest.mark.parametrize("imsi, sid, moved, kind", [
    ("234151000000003", "mid-rat", radio(2, "23415"), "rat_not_allowed"),       # 2G downgrade
    ("234151000000004", "mid-loc", radio(6, "25001"), "location_not_allowed"),  # crossed a border
])
def test_a_forbidden_move_mid_session_cuts_the_session(daemon, da_nas, acct, imsi, sid, moved,
                                                       kind):
    assert acct.acct(ACCT_START, session_id=sid, imsi=imsi, in_octets=0, out_octets=0,
                     session_time=0, extra=radio(6, "23415"))
    da_nas.clear()
    assert acct.acct(ACCT_INTERIM, session_id=sid, imsi=imsi, in_octets=100, out_octets=100,
                     session_time=60, extra=moved)
    [req] = da_nas.wait_for(1, timeout=2.0)
    assert ("Acct-Session-Id", sid) in req.identification(), req
    wait_until(lambda: mid_session_findings(daemon, kind, sid) or None, timeout=3.0,
               what="a mid-session %s finding" % kind)
    wait_until(lambda: daemon.sessions(sid)[0]["close_reason"] == "disconnect" or None,
               timeout=3.0, what="the session closed by the Disconnect-ACK")


def test_an_allowed_move_raises_nothing(daemon, da_nas, acct):
    imsi, sid = "234151000000005", "mid-ok"
    assert acct.acct(ACCT_START, session_id=sid, imsi=imsi, in_octets=0, out_octets=0,
                     session_time=0, extra=radio(6, "23415"))
    da_nas.clear()
    # LTE-M in the other allowed country: a move, but within the policy.
    assert acct.acct(ACCT_INTERIM, session_id=sid, imsi=imsi, in_octets=100, out_octets=100,
                     session_time=60, extra=radio(9, "23501"))
    acct_barrier(acct)
    time.sleep(0.3)     # a Disconnect-Request would be on the wire by now
    assert da_nas.requests() == []
    assert not [f for f in daemon.findings() if f["evidence"].get("acct_session_id") == sid]
    assert daemon.sessions(sid)[0]["state"] == "open"
