"""
Scenario: the access decision rules, one rule per test, against one daemon
loaded with data/fleet.csv, etc/policies/meters.json (IMEI lock enforce,
TAC allow-list, UK only, LTE radio types only), etc/policies/trackers.json
(IMEI learned at first attach, location and roaming alert only) and
data/policies/credential.json on group apn (a PAP/CHAP password).

Every test uses SIMs no other test touches, so the attach-storm limit of the
meters policy (10 per minute) is never reached here.
"""
import hashlib
import json
import os

import pytest

from conftest import (DATA, DEFAULT_POLICIES, FLEET, imeisv_of, uli_cgi, uli_ecgi, uli_tai,
                      uli_tai_ecgi)

POLICIES = dict(DEFAULT_POLICIES, apn=DATA / "policies" / "credential.json")
HOME = "23415"
PHONE_IMEISV = "3548960912345601"       # a handset, TAC 35489609


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("access", policies=POLICIES)


def sim(imsi):
    return FLEET[imsi]


def meter_attach(nas, imsi, sv="01", **kw):
    kw.setdefault("imeisv", imeisv_of(sim(imsi)["imei"], sv))
    kw.setdefault("plmn", HOME)
    kw.setdefault("rat", "LTE-M")
    return nas.access(imsi=imsi, **kw)


def test_known_meter_in_bound_device_is_accepted_with_session_attributes(daemon, nas):
    imsi = "234151000000001"
    r = meter_attach(nas, imsi)
    assert r is not None and r.accepted, r
    assert r.get("Framed-IP-Address") == sim(imsi)["ip"] == "10.20.0.11"
    assert r.get("Acct-Interim-Interval") == 900
    assert r.get("Session-Timeout") == 86400
    assert r.get("Class") == b"acme-meters"
    assert r.reply_message is None
    assert daemon.findings(subject=sim(imsi)["iccid"]) == []


def test_unknown_imsi_is_rejected_with_sim_unknown(daemon, nas):
    imsi = "234159999999999"
    r = nas.access(imsi=imsi, imeisv="3533281199999901", plmn=HOME)
    assert r.rejected, r
    assert r.reply_message == "m2mguard: sim_unknown"
    assert r.get("Framed-IP-Address") is None
    f = daemon.findings(kind="sim_unknown", subject=imsi)
    assert len(f) == 1
    assert f[0]["tenant"] == "acme"
    assert f[0]["evidence"]["imsi"] == imsi
    assert f[0]["evidence"]["nas"] == "ggsn"

    # The event log (for a SIEM) has the finding and the action it caused.
    events = [json.loads(line) for line in daemon.events.read_text().splitlines()]
    [ev] = [e for e in events if e["type"] == "finding" and e["subject"] == imsi]
    assert ev["kind"] == "sim_unknown" and ev["id"] == f[0]["id"]
    assert ev["evidence"] == f[0]["evidence"]
    actions = [e for e in events if e["type"] == "action" and e.get("finding_id") == ev["id"]]
    assert [a["kind"] for a in actions] == ["reject"]


def test_suspended_sim_is_rejected_and_accepted_again_after_resume(daemon, nas):
    imsi = "234151000000003"
    iccid = sim(imsi)["iccid"]
    assert meter_attach(nas, imsi).accepted

    daemon.cli("sim", "suspend", iccid, "--reason", "reported stolen", check=True)
    r = meter_attach(nas, imsi)
    assert r.rejected, r
    assert r.reply_message == "m2mguard: sim_inactive"
    f = daemon.findings(kind="sim_inactive", subject=iccid)
    assert len(f) == 1 and f[0]["evidence"]["state"] == "suspended"

    daemon.cli("sim", "resume", iccid, "--reason", "found again", check=True)
    r = meter_attach(nas, imsi)
    assert r.accepted, r
    assert r.get("Framed-IP-Address") == sim(imsi)["ip"]


def test_sim_in_another_device_is_rejected_with_imei_mismatch(daemon, nas):
    imsi = "234151000000005"
    iccid = sim(imsi)["iccid"]
    r = meter_attach(nas, imsi, imeisv=PHONE_IMEISV)
    assert r.rejected, r
    assert r.reply_message == "m2mguard: imei_mismatch"
    f = daemon.findings(kind="imei_mismatch", subject=iccid)
    assert len(f) == 1
    ev = f[0]["evidence"]
    assert ev["bound_imei"] == sim(imsi)["imei"][:14] == "35332811000005"
    assert ev["seen_imei"] == PHONE_IMEISV[:14]
    assert ev["imeisv"] == PHONE_IMEISV
    assert f[0]["severity"] == "critical"


