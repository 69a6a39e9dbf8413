"""
Scenario: what an Accounting-Request says about the device is kept with
its session — SIM (3GPP-IMSI, or a User-Name that is an IMSI), IMEISV,
Framed-IP-Address, RAT, PLMN and cell — and a request that does not say it
leaves it empty: nothing may carry over from the request the same listener
worker handled before.  Usage is charged only to the SIM the request names.

Requests from one UDP socket reach the same accounting worker (SO_REUSEPORT
hashes the 4-tuple), which is what makes a carry-over visible.
"""
import pytest

from conftest import (ACCT_INTERIM, ACCT_ON, ACCT_START, FLEET, acct_listen_line, imeisv_of,
                      iter_attrs, uli_tai_ecgi)

IMSI = "234151000000031"


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("acct-attributes", conf_extra=acct_listen_line())


@pytest.fixture
def nas(daemon):
    c = daemon.acct_client()
    yield c
    c.close()


def full_start(nas, sid):
    return nas.acct(ACCT_START, session_id=sid, imsi=IMSI, in_octets=0, out_octets=0,
                    session_time=0, framed_ip=FLEET[IMSI]["ip"],
                    imeisv=imeisv_of(FLEET[IMSI]["imei"]),
                    extra=[("3GPP-RAT-Type", "LTE-M"), ("3GPP-SGSN-MCC-MNC", "23415"),
                           ("3GPP-User-Location-Info", uli_tai_ecgi("23415", 0x1234, 0x1A2B3C4))])


def test_device_attributes_are_kept_with_the_session(daemon, nas):
    assert full_start(nas, "attr-1") is not None
    s = daemon.sessions("attr-1")[0]
    a, b, c, d = (int(x) for x in FLEET[IMSI]["ip"].split("."))
    assert s["imsi"] == IMSI and s["sim_id"] is not None
    assert s["imei"] == imeisv_of(FLEET[IMSI]["imei"])
    assert s["framed_ip"] == a << 24 | b << 16 | c << 8 | d
    assert s["rat"] == 9                    # LTE-M
    assert s["plmn"] == "23415"
    assert (s["area"], s["cell"]) == (0x1234, 0x1A2B3C4)


def test_user_name_imsi_names_the_sim(daemon, nas):
    imsi = "234151000000032"
    raw = nas.build_acct(attrs=[("Acct-Status-Type", "Start"), ("Acct-Session-Id", "attr-2"),
                                ("User-Name", imsi), ("Acct-Input-Octets", 10),
                                ("Acct-Output-Octets", 20)])
    assert nas.acct_exchange(raw) is not None
    s = daemon.sessions("attr-2")[0]
    assert s["imsi"] == imsi and s["sim_id"] is not None
    assert daemon.usage(imsi) == (10, 20)


def test_session_without_imsi_is_not_charged_to_the_previous_sim(daemon, nas):
    assert full_start(nas, "attr-3") is not None
    usage = daemon.usage(IMSI)
    # A session whose request names no SIM (a User-Name that is not an IMSI).
    for status, c_in in ((ACCT_START, 0), (ACCT_INTERIM, 5555)):
        raw = nas.build_acct(attrs=[("Acct-Status-Type", status), ("Acct-Session-Id", "attr-4"),
                                    ("User-Name", "sensor@iot.example"),
                                    ("NAS-IP-Address", "127.0.0.1"),
                                    ("Acct-Input-Octets", c_in), ("Acct-Output-Octets", c_in)])
        assert nas.acct_exchange(raw) is not None
    assert daemon.usage(IMSI) == usage, "usage of an unnamed session charged to " + IMSI
    s = daemon.sessions("attr-4")[0]
    assert (s["imsi"], s["sim_id"], s["imei"], s["framed_ip"], s["plmn"]) == \
        ("", None, None, None, None), dict(s)
    rec = daemon.db_rows("SELECT imsi FROM acct_records WHERE acct_session_id = 'attr-4'")
    assert [r["imsi"] for r in rec] == [None, None]


def test_accounting_on_record_has_no_session_id(daemon, nas):
    assert full_start(nas, "attr-5") is not None
    assert nas.acct(ACCT_ON) is not None
    rec = daemon.db_rows("SELECT acct_session_id, imsi FROM acct_records WHERE status = 7")
    assert [(r["acct_session_id"], r["imsi"]) for r in rec] == [(None, None)]


def test_proxy_state_is_echoed_in_order(daemon, nas):
    """RFC 2866 §5 / RFC 2865 §5.33: Proxy-State copied unmodified, in order."""
    raw = nas.build_acct(ACCT_INTERIM, session_id="attr-6", imsi=IMSI, in_octets=1,
                         out_octets=1, session_time=1,
                         extra=[("Proxy-State", b"first-proxy"), ("Proxy-State", b"\x00second")])
    reply = nas.acct_exchange(raw)
    assert reply is not None
    attrs = [(t, v) for _, t, v in iter_attrs(reply)]
    assert attrs[0][0] == 80
    assert [v for t, v in attrs if t == 33] == [b"first-proxy", b"\x00second"]
