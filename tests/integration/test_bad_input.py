"""
Scenario: broken and hostile packets on the authentication port.  Each one
is dropped without an answer and counted under its own name in `stats`
(radius.dropped.* from src/radius/packet.c, radius.gpp_errors.* from
src/radius/gpp.c, radius.clients.<name>.*); failed authentication and
unknown sources raise NAS findings; and the daemon keeps answering
correct requests afterwards.

To know that the daemon has handled a dropped packet before reading the
counters, each drop is followed by a Status-Server from the same socket:
the same source port lands on the same worker (SO_REUSEPORT hashes the
4-tuple), which handles datagrams in order, so the Status-Server's answer
comes after the drop was counted.
"""
import os
import struct

import pytest

from conftest import (ACCESS_REQUEST, ACCOUNTING_REQUEST, FLEET, SECRET, RadiusClient, counter,
                      imeisv_of, sign_message_authenticator, uli_tai_ecgi, verify_reply)

IMSI = "234151000000040"


def attr(t, value):
    return bytes([t, len(value) + 2]) + value


def packet(attrs, code=ACCESS_REQUEST, ident=0xA5, length=None, auth=None):
    body = b"".join(attrs)
    length = 20 + len(body) if length is None else length
    return struct.pack("!BBH", code, ident, length) + (auth or os.urandom(16)) + body


def ma(value=bytes(16)):
    return attr(80, value)


def user(imsi=IMSI):
    return attr(1, imsi.encode())


def good_request(nas, **kw):
    kw.setdefault("imsi", IMSI)
    kw.setdefault("imeisv", imeisv_of(FLEET[IMSI]["imei"]))
    kw.setdefault("plmn", "23415")
    kw.setdefault("rat", "LTE-M")
    return nas.build(attrs=nas.access_attrs(**kw))


def assert_dropped(daemon, nas, raw, **deltas):
    """Send `raw`, check that it gets no answer and that each counter named
    in `deltas` (path with '__' for '.') moved by exactly its value."""
    before = daemon.stats()
    nas.send_raw(raw)
    canary = nas.build(code=12, attrs=[("NAS-Identifier", "canary")])
    while canary[1] == raw[1]:
        canary = nas.build(code=12, attrs=[("NAS-Identifier", "canary")])
    nas.send_raw(canary)
    nas.sock.settimeout(2.0)
    data, _ = nas.sock.recvfrom(4096)
    assert data[1] == canary[1], "the dropped packet was answered: %r" % data[:20]
    verify_reply(data, canary, nas.secret)
    after = daemon.stats()
    for name, delta in deltas.items():
        path = name.replace("__", ".")
        got = counter(after, path) - counter(before, path)
        assert got == delta, "%s moved by %d, expected %d" % (path, got, delta)
    return after


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("bad-input")


def test_truncated_packet_is_dropped(daemon, nas):
    raw = good_request(nas)[:12]
    assert_dropped(daemon, nas, raw, radius__dropped__short_packet=1,
                   radius__received=2)  # and the Status-Server


def test_length_field_larger_than_datagram_is_dropped(daemon, nas):
    raw = good_request(nas)
    raw = raw[:2] + struct.pack("!H", len(raw) + 10) + raw[4:]
    assert_dropped(daemon, nas, raw, radius__dropped__bad_length=1)


def test_length_field_below_header_size_is_dropped(daemon, nas):
    raw = good_request(nas)
    raw = raw[:2] + struct.pack("!H", 19) + raw[4:]
    assert_dropped(daemon, nas, raw, radius__dropped__bad_length=1)


@pytest.mark.parametrize("bad", [
    bytes([1, 0]) + b"x" * 6,       # attribute length 0
    bytes([1, 1]) + b"x" * 6,       # attribute length 1
    bytes([1, 60]) + b"x" * 6,      # runs past the end of the packet
], ids=["length-0", "length-1", "past-end"])
def test_bad_attribute_length_is_dropped(daemon, nas, bad):
    raw = packet([ma(), user(), bad])
    assert_dropped(daemon, nas, raw, radius__dropped__attr_bad_length=1)


