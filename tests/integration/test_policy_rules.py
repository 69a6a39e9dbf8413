"""
Scenario: the finer policy rules of docs/policy.md, on group zones
(data/policies/zones.json): networks by PLMN with 2- and 3-digit MNCs,
areas and cells from every kind of User-Location-Info, an IMEI lock that
only alerts, a radio rule turned into an alert by `response`, roaming
recorded only (`none`), alerts from severity info, no Acct-Interim-Interval
(0).  Also the home network from 3GPP-IMSI-MCC-MNC, and the defaults of a
group without a policy (vending, tenant globex).
"""
import pytest

from conftest import (DATA, DEFAULT_POLICIES, FLEET, imeisv_of, uli_cgi, uli_ecgi, uli_tai,
                      uli_tai_ecgi)

POLICIES = dict(DEFAULT_POLICIES, zones=DATA / "policies" / "zones.json")
AREA, CELL = 4660, 27440068     # allowed in zones.json


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("rules", policies=POLICIES)


def zone(n):
    return "2341510000003%02d" % n


def attach(nas, imsi, **kw):
    kw.setdefault("imeisv", imeisv_of(FLEET[imsi]["imei"]))
    kw.setdefault("rat", "EUTRAN")
    kw.setdefault("plmn", "23415")
    return nas.access(imsi=imsi, **kw)


def location_reason(daemon, imsi):
    f = daemon.findings(kind="location_not_allowed", subject=FLEET[imsi]["iccid"])
    return [x["evidence"]["reason"] for x in f]


def test_allowed_area_and_cell_is_accepted_without_interim_interval(daemon, nas):
    imsi = zone(1)
    r = attach(nas, imsi, uli=uli_tai_ecgi("23415", AREA, CELL))
    assert r.accepted, r
    assert r.get("Class") == b"acme-zones"
    assert r.get("Framed-IP-Address") == FLEET[imsi]["ip"]
    assert r.get("Acct-Interim-Interval") is None       # 0: not sent
    assert r.get("Session-Timeout") is None
    # The same place as a CGI (LAC 100, CI 200) and as TAI + ECGI separately.
    assert attach(nas, imsi, uli=uli_cgi("23415", 100, 200)).accepted
    assert attach(nas, imsi, uli=uli_tai("23415", AREA)).rejected    # no cell in a TAI
    assert attach(nas, imsi, uli=uli_ecgi("23415", 7)).rejected      # no area in an ECGI


@pytest.mark.parametrize("n, kw, reason", [
    (2, dict(uli=uli_tai_ecgi("23415", 9999, CELL)), "area not allowed"),
    (3, dict(uli=uli_tai_ecgi("23415", AREA, 5)), "cell not allowed"),
    (4, dict(uli=False), "no User-Location-Info for area check"),
    (5, dict(plmn=None, uli=False), "no location in request"),
    (6, dict(plmn="23416", uli=uli_tai_ecgi("23416", AREA, CELL)), "network not allowed"),
    (7, dict(plmn="31041", uli=uli_tai_ecgi("31041", AREA, CELL)), "network not allowed"),
], ids=["area", "cell", "sgsn-only", "no-location", "plmn", "2-digit-mnc"])
def test_location_outside_the_allowed_places_is_rejected(daemon, nas, n, kw, reason):
    imsi = zone(n)
    r = attach(nas, imsi, **kw)
    assert r.rejected and r.reply_message == "m2mguard: location_not_allowed", r
    assert location_reason(daemon, imsi) == [reason]


def test_three_digit_mnc_network_is_allowed_and_roaming_only_recorded(daemon, nas):
    """310-410 is listed (and 310-41 is not, see above).  Roaming has the
    response `none`: recorded, not rejected, and — docs/policy.md: `none`
    means "only record the finding" — not an alert either."""
    imsi = zone(8)
    r = attach(nas, imsi, plmn="310410", uli=uli_tai_ecgi("310410", AREA, 7))
    assert r.accepted, r
    f = daemon.findings(kind="roaming", subject=FLEET[imsi]["iccid"])
    assert len(f) == 1 and f[0]["evidence"]["plmn"] == "310410"
    assert [a for a in daemon.alerts() if a["subject"] == FLEET[imsi]["iccid"]] == [], \
        "a finding with response \"none\" was raised as an alert"


