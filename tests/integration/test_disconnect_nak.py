"""
Scenario: the GGSN refuses a Disconnect-Request (RFC 5176 §3.6): it answers
Disconnect-NAK with Error-Cause 503 "Session Context Not Found".  The
session stays open (and keeps counting), the outcome is an action "nak"
with the Error-Cause in its detail, in the store and in the events log,
`stats` counts a NAK and no ACK, and the request is not sent again.  The
client has no `da-attributes` line: the default identification is
User-Name, Acct-Session-Id and Framed-IP-Address, never 3GPP-IMSI.
"""
import time

import pytest

from conftest import (ACCT_INTERIM, ACCT_START, FLEET, SESSION_CONTEXT_NOT_FOUND, TestNAS,
                      acct_listen_line, wait_until)


@pytest.fixture(scope="module")
def da_nas():
    n = TestNAS(answer="nak", error_cause=SESSION_CONTEXT_NOT_FOUND)
    yield n
    n.close()


@pytest.fixture(scope="module")
def daemon(daemon_factory, da_nas):
    return daemon_factory("dm-nak", conf_extra=acct_listen_line(),
                          client_extra=da_nas.client_lines())


def wait_action(daemon, sid, outcome):
    def found():
        rows = [a for a in daemon.actions(outcome=outcome)
                if a["detail"] and a["detail"].get("acct_session_id") == sid]
        return rows or None
    return wait_until(found, timeout=3.0, what="a disconnect action %s for %s" % (outcome, sid))


def test_nak_with_error_cause_leaves_the_session_open(daemon, da_nas, acct):
    imsi = "234151000000109"
    ip = FLEET[imsi]["ip"]
    sid = "dm-nak-0001"
    common = dict(session_id=sid, imsi=imsi, framed_ip=ip)
    assert acct.acct(ACCT_START, in_octets=0, out_octets=0, session_time=0, **common)
    da_nas.clear()

    daemon.cli("sim", "suspend", imsi, "--reason", "x", check=True)
    [req] = da_nas.wait_for(1, timeout=2.0)
    assert req.problems == [], req
    assert sorted(req.identification()) == sorted([
        ("User-Name", imsi), ("Acct-Session-Id", sid), ("Framed-IP-Address", ip)]), req

    [action] = wait_action(daemon, sid, "nak")
    d = action["detail"]
    assert d["result"] == "nak" and d["attempts"] == 1
    assert d["error_cause"] == 503
    assert d["error_cause_name"] == "Session Context Not Found"
    events = [e for e in daemon.event_lines("action") if e["kind"] == "disconnect"
              and e.get("detail", {}).get("acct_session_id") == sid]
    assert [(e["outcome"], e["detail"]["error_cause"]) for e in events] == [("nak", 503)]

    rows = daemon.sessions(sid)
    assert len(rows) == 1
    assert rows[0]["state"] == "open" and rows[0]["close_reason"] is None
    st = daemon.acct_stats()
    dm = st["disconnect"]
    assert (dm["sent"], dm["ack"], dm["nak"], dm["timeout"], dm["failed"]) == (1, 0, 1, 0, 0)
    assert sum(dm["trigger_to_wire_us_log2"].values()) == 1
    assert st["sessions_open"] == 1
    assert daemon.sim_state(imsi) == "suspended"

    # The session lives on: its next Interim is counted as usual.
    assert acct.acct(ACCT_INTERIM, in_octets=700, out_octets=900, session_time=60, **common)
    assert daemon.usage(imsi) == (700, 900)
    # A NAK is an answer: nothing is retransmitted.
    time.sleep(1.5)
    assert len(da_nas.requests()) == 1, da_nas.requests()
    assert da_nas.replies == [(req.ident, 42)]
    da_nas.check()


def test_nak_without_error_cause_is_recorded_without_one(daemon, da_nas, acct):
    imsi = "234151000000110"
    sid = "dm-nak-0002"
    assert acct.acct(ACCT_START, session_id=sid, imsi=imsi, session_time=0)
    da_nas.error_cause = None
    try:
        daemon.cli("sim", "suspend", imsi, "--reason", "x", check=True)
        [action] = wait_action(daemon, sid, "nak")
    finally:
        da_nas.error_cause = SESSION_CONTEXT_NOT_FOUND
    assert "error_cause" not in action["detail"], action
    assert daemon.sessions(sid)[0]["state"] == "open"