def test_attribute_header_cut_off_is_dropped(daemon, nas):
    raw = packet([ma(), user(), b"\x01"])
    assert_dropped(daemon, nas, raw, radius__dropped__attr_truncated=1)


def test_two_message_authenticators_are_dropped(daemon, nas):
    raw = sign_message_authenticator(packet([ma(), user(), ma()]), SECRET)
    assert_dropped(daemon, nas, raw, radius__dropped__ma_duplicate=1)


def test_message_authenticator_of_wrong_size_is_dropped(daemon, nas):
    raw = packet([attr(80, bytes(10)), user()])
    assert_dropped(daemon, nas, raw, radius__dropped__ma_bad_length=1)


def test_missing_message_authenticator_is_dropped(daemon, nas):
    raw = nas.build(attrs=nas.access_attrs(imsi=IMSI, imeisv=imeisv_of(FLEET[IMSI]["imei"]),
                                           plmn="23415", rat="LTE-M"), ma=False)
    assert_dropped(daemon, nas, raw, radius__dropped__ma_missing=1,
                   radius__clients__ggsn__ma_missing=1, radius__clients__ggsn__requests=2)


def test_datagram_larger_than_4096_octets_is_dropped(daemon, nas):
    raw = packet([ma(), user()] + [attr(33, b"p" * 200)] * 24)    # 4958 octets
    assert len(raw) > 4096
    assert_dropped(daemon, nas, raw, radius__dropped__too_long=1)


def test_length_field_above_4096_is_dropped(daemon, nas):
    raw = packet([ma(), user(), attr(33, b"p" * 200)], length=5000)
    assert_dropped(daemon, nas, raw, radius__dropped__too_long=1)


def test_too_many_attributes_are_dropped(daemon, nas):
    raw = sign_message_authenticator(
        packet([ma(), user()] + [attr(5, struct.pack("!I", i)) for i in range(200)]), SECRET)
    assert_dropped(daemon, nas, raw, radius__dropped__too_many_attrs=1)


def test_malformed_3gpp_vendor_framing_is_dropped(daemon, nas):
    # Vendor-Specific 10415 whose sub-attribute claims more octets than there are.
    vsa = attr(26, struct.pack("!I", 10415) + bytes([1, 40]) + IMSI.encode())
    raw = sign_message_authenticator(packet([ma(), user(), vsa]), SECRET)
    assert_dropped(daemon, nas, raw, radius__dropped__vsa_malformed=1)


@pytest.mark.parametrize("bad", [
    ("User-Password", None),            # hidden password not a multiple of 16
    ("CHAP-Password", b"\x01" + bytes(10)),
], ids=["pap-length", "chap-length"])
def test_password_attribute_of_wrong_size_is_dropped(daemon, nas, bad):
    name, value = bad
    attrs = nas.access_attrs(imsi=IMSI, plmn="23415")
    if name == "User-Password":
        attrs.append((2, bytes(20)))     # raw, not hidden by pyrad
    else:
        attrs.append((name, value))
    assert_dropped(daemon, nas, nas.build(attrs=attrs), radius__dropped__attr_bad_value=1)


def test_accounting_request_on_the_auth_port_is_dropped(daemon, nas):
    raw = packet([attr(40, struct.pack("!I", 1)), user()], code=ACCOUNTING_REQUEST)
    assert_dropped(daemon, nas, raw, radius__dropped__bad_code=1)


@pytest.mark.parametrize("vsa, error", [
    ((1, b"23415100000abcd"), "gpp_bad_imsi"),
    ((1, b"23415"), "gpp_bad_imsi"),
    ((22, uli_tai_ecgi("23415", 1, 1)[:-1]), "gpp_uli_bad_length"),
    ((22, bytes([77]) + bytes(7)), "gpp_uli_unknown_type"),
    ((22, bytes([128, 0xA2, 0xF4, 0x51, 0, 1])), "gpp_uli_bad_plmn"),
    ((21, b"\x06\x00"), "gpp_bad_rat_type"),
    ((20, b"3533281100004"), "gpp_bad_imeisv"),
    ((18, b"2341"), "gpp_bad_mcc_mnc"),
], ids=["imsi-letters", "imsi-short", "uli-length", "uli-type", "uli-plmn", "rat-2-octets",
        "imeisv-13-digits", "sgsn-mcc-mnc-4-digits"])