def test_software_version_change_is_accepted_and_reported(daemon, nas):
    imsi = "234151000000006"
    iccid = sim(imsi)["iccid"]
    assert meter_attach(nas, imsi, sv="01").accepted
    assert daemon.findings(kind="software_version_changed", subject=iccid) == []

    r = meter_attach(nas, imsi, sv="02")
    assert r.accepted, r
    f = daemon.findings(subject=iccid)
    assert [x["kind"] for x in f] == ["software_version_changed"]
    assert f[0]["evidence"]["previous_sv"] == 1
    assert f[0]["evidence"]["sv"] == 2
    assert f[0]["severity"] == "info"

    # The same version again is no news.
    assert meter_attach(nas, imsi, sv="02").accepted
    assert len(daemon.findings(kind="software_version_changed", subject=iccid)) == 1


def test_rejected_foreign_device_does_not_change_the_software_version(daemon, nas):
    """The software version belongs to the bound device: a phone (SV 05)
    refused for imei_mismatch must not become the SIM's last SV, or the
    meter coming back with its unchanged SV 01 is reported as an update."""
    imsi = "234151000000017"
    iccid = sim(imsi)["iccid"]
    assert meter_attach(nas, imsi, sv="01").accepted
    r = meter_attach(nas, imsi, imeisv="3548960912345605")
    assert r.rejected and r.reply_message == "m2mguard: imei_mismatch", r

    r = meter_attach(nas, imsi, sv="01")
    assert r.accepted, r
    changed = daemon.findings(kind="software_version_changed", subject=iccid)
    assert changed == [], "false software_version_changed: %r" % [
        (f["evidence"]["previous_sv"], f["evidence"]["sv"]) for f in changed]
    show = daemon.cli("sim", "show", imsi, check=True).stdout
    assert "software ver 01" in show, show


def test_device_model_not_on_the_tac_allow_list_is_rejected(daemon, nas):
    imsi = "234151000000099"        # bound to a device of TAC 35489609
    iccid = sim(imsi)["iccid"]
    r = meter_attach(nas, imsi)
    assert r.rejected, r
    assert r.reply_message == "m2mguard: tac_not_allowed"
    f = daemon.findings(subject=iccid)
    assert [x["kind"] for x in f] == ["tac_not_allowed"]
    assert f[0]["evidence"]["tac"] == "35489609"


def test_sim_in_a_device_bound_to_another_sim_reports_device_sim_changed(daemon, nas):
    imsi, other = "234151000000007", "234151000000008"
    r = meter_attach(nas, imsi, imeisv=imeisv_of(sim(other)["imei"]))
    assert r.rejected, r
    assert r.reply_message == "m2mguard: imei_mismatch"
    kinds = {x["kind"]: x for x in daemon.findings(subject=sim(imsi)["iccid"])}
    assert set(kinds) == {"imei_mismatch", "device_sim_changed"}
    ev = kinds["device_sim_changed"]["evidence"]
    assert ev["bound_to_iccid"] == sim(other)["iccid"]
    assert ev["seen_imei"] == sim(other)["imei"][:14]


def test_learning_a_device_bound_to_another_sim_reports_device_sim_changed(daemon, nas):
    """A tracker (IMEI learned at first attach) first seen in a meter's
    device: that device is bound to another SIM, which is the SIM swap
    device_sim_changed exists to report; and the meter keeps its device."""
    tracker, meter = "234151000000111", "234151000000009"
    device = imeisv_of(sim(meter)["imei"])
    r = nas.access(imsi=tracker, imeisv=device, plmn=HOME, rat="EUTRAN")
    assert r is not None
    f = daemon.findings(kind="device_sim_changed", subject=sim(tracker)["iccid"])
    assert len(f) == 1, "no device_sim_changed for a tracker in meter %s's device" % meter
    assert f[0]["evidence"]["bound_to_iccid"] == sim(meter)["iccid"]

    # The meter in its own device is still fine and raises nothing.
    r = meter_attach(nas, meter)
    assert r.accepted, r
    assert daemon.findings(subject=sim(meter)["iccid"]) == []


def test_attach_from_forbidden_country_is_rejected(daemon, nas):
    imsi = "234151000000010"
    r = meter_attach(nas, imsi, plmn="25001", uli=uli_tai_ecgi("25001", 0x0101, 0x0ABCDEF))
    assert r.rejected, r
    assert r.reply_message == "m2mguard: location_not_allowed"
    f = daemon.findings(kind="location_not_allowed", subject=sim(imsi)["iccid"])
    assert len(f) == 1
    assert f[0]["evidence"]["plmn"] == "25001"
    assert f[0]["evidence"]["uli_type"] == "TAI+ECGI"
    assert f[0]["evidence"]["area"] == 0x0101
    assert f[0]["evidence"]["cell"] == 0x0ABCDEF


