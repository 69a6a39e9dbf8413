"""
Scenario: a reconnect storm.  The meters policy allows 10 Access-Requests
per SIM per 60 s and maps attach_storm to ["reject", "alert"]: the 11th
request raises one attach_storm finding and is rejected, every later one in
the window is rejected without a new finding; other SIMs are unaffected.
With a short window (a policy set while the daemon runs), the SIM is
admitted again when the window has passed and a new storm is reported
again.  A fresh daemon, because the storm counters live in its memory.
"""
import time

from conftest import DATA, FLEET, imeisv_of

MAX_REQUESTS = 10       # etc/policies/meters.json attach_storm.max_requests


def attach(nas, imsi):
    return nas.access(imsi=imsi, imeisv=imeisv_of(FLEET[imsi]["imei"]), plmn="23415",
                      rat="LTE-M")


def test_attach_storm_is_reported_once_then_rejected(daemon, nas):
    imsi = "234151000000020"
    iccid = FLEET[imsi]["iccid"]

    for i in range(MAX_REQUESTS):
        r = attach(nas, imsi)
        assert r is not None and r.accepted, "request %d of %d: %r" % (i + 1, MAX_REQUESTS, r)
    assert daemon.findings(kind="attach_storm") == []

    r = attach(nas, imsi)
    assert r.rejected, r
    assert r.reply_message == "m2mguard: attach_storm"
    storm = daemon.findings(kind="attach_storm", subject=iccid)
    assert len(storm) == 1
    ev = storm[0]["evidence"]
    assert ev["requests"] == MAX_REQUESTS + 1
    assert ev["max_requests"] == MAX_REQUESTS
    assert ev["window_seconds"] == 60

    for _ in range(5):
        r = attach(nas, imsi)
        assert r.rejected, r
        assert r.reply_message == "m2mguard: attach_storm"

    # Reported once, not once per rejected request.
    assert len(daemon.findings(kind="attach_storm")) == 1
    assert daemon.stats()["findings"]["attach_storm"] == 1
    # The policy says alert: one open alert for the SIM.
    alerts = [a for a in daemon.alerts() if a["kind"] == "attach_storm"]
    assert len(alerts) == 1 and alerts[0]["subject"] == iccid and alerts[0]["count"] == 1

    # Another meter is not caught in its neighbour's storm.
    other = "234151000000021"
    r = attach(nas, other)
    assert r.accepted, r
    assert r.get("Framed-IP-Address") == FLEET[other]["ip"]


def test_storm_window_ends_and_a_new_storm_is_reported_again(daemon, nas):
    """With 3 requests per 2 s (data/policies/trackers-short-storm.json): the
    4th is the storm, and once the window has passed the SIM is accepted
    again, and a new storm is a new finding."""
    daemon.cli("policy", "set", "trackers", DATA / "policies" / "trackers-short-storm.json",
               check=True)
    imsi = "234151000000110"
    iccid = FLEET[imsi]["iccid"]

    def tracker():
        return nas.access(imsi=imsi, imeisv="8612030400011001", plmn="23415", rat="EUTRAN")

    def storm_once():
        t0 = time.monotonic()
        codes = [tracker().code for _ in range(5)]
        assert time.monotonic() - t0 < 1.9, "too slow to stay inside one window"
        return codes

    # Start right after a second boundary so that 5 requests share a window.
    time.sleep(1.0 - time.time() % 1.0 + 0.02)
    assert storm_once() == [2, 2, 2, 3, 3]
    assert len(daemon.findings(kind="attach_storm", subject=iccid)) == 1

    time.sleep(2.2)
    assert storm_once() == [2, 2, 2, 3, 3]
    assert len(daemon.findings(kind="attach_storm", subject=iccid)) == 2
