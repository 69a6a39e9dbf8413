"""
Scenario: a third-party RADIUS client.  FreeRADIUS's radclient (with its own
dictionaries, /usr/share/freeradius including dictionary.3gpp) plays the
GGSN: it computes the Message-Authenticator, hides PAP passwords, computes
CHAP, and checks our replies with its own code.  The daemon must accept and
reject the right requests, answer Status-Server (RFC 5997), and stay silent
for a client with the wrong secret.
"""
import shutil
import subprocess

import pytest

from conftest import DATA, DEFAULT_POLICIES, FLEET, imeisv_of, plmn_bcd

RADCLIENT = shutil.which("radclient") or "/usr/bin/radclient"
POLICIES = dict(DEFAULT_POLICIES, apn=DATA / "policies" / "credential.json")

@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("radclient", policies=POLICIES)


def radclient(daemon, command, pairs, secret=None, timeout=2):
    """Run radclient once (one try, `timeout` seconds); return (exit status, output)."""
    text = "".join("%s = %s\n" % kv for kv in pairs)
    r = subprocess.run([RADCLIENT, "-d", "/usr/share/freeradius", "-x", "-r", "1",
                        "-t", str(timeout),
                        "127.0.0.1:%d" % daemon.port, command,
                        (secret or daemon.secret).decode()],
                       input=text, capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


def ggsn_pairs(imsi, imeisv=None, rat=9, plmn="23415", uli=None, extra=()):
    pairs = [("User-Name", '"%s"' % imsi), ("3GPP-IMSI", '"%s"' % imsi)]
    if imeisv:
        pairs.append(("3GPP-IMEISV", '"%s"' % imeisv))
    pairs += [("3GPP-RAT-Type", str(rat)), ("3GPP-SGSN-MCC-MNC", '"%s"' % plmn)]
    if uli:
        pairs.append(("3GPP-User-Location-Info", "0x" + uli.hex()))
    pairs += list(extra)
    pairs.append(("Message-Authenticator", "0x00"))
    return pairs


def meter(imsi, **kw):
    return ggsn_pairs(imsi, imeisv=imeisv_of(FLEET[imsi]["imei"]), **kw)


def test_meter_in_its_device_is_accepted(daemon):
    rc, out = radclient(daemon, "auth", meter("234151000000001"))
    assert rc == 0, out
    assert "Received Access-Accept" in out
    assert "Framed-IP-Address = 10.20.0.11" in out
    assert "Acct-Interim-Interval = 900" in out
    assert "Session-Timeout = 86400" in out
    assert "Class = 0x" + b"acme-meters".hex() in out


def test_meter_with_location_info_from_home_is_accepted(daemon):
    uli = bytes([130]) + plmn_bcd("23415") + b"\x12\x34" + plmn_bcd("23415") + b"\x01\xa2\xb3\xc4"
    rc, out = radclient(daemon, "auth", meter("234151000000002", uli=uli))
    assert "Received Access-Accept" in out, out


def test_meter_with_location_info_from_russia_is_rejected(daemon):
    uli = bytes([130]) + plmn_bcd("25001") + b"\x00\x01" + plmn_bcd("25001") + b"\x00\x00\x00\x01"
    rc, out = radclient(daemon, "auth", meter("234151000000003", uli=uli))
    assert "Received Access-Reject" in out, out
    assert "m2mguard: location_not_allowed" in out


def test_unknown_sim_is_rejected(daemon):
    rc, out = radclient(daemon, "auth", ggsn_pairs("001019999999999", imeisv="3533281199999901"))
    assert "Received Access-Reject" in out, out
    assert 'Reply-Message = "m2mguard: sim_unknown"' in out
    assert "Framed-IP-Address" not in out.split("Received")[1]


def test_radio_downgrade_is_rejected(daemon):
    rc, out = radclient(daemon, "auth", meter("234151000000004", rat=2))
    assert "Received Access-Reject" in out, out
    assert "m2mguard: rat_not_allowed" in out


def test_sim_in_another_device_is_rejected(daemon):
    rc, out = radclient(daemon, "auth", ggsn_pairs("234151000000005",
                                                   imeisv="3548960912345601"))
    assert "Received Access-Reject" in out, out
    assert "m2mguard: imei_mismatch" in out


def test_pap_hidden_by_radclient(daemon):
    rc, out = radclient(daemon, "auth", ggsn_pairs("234151000000204", extra=[
        ("User-Password", '"apn-Pa55word-2024"')]))
    assert "Received Access-Accept" in out, out
    rc, out = radclient(daemon, "auth", ggsn_pairs("234151000000204", extra=[
        ("User-Password", '"not-the-password"')]))
    assert "Received Access-Reject" in out, out
    assert "m2mguard: credential_failure" in out


def test_chap_computed_by_radclient(daemon):
    rc, out = radclient(daemon, "auth", ggsn_pairs("234151000000205", extra=[
        ("CHAP-Password", '"apn-Pa55word-2024"')]))
    assert "Received Access-Accept" in out, out
    rc, out = radclient(daemon, "auth", ggsn_pairs("234151000000205", extra=[
        ("CHAP-Password", '"not-the-password"')]))
    assert "Received Access-Reject" in out, out


def test_status_server_is_answered(daemon):
    rc, out = radclient(daemon, "status", [("Message-Authenticator", "0x00")])
    assert rc == 0, out
    assert "Received Access-Accept" in out
    assert 'Reply-Message = "m2mguard alive"' in out


def test_status_server_without_message_authenticator_is_dropped(daemon):
    """RFC 5997 §3: Status-Server MUST carry a Message-Authenticator."""
    before = daemon.stats()["radius"]["dropped"]["ma_missing"]
    rc, out = radclient(daemon, "status", [("NAS-Identifier", '"radclient"')], timeout=0.5)
    assert rc != 0 and "Received" not in out, out
    assert daemon.stats()["radius"]["dropped"]["ma_missing"] == before + 1


def test_wrong_secret_gets_no_answer(daemon):
    rc, out = radclient(daemon, "auth", meter("234151000000006"),
                        secret=b"this-is-not-the-secret-of-ggsn", timeout=0.5)
    assert rc != 0, out
    assert "Received" not in out
    assert "No reply" in out
    assert daemon.stats()["radius"]["clients"]["ggsn"]["bad_authenticator"] >= 1
