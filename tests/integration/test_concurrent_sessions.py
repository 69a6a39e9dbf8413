"""
Scenario: one SIM in two live data sessions at once — a cloned SIM.  Two
Accounting Starts for the same IMSI with different Acct-Session-Ids raise
one concurrent_sessions finding: critical when the sessions carry different
devices (the first 14 digits of 3GPP-IMEISV, the IMEI without its check
digit, differ), warning when it is the same device (only the software
version digits may differ).  A retransmitted Start, or a new session after
the previous one stopped, is not concurrent.  Sessions restored after a
restart count like any other.  With the default policies the finding
causes no Disconnect-Request (a TestNAS stands by to see that).
"""
import time

import pytest

from conftest import (ACCT_START, ACCT_STOP, FLEET, acct_barrier, acct_listen_line, wait_until)


@pytest.fixture(scope="module")
def daemon(daemon_factory, da_nas):
    return daemon_factory("concurrent", conf_extra=acct_listen_line(),
                          client_extra=da_nas.client_lines())


def start(acct, imsi, sid, imeisv=None):
    assert acct.acct(ACCT_START, session_id=sid, imsi=imsi, imeisv=imeisv, in_octets=0,
                     out_octets=0, session_time=0) is not None


def concurrent(daemon, iccid):
    return daemon.findings(kind="concurrent_sessions", subject=iccid)


def wait_concurrent(daemon, iccid, n=1):
    return wait_until(lambda: (lambda f: f if len(f) >= n else None)(concurrent(daemon, iccid)),
                      timeout=3.0, what="%d concurrent_sessions finding(s) for %s" % (n, iccid))


def test_two_devices_with_one_sim_is_critical(daemon, da_nas, acct):
    imsi = "234151000000116"
    iccid = FLEET[imsi]["iccid"]
    first, second = "8612030400011601", "3548960912345601"
    start(acct, imsi, "conc-0001a", first)
    acct_barrier(acct)
    assert concurrent(daemon, iccid) == []
    start(acct, imsi, "conc-0001b", second)
    [f] = wait_concurrent(daemon, iccid)
    assert f["severity"] == "critical"
    ev = f["evidence"]
    assert ev["imsi"] == imsi and ev["different_devices"] is True
    assert (ev["acct_session_id"], ev["imeisv"]) == ("conc-0001b", second)
    assert (ev["other_acct_session_id"], ev["other_imeisv"]) == ("conc-0001a", first)
    assert ev["nas"] == ev["other_nas"] == "ggsn"
    acct_barrier(acct)
    assert len(concurrent(daemon, iccid)) == 1
    # Critical: an alert (the trackers policy alerts from notice up).
    [alert] = [a for a in daemon.alerts() if a["kind"] == "concurrent_sessions"
               and a["subject"] == iccid]
    assert alert["severity"] == "critical"
    # No response rule for it: nobody is disconnected.
    time.sleep(0.5)
    assert da_nas.requests() == []
    assert [r["state"] for r in daemon.sessions("conc-0001a")] == ["open"]


def test_the_same_device_twice_is_a_warning(daemon, acct):
    imsi = "234151000000117"
    iccid = FLEET[imsi]["iccid"]
    # Same IMEI (first 14 digits), another software version.
    start(acct, imsi, "conc-0002a", "8612030400011701")
    start(acct, imsi, "conc-0002b", "8612030400011702")
    [f] = wait_concurrent(daemon, iccid)
    assert f["severity"] == "warning"
    assert f["evidence"]["different_devices"] is False
    assert f["evidence"]["other_acct_session_id"] == "conc-0002a"


def test_a_retransmitted_start_or_a_session_after_a_stop_is_not_concurrent(daemon, acct):
    imsi = "234151000000118"
    iccid = FLEET[imsi]["iccid"]
    raw = acct.build_acct(ACCT_START, session_id="conc-0003a", imsi=imsi,
                          imeisv="8612030400011801", in_octets=0, out_octets=0, session_time=0)
    assert acct.acct_exchange(raw) is not None
    assert acct.acct_exchange(raw) is not None          # the NAS did not hear the answer
    # The same Start again with a new Identifier (a NAS that rebuilds it).
    start(acct, imsi, "conc-0003a", "8612030400011801")
    assert acct.acct(ACCT_STOP, session_id="conc-0003a", imsi=imsi, in_octets=10,
                     out_octets=10, session_time=30) is not None
    start(acct, imsi, "conc-0003b", "3548960912345601")     # even from another device
    acct_barrier(acct)
    assert concurrent(daemon, iccid) == []
    assert [r["state"] for r in daemon.sessions("conc-0003a")] == ["closed"]


def test_a_session_restored_after_a_restart_counts(daemon, acct):
    imsi = "234151000000119"
    iccid = FLEET[imsi]["iccid"]
    start(acct, imsi, "conc-0004a", "8612030400011901")
    acct_barrier(acct)
    assert daemon.stop() == 0, daemon.stderr()[-3000:]
    daemon.start()
    assert [r["state"] for r in daemon.sessions("conc-0004a")] == ["open"]
    nas = daemon.acct_client()
    try:
        start(nas, imsi, "conc-0004b", "3548960912345601")
        acct_barrier(nas)
    finally:
        nas.close()
    found = concurrent(daemon, iccid)
    assert len(found) == 1, found
    assert found[0]["severity"] == "critical"
    assert found[0]["evidence"]["other_acct_session_id"] == "conc-0004a"
