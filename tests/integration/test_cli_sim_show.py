"""
Scenario: an operator looks at one SIM.  `m2mguard sim show` prints the
usage counted from accounting (today and this month, UTC) and the SIM's
latest sessions with their state and close reason.
"""
import pytest

from conftest import ACCT_INTERIM, ACCT_START, ACCT_STOP, acct_listen_line


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("sim-show", conf_extra=acct_listen_line())


def test_sim_show_lists_usage_and_sessions(daemon):
    imsi = "234151000000011"
    nas = daemon.acct_client()
    try:
        assert nas.acct(ACCT_START, session_id="show-1", imsi=imsi, in_octets=0, out_octets=0,
                        session_time=0)
        assert nas.acct(ACCT_STOP, session_id="show-1", imsi=imsi, in_octets=1500000,
                        out_octets=2500000, session_time=60)
        assert nas.acct(ACCT_START, session_id="show-2", imsi=imsi, in_octets=0, out_octets=0,
                        session_time=0)
        assert nas.acct(ACCT_INTERIM, session_id="show-2", imsi=imsi, in_octets=500000,
                        out_octets=0, session_time=60)
    finally:
        nas.close()
    out = daemon.cli("sim", "show", imsi, check=True).stdout
    assert "usage today  up 2.0 MB, down 2.5 MB" in out, out
    lines = [l for l in out.splitlines() if "show-" in l]
    assert len(lines) == 2, out
    assert "show-2" in lines[0] and " open " in lines[0], lines      # newest first
    assert "show-1" in lines[1] and "closed stop" in lines[1], lines