def test_location_from_sgsn_mcc_mnc_when_there_is_no_uli(daemon, nas):
    away, home = "234151000000011", "234151000000012"
    r = meter_attach(nas, away, plmn="25001", uli=False)
    assert r.rejected, r
    assert r.reply_message == "m2mguard: location_not_allowed"
    f = daemon.findings(kind="location_not_allowed", subject=sim(away)["iccid"])
    assert len(f) == 1
    assert f[0]["evidence"]["plmn"] == "25001"
    assert "uli_type" not in f[0]["evidence"]

    r = meter_attach(nas, home, plmn="23415", uli=False)
    assert r.accepted, r


def test_user_location_info_wins_over_sgsn_mcc_mnc(daemon, nas):
    imsi = "234151000000015"
    r = meter_attach(nas, imsi, plmn="23415", uli=uli_tai_ecgi("25001", 7, 7))
    assert r.rejected, r
    assert r.reply_message == "m2mguard: location_not_allowed"


@pytest.mark.parametrize("uli_of", [
    lambda plmn: uli_tai_ecgi(plmn, 0x2222, 0x0123456),
    lambda plmn: uli_tai(plmn, 0x2222),
    lambda plmn: uli_ecgi(plmn, 0x0123456),
    lambda plmn: uli_cgi(plmn, 0x2222, 0x3333),
], ids=["tai+ecgi", "tai", "ecgi", "cgi"])
def test_every_location_type_places_the_sim(daemon, nas, uli_of):
    imsi = "234151000000018"     # 8 requests in all: under the storm limit
    r = meter_attach(nas, imsi, plmn="23415", uli=uli_of("23415"))
    assert r.accepted, r
    r = meter_attach(nas, imsi, plmn="23415", uli=uli_of("25001"))
    assert r.rejected and r.reply_message == "m2mguard: location_not_allowed", r


def test_tracker_outside_its_countries_is_accepted_and_reported(daemon, nas):
    """Trackers: location only alerts.  A three-digit MNC (310-410)."""
    imsi = "234151000000104"
    r = nas.access(imsi=imsi, imeisv="8612030400000401", plmn="310410", rat="EUTRAN")
    assert r.accepted, r
    kinds = {f["kind"]: f for f in daemon.findings(subject=sim(imsi)["iccid"])}
    assert set(kinds) == {"location_not_allowed", "roaming"}
    assert kinds["location_not_allowed"]["evidence"]["plmn"] == "310410"
    assert kinds["roaming"]["evidence"]["plmn"] == "310410"


def test_2g_radio_is_rejected(daemon, nas):
    imsi = "234151000000013"
    r = meter_attach(nas, imsi, rat="GERAN", uli=uli_cgi(HOME, 100, 200))
    assert r.rejected, r
    assert r.reply_message == "m2mguard: rat_not_allowed"
    f = daemon.findings(kind="rat_not_allowed", subject=sim(imsi)["iccid"])
    assert len(f) == 1
    ev = f[0]["evidence"]
    assert ev["rat"] == "GERAN" and ev["uli_type"] == "CGI"
    assert ev["area"] == 100 and ev["cell"] == 200


def test_tracker_roaming_in_france_is_accepted_and_reported(daemon, nas):
    imsi = "234151000000102"
    r = nas.access(imsi=imsi, imeisv="8612030400000201", plmn="20801", rat="EUTRAN")
    assert r.accepted, r
    assert r.get("Framed-IP-Address") == sim(imsi)["ip"]
    assert r.get("Class") == b"acme-trackers"
    f = daemon.findings(subject=sim(imsi)["iccid"])
    assert [x["kind"] for x in f] == ["roaming"]
    assert f[0]["evidence"]["home_plmn"] == "23415"
    assert f[0]["evidence"]["plmn"] == "20801"


def test_imsi_is_taken_from_user_name_without_3gpp_imsi(daemon, nas):
    imsi = "234151000000014"
    r = nas.access(imsi=None, user_name=imsi, imeisv=imeisv_of(sim(imsi)["imei"]),
                   plmn=HOME, rat="NB-IoT")
    assert r.accepted, r
    assert r.get("Framed-IP-Address") == sim(imsi)["ip"]

    # A User-Name that is not an IMSI identifies nothing.
    r = nas.access(imsi=None, user_name="meter-14@iot.example",
                   imeisv=imeisv_of(sim(imsi)["imei"]), plmn=HOME, rat="NB-IoT")
    assert r.rejected, r
    assert r.reply_message == "m2mguard: sim_unknown"