def test_imei_lock_in_alert_mode_admits_and_alerts(daemon, nas):
    imsi = zone(1)
    r = attach(nas, imsi, imeisv="3548960912345601", uli=uli_tai_ecgi("23415", AREA, CELL))
    assert r.accepted, r
    f = daemon.findings(kind="imei_mismatch", subject=FLEET[imsi]["iccid"])
    assert len(f) == 1
    [a] = [a for a in daemon.alerts() if a["subject"] == FLEET[imsi]["iccid"]
           and a["kind"] == "imei_mismatch"]
    assert a["severity"] == "critical" and a["count"] == 1


def test_response_alert_turns_a_radio_reject_into_an_alert(daemon, nas):
    imsi = zone(2)      # its area was refused above; here in an allowed place
    ok = uli_cgi("23415", 100, 200)
    r = attach(nas, imsi, rat="GERAN", uli=ok)
    assert r.accepted, r
    r = attach(nas, imsi, rat=None, uli=ok)
    assert r.accepted, r
    f = daemon.findings(kind="rat_not_allowed", subject=FLEET[imsi]["iccid"])
    assert len(f) == 2
    assert f[0]["evidence"]["rat"] == "GERAN"
    assert f[1]["evidence"]["reason"] == "no 3GPP-RAT-Type in request"
    [a] = [a for a in daemon.alerts() if a["subject"] == FLEET[imsi]["iccid"]
           and a["kind"] == "rat_not_allowed"]
    assert a["count"] == 2


def test_info_findings_become_alerts_with_min_severity_info(daemon, nas):
    imsi = zone(3)
    where = uli_tai_ecgi("23415", AREA, CELL)
    assert attach(nas, imsi, imeisv=imeisv_of(FLEET[imsi]["imei"], "01"), uli=where).accepted
    assert attach(nas, imsi, imeisv=imeisv_of(FLEET[imsi]["imei"], "02"), uli=where).accepted
    alerts = [a for a in daemon.alerts() if a["subject"] == FLEET[imsi]["iccid"]
              and a["kind"] == "software_version_changed"]
    assert [(a["severity"], a["count"]) for a in alerts] == [("info", 1)]


def test_home_network_from_3gpp_imsi_mcc_mnc(daemon, nas):
    """Trackers: home_plmns says 23415, but a GGSN-sent 3GPP-IMSI-MCC-MNC of
    20801 names the home network: attaching in 20801 is not roaming."""
    imsi = "234151000000120"
    kw = dict(imsi=imsi, imeisv="8612030400012001", plmn="20801", rat="EUTRAN")
    r = nas.access(extra=[("3GPP-IMSI-MCC-MNC", "20801")], **kw)
    assert r.accepted, r
    assert daemon.findings(kind="roaming", subject=FLEET[imsi]["iccid"]) == []
    r = nas.access(**kw)
    assert r.accepted, r
    f = daemon.findings(kind="roaming", subject=FLEET[imsi]["iccid"])
    assert len(f) == 1 and f[0]["evidence"]["home_plmn"] == "23415"


def test_group_without_policy_gets_the_defaults(daemon, nas):
    """vending (tenant globex) has no policy: IMEI lock learn (the imported
    binding holds), no location or radio checks, Acct-Interim-Interval 600,
    attach storm at 30 per minute reported once but not refused."""
    imsi = "310410000000001"
    dev = imeisv_of(FLEET[imsi]["imei"])
    r = nas.access(imsi=imsi, imeisv=dev, plmn="25001", rat="GERAN")
    assert r.accepted, r
    assert r.get("Acct-Interim-Interval") == 600
    assert r.get("Class") is None and r.get("Framed-IP-Address") is None

    r = nas.access(imsi=imsi, imeisv="3548960912345601", plmn="31041", rat="EUTRAN")
    assert r.rejected and r.reply_message == "m2mguard: imei_mismatch", r

    for _ in range(30):
        r = nas.access(imsi=imsi, imeisv=dev, plmn="31041", rat="EUTRAN")
        assert r.accepted, r
    f = daemon.findings(kind="attach_storm", subject=FLEET[imsi]["iccid"])
    assert len(f) == 1 and f[0]["evidence"]["max_requests"] == 30
    assert f[0]["tenant"] == "globex"
