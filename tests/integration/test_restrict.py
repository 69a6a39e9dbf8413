"""
Scenario: the `restrict` response rule.  A SIM passing its daily warning
threshold is not cut off but restricted: an RFC 5176 CoA-Request carrying
the policy's Filter-Id goes to the NAS of each live session; the CoA-ACK is
recorded as a "restrict" action with outcome "ack", and the session stays
open.
"""
import pytest

from conftest import (ACCT_INTERIM, ACCT_START, DATA, acct_listen_line, wait_until)

ATTR_FILTER_ID = 11


@pytest.fixture(scope="module")
def daemon(daemon_factory, da_nas):
    d = daemon_factory("restrict", conf_extra=acct_listen_line(),
                       client_extra=da_nas.client_lines())
    d.cli("policy", "set", "meters", DATA / "policies" / "usage-restrict.json", check=True)
    return d


def test_usage_warning_restricts_the_session_with_a_coa(daemon, da_nas):
    imsi, sid = "234151000000006", "restrict-1"
    nas = daemon.acct_client()
    try:
        assert nas.acct(ACCT_START, session_id=sid, imsi=imsi, in_octets=0, out_octets=0,
                        session_time=0)
        da_nas.clear()
        assert nas.acct(ACCT_INTERIM, session_id=sid, imsi=imsi, in_octets=3000,
                        out_octets=3000, session_time=60)
    finally:
        nas.close()
    [req] = da_nas.wait_for(1, timeout=2.0)
    assert req.problems == [], req
    assert req.code == 43, req                                   # CoA-Request
    assert (ATTR_FILTER_ID, b"throttled") in req.attrs, req.attrs
    assert ("Acct-Session-Id", sid) in req.identification()

    def restricted():
        return daemon.actions(kind="restrict", outcome="ack") or None
    [action] = wait_until(restricted, timeout=3.0, what="a restrict action acknowledged")
    assert action["detail"]["acct_session_id"] == sid
    rows = daemon.sessions(sid)
    assert rows[0]["state"] == "open", dict(rows[0])              # restricted, not cut
    assert daemon.sim_state(imsi) == "active"
