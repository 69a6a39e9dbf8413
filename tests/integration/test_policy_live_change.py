"""
Scenario: the operator changes a running fleet.  `policy set` gives the
meters a new policy (NB-IoT only, other session attributes) and
`sim import` adds five new meters, both while the daemon serves traffic:
each change is in force for the next request (within a second), and no
request of the background traffic goes unanswered.
"""
import time

import pytest

from conftest import DATA, FLEET, Traffic, imeisv_of, read_fleet

NEW_METERS = DATA / "new-meters.csv"
TRACKERS = ["2341510000001%02d" % n for n in range(1, 11)]


def tracker_attrs(nas):
    def make(i):
        imsi = TRACKERS[i % len(TRACKERS)]
        return nas.access_attrs(imsi=imsi, imeisv="86120304%06d01" % int(imsi[-3:]),
                                plmn="23415", rat="EUTRAN")
    return make


@pytest.fixture
def traffic(daemon, nas):
    t = Traffic(daemon, tracker_attrs(nas))
    t.start()
    yield t
    t.finish()


def until_changed(fn, timeout=1.0, interval=0.02):
    """Call fn() until it returns true; return the seconds it took."""
    t0 = time.monotonic()
    while True:
        if fn():
            return time.monotonic() - t0
        if time.monotonic() - t0 > timeout:
            return None
        time.sleep(interval)


def meter(nas, imsi, rat, fleet=FLEET):
    return nas.access(imsi=imsi, imeisv=imeisv_of(fleet[imsi]["imei"]), plmn="23415", rat=rat)


def test_policy_set_applies_to_the_next_request(daemon, nas, traffic):
    imsi = "234151000000033"
    r = meter(nas, imsi, "LTE-M")
    assert r.accepted and r.get("Class") == b"acme-meters", r

    traffic.wait_for(20)
    daemon.cli("policy", "set", "meters", DATA / "policies" / "meters-nbiot-only.json",
               check=True)
    took = until_changed(lambda: meter(nas, imsi, "LTE-M").rejected)
    assert took is not None, "LTE-M still accepted 1 s after the policy forbade it"

    r = meter(nas, imsi, "LTE-M")
    assert r.rejected and r.reply_message == "m2mguard: rat_not_allowed", r
    r = meter(nas, imsi, "NB-IoT")
    assert r.accepted, r
    assert r.get("Class") == b"acme-meters-v2"
    assert r.get("Session-Timeout") == 3600
    assert r.get("Acct-Interim-Interval") == 1800

    show = daemon.cli("policy", "show", "meters", check=True).stdout
    assert "policy version 2" in show and "acme-meters-v2" in show

    traffic.wait_for(len(traffic.results) + 20)
    results = traffic.finish()
    assert traffic.lost == 0, "%d of %d requests unanswered" % (traffic.lost, len(results))
    assert set(results) == {2}


def test_imported_sims_are_accepted_within_a_second(daemon, nas, traffic):
    new = read_fleet(NEW_METERS)
    assert len(new) == 5
    first = sorted(new)[0]
    r = meter(nas, first, "NB-IoT", new)
    assert r.rejected and r.reply_message == "m2mguard: sim_unknown", r
    sims_before = daemon.stats()["sims"]
    traffic.wait_for(20)

    out = daemon.cli("sim", "import", NEW_METERS, check=True).stdout
    assert "imported 5 SIMs" in out
    took = until_changed(lambda: meter(nas, first, "NB-IoT", new).accepted)
    assert took is not None, "imported SIM still unknown 1 s after the import"

    for imsi, row in sorted(new.items()):
        r = meter(nas, imsi, "NB-IoT", new)
        assert r.accepted, (imsi, r)
        assert r.get("Framed-IP-Address") == row["ip"]
    assert daemon.stats()["sims"] == sims_before + 5

    # The SIMs that were there before are all still there.
    listed = daemon.cli("sim", "list", "--limit", "0", check=True).stdout
    for imsi in list(FLEET) + list(new):
        assert imsi in listed
    r = meter(nas, "234151000000034", "NB-IoT")
    assert r.accepted, r

    traffic.wait_for(len(traffic.results) + 20)
    results = traffic.finish()
    assert traffic.lost == 0, "%d of %d requests unanswered" % (traffic.lost, len(results))
    assert set(results) == {2}