def test_enforced_lock_refuses_a_sim_with_no_bound_imei(daemon, nas):
    """docs/policy.md: in `enforce` a SIM with no bound IMEI has nothing to
    be checked against and is refused (import its IMEI or use `learn`)."""
    imsi = "234151000000098"
    assert sim(imsi)["imei"] == ""
    r = nas.access(imsi=imsi, imeisv="3533281109999901", plmn=HOME, rat="LTE-M")
    assert r.rejected, r
    assert r.reply_message == "m2mguard: imei_mismatch"
    f = daemon.findings(kind="imei_mismatch", subject=sim(imsi)["iccid"])
    assert len(f) == 1 and f[0]["evidence"]["reason"] == "no IMEI bound to this SIM"
    # Nothing was learned: enforce never binds.
    daemon.flush()
    assert "bound IMEI   (none)" in daemon.cli("sim", "show", imsi, check=True).stdout


def test_missing_imei_is_rejected_when_the_lock_is_enforced(daemon, nas):
    imsi = "234151000000016"
    r = nas.access(imsi=imsi, plmn=HOME, rat="LTE-M")
    assert r.rejected, r
    assert r.reply_message == "m2mguard: imei_missing"


def test_learn_mode_binds_the_first_imei_then_rejects_another(daemon, nas):
    imsi = "234151000000103"
    first, second = "8612030400000301", "8612030400099901"
    r = nas.access(imsi=imsi, imeisv=first, plmn=HOME, rat="EUTRAN")
    assert r.accepted, r
    daemon.flush()
    show = daemon.cli("sim", "show", imsi, check=True).stdout
    assert "bound IMEI   %s (learn)" % first[:14] in show

    r = nas.access(imsi=imsi, imeisv=second, plmn=HOME, rat="EUTRAN")
    assert r.rejected, r
    assert r.reply_message == "m2mguard: imei_mismatch"
    f = daemon.findings(kind="imei_mismatch", subject=sim(imsi)["iccid"])
    assert len(f) == 1
    assert f[0]["evidence"]["bound_imei"] == first[:14]
    assert f[0]["evidence"]["seen_imei"] == second[:14]

    assert nas.access(imsi=imsi, imeisv=first, plmn=HOME, rat="EUTRAN").accepted


def test_pap_password_is_checked(daemon, nas):
    imsi = "234151000000201"
    r = nas.access(imsi=imsi, password="wrong-password", plmn=HOME)
    assert r.rejected, r
    assert r.reply_message == "m2mguard: credential_failure"
    f = daemon.findings(kind="credential_failure", subject=sim(imsi)["iccid"])
    assert len(f) == 1 and f[0]["evidence"]["reason"] == "PAP password"
    assert "wrong-password" not in str(f)

    r = nas.access(imsi=imsi, password="apn-Pa55word-2024", plmn=HOME)
    assert r.accepted, r
    assert r.get("Class") == b"acme-apn"
    assert r.get("Framed-IP-Address") == sim(imsi)["ip"]

    # A password of the right length but one character off.
    r = nas.access(imsi=imsi, password="apn-Pa55word-2025", plmn=HOME)
    assert r.rejected, r

    # No password at all is a credential failure too.
    r = nas.access(imsi=imsi, plmn=HOME)
    assert r.rejected, r
    assert r.reply_message == "m2mguard: credential_failure"


def chap_password(chap_id, password, challenge):
    return bytes([chap_id]) + hashlib.md5(bytes([chap_id]) + password + challenge).digest()


def test_chap_password_is_checked(daemon, nas):
    imsi = "234151000000202"
    challenge = os.urandom(16)
    good = chap_password(7, b"apn-Pa55word-2024", challenge)
    bad = chap_password(7, b"apn-Pa55word-XXXX", challenge)

    r = nas.access(imsi=imsi, chap=bad, plmn=HOME, extra=[("CHAP-Challenge", challenge)])
    assert r.rejected, r
    assert r.reply_message == "m2mguard: credential_failure"
    f = daemon.findings(kind="credential_failure", subject=sim(imsi)["iccid"])
    assert len(f) == 1 and f[0]["evidence"]["reason"] == "CHAP response"

    r = nas.access(imsi=imsi, chap=good, plmn=HOME, extra=[("CHAP-Challenge", challenge)])
    assert r.accepted, r
    assert r.get("Class") == b"acme-apn"


def test_chap_without_challenge_attribute_uses_the_request_authenticator(daemon, nas):
    imsi = "234151000000203"
    auth = os.urandom(16)
    good = chap_password(9, b"apn-Pa55word-2024", auth)
    raw = nas.build(attrs=nas.access_attrs(imsi=imsi, chap=good, plmn=HOME), authenticator=auth)
    r = nas.exchange(raw)
    assert r.accepted, r

    other = os.urandom(16)      # the response was computed for another challenge
    raw = nas.build(attrs=nas.access_attrs(imsi=imsi, chap=good, plmn=HOME), authenticator=other)
    r = nas.exchange(raw)
    assert r.rejected, r