def test_malformed_3gpp_attribute_is_dropped(daemon, nas, vsa, error):
    raw = nas.build(attrs=nas.access_attrs(imsi=None, user_name=IMSI, rat=None, raw_vsas=[vsa]))
    assert_dropped(daemon, nas, raw, **{"radius__gpp_errors__" + error: 1,
                                        "radius__dropped__attr_bad_value": 1})


def test_octets_past_the_length_field_are_ignored(daemon, nas):
    """RFC 2865 §3: octets beyond Length are padding, not an error."""
    raw = good_request(nas)
    r = nas.exchange(raw + b"\x00" * 7)
    assert r is not None and r.accepted, r


def test_correct_request_is_still_answered(daemon, nas):
    r = nas.exchange(good_request(nas))
    assert r is not None and r.accepted, r
    assert r.get("Framed-IP-Address") == FLEET[IMSI]["ip"]
    assert daemon.alive()


def test_wrong_secret_is_dropped_counted_and_reported(daemon_factory):
    d = daemon_factory("wrong-secret")
    nas = d.client()
    intruder = d.client(secret=b"not-the-shared-secret-of-this-nas")
    try:
        before = d.stats()
        for _ in range(3):
            raw = intruder.build(attrs=intruder.access_attrs(imsi=IMSI, plmn="23415"))
            # from the ggsn's own address, with the wrong secret: the intruder's
            # packets must be answered by nobody
            nas.expect_silence(raw, timeout=0.3)
        after = d.stats_when(lambda s: counter(s, "radius.dropped.ma_bad") >= 3,
                             what="3 ma_bad drops")
        assert counter(after, "radius.dropped.ma_bad") == \
            counter(before, "radius.dropped.ma_bad") + 3
        assert counter(after, "radius.clients.ggsn.bad_authenticator") == 3
        # one finding (rate-limited per client), not one per packet
        f = d.findings(kind="nas_bad_authenticator")
        assert len(f) == 1, f
        assert f[0]["subject"] == "ggsn" and f[0]["severity"] == "critical"
        assert f[0]["evidence"]["source"] == "127.0.0.1"
        assert f[0]["evidence"]["client"] == "ggsn"
        assert "secret" not in str(f[0]["evidence"].get("packets", ""))
        assert SECRET.decode() not in str(f)
        assert after["findings"]["nas_bad_authenticator"] == 1

        r = nas.exchange(good_request(nas))
        assert r is not None and r.accepted, r
    finally:
        nas.close()
        intruder.close()


def test_unknown_client_is_dropped_counted_and_reported(daemon_factory):
    d = daemon_factory("unknown-client")
    stranger = RadiusClient(d.port, secret=d.secret, source="127.0.0.2")
    nas = d.client()
    try:
        before = d.stats()
        stranger.expect_silence(good_request(stranger), timeout=0.3)
        after = d.stats_when(lambda s: counter(s, "radius.dropped.unknown_client"),
                             what="an unknown_client drop")
        assert counter(after, "radius.dropped.unknown_client") == 1
        assert counter(after, "radius.clients.ggsn.requests") == \
            counter(before, "radius.clients.ggsn.requests")
        f = d.findings(kind="nas_unknown")
        assert len(f) == 1, f
        assert f[0]["subject"] == "127.0.0.2"
        assert f[0]["evidence"]["source"] == "127.0.0.2"
        assert f[0]["tenant"] == "platform"

        r = nas.exchange(good_request(nas))
        assert r is not None and r.accepted, r
    finally:
        stranger.close()
        nas.close()
