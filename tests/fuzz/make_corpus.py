#!/usr/bin/env python3
"""Write the seed corpora of the codec's libFuzzer harnesses.

    tests/fuzz/make_corpus.py [--out DIR]      (default: tests/fuzz/corpus)

The seeds are what a GGSN / PGW really sends: Access-Requests carrying the
3GPP vendor attributes of TS 29.061 (IMSI, IMEISV, RAT type, every
User-Location-Info type with 2- and 3-digit MNCs, ...), Accounting
Start / Interim / Stop, dynamic-authorization requests, replies, the
RFC 2865 §7 examples, and a few deliberately broken packets so that every
decoder error path starts covered.  Everything is signed with the shared
secret the harness uses (FUZZ_SECRET in fuzz.h), so the authenticator and
Message-Authenticator checks start from packets that verify.

The output is deterministic: no randomness, authenticators are derived
from the seed's name.  Re-run after changing it and commit the result.
Only the Python standard library is used; the packet layout is written
here independently of the C codec, from RFC 2865 / 2866 / 3579 / 5176.
"""
import argparse
import hashlib
import hmac
import os
import struct

SECRET = b"testing123"
VENDOR_3GPP = 10415

# RADIUS codes and attribute types (RFC 2865, 2866, 2869, 3579, 5176).
ACCESS_REQUEST, ACCESS_ACCEPT, ACCESS_REJECT = 1, 2, 3
ACCOUNTING_REQUEST, ACCOUNTING_RESPONSE = 4, 5
STATUS_SERVER = 12
DISCONNECT_REQUEST, DISCONNECT_ACK, DISCONNECT_NAK = 40, 41, 42
COA_REQUEST, COA_ACK, COA_NAK = 43, 44, 45

USER_NAME, USER_PASSWORD, CHAP_PASSWORD, NAS_IP_ADDRESS, NAS_PORT = 1, 2, 3, 4, 5
SERVICE_TYPE, FRAMED_PROTOCOL, FRAMED_IP_ADDRESS, FILTER_ID = 6, 7, 8, 11
REPLY_MESSAGE, STATE, CLASS, VENDOR_SPECIFIC, SESSION_TIMEOUT = 18, 24, 25, 26, 27
CALLED_STATION_ID, CALLING_STATION_ID, NAS_IDENTIFIER = 30, 31, 32
ACCT_STATUS_TYPE, ACCT_INPUT_OCTETS, ACCT_OUTPUT_OCTETS = 40, 42, 43
ACCT_SESSION_ID, ACCT_SESSION_TIME = 44, 46
ACCT_INPUT_GIGAWORDS, ACCT_OUTPUT_GIGAWORDS, EVENT_TIMESTAMP = 52, 53, 55
CHAP_CHALLENGE, NAS_PORT_TYPE = 60, 61
MESSAGE_AUTHENTICATOR, ACCT_INTERIM_INTERVAL, ERROR_CAUSE = 80, 85, 101

# 3GPP vendor attributes (TS 29.061 §16.4.7).
G_IMSI, G_CHARGING_ID, G_PDP_TYPE, G_GGSN_ADDRESS = 1, 2, 3, 7
G_IMSI_MCC_MNC, G_GGSN_MCC_MNC, G_NSAPI, G_SELECTION_MODE = 8, 9, 10, 12
G_CHARGING_CHARS, G_SGSN_MCC_MNC, G_IMEISV, G_RAT_TYPE = 13, 18, 20, 21
G_ULI, G_MS_TIMEZONE = 22, 23

ULI_CGI, ULI_SAI, ULI_RAI, ULI_TAI, ULI_ECGI, ULI_TAI_ECGI = 0, 1, 2, 128, 129, 130


def attr(t, value):
    assert len(value) <= 253, (t, len(value))
    return bytes([t, len(value) + 2]) + value


def u32(t, n):
    return attr(t, struct.pack(">I", n))


def ipv4(t, dotted):
    return attr(t, bytes(int(x) for x in dotted.split(".")))


def vsa(vendor, t, value):
    return attr(VENDOR_SPECIFIC, struct.pack(">IBB", vendor, t, len(value) + 2) + value)


def gpp(t, value):
    return vsa(VENDOR_3GPP, t, value)


def plmn_bcd(mcc, mnc):
    """TS 24.008 §10.5.1.3: MCC2|MCC1, MNC3|MCC3, MNC2|MNC1 (0xF = no MNC3)."""
    d = [int(c) for c in mcc]
    m = [int(c) for c in mnc]
    mnc3 = m[2] if len(m) == 3 else 0xF
    return bytes([d[1] << 4 | d[0], mnc3 << 4 | d[2], m[1] << 4 | m[0]])


def uli(kind, mcc, mnc, area=0x2B67, cell=0x1A2B3C4):
    """3GPP-User-Location-Info: type octet, then TS 29.060 / 29.274 fields."""
    p = plmn_bcd(mcc, mnc)
    if kind in (ULI_CGI, ULI_SAI):
        return bytes([kind]) + p + struct.pack(">HH", area, cell & 0xFFFF)
    if kind == ULI_RAI:
        return bytes([kind]) + p + struct.pack(">HBB", area, cell & 0xFF, 0xFF)
    if kind == ULI_TAI:
        return bytes([kind]) + p + struct.pack(">H", area)
    if kind == ULI_ECGI:
        return bytes([kind]) + p + struct.pack(">I", cell & 0x0FFFFFFF)
    if kind == ULI_TAI_ECGI:
        return bytes([kind]) + p + struct.pack(">H", area) + p + struct.pack(">I", cell & 0x0FFFFFFF)
    raise ValueError(kind)


def packet(code, ident, auth, attrs, length=None):
    body = b"".join(attrs)
    if length is None:
        length = 20 + len(body)
    return bytes([code, ident]) + struct.pack(">H", length) + auth + body


def ma_offset(pkt):
    """Offset of the Message-Authenticator value, or None."""
    pos = 20
    length = struct.unpack(">H", pkt[2:4])[0]
    while pos + 2 <= length:
        t, n = pkt[pos], pkt[pos + 1]
        if n < 2:
            return None
        if t == MESSAGE_AUTHENTICATOR and n == 18:
            return pos + 2
        pos += n
    return None


def fill_ma(pkt):
    off = ma_offset(pkt)
    if off is None:
        return pkt
    zeroed = pkt[:off] + bytes(16) + pkt[off + 16:]
    mac = hmac.new(SECRET, zeroed, hashlib.md5).digest()
    return pkt[:off] + mac + pkt[off + 16:]


def sign_request(pkt):
    """Access-Request / Status-Server keep their random authenticator
    (RFC 3579 §3.2); the others are MD5 over a zero authenticator
    (RFC 2866 §3, RFC 5176 §3.5), the MA computed first."""
    if pkt[0] in (ACCESS_REQUEST, STATUS_SERVER):
        return fill_ma(pkt)
    pkt = fill_ma(pkt[:4] + bytes(16) + pkt[20:])
    return pkt[:4] + hashlib.md5(pkt + SECRET).digest() + pkt[20:]


def sign_response(pkt, req_auth):
    """RFC 2865 §3 Response Authenticator, RFC 3579 §3.2 MA."""
    pkt = fill_ma(pkt[:4] + req_auth + pkt[20:])
    return pkt[:4] + hashlib.md5(pkt + SECRET).digest() + pkt[20:]


def pap_hide(password, auth):
    """RFC 2865 §5.2."""
    p = password.ljust(max(16, -(-len(password) // 16) * 16), b"\0")
    out, prev = b"", auth
    for i in range(0, len(p), 16):
        key = hashlib.md5(SECRET + prev).digest()
        prev = bytes(a ^ b for a, b in zip(p[i:i + 16], key))
        out += prev
    return out


def chap_password(ident, password, challenge):
    return bytes([ident]) + hashlib.md5(bytes([ident]) + password + challenge).digest()


def auth_for(name):
    """A fixed, name-derived Request Authenticator."""
    return hashlib.md5(b"m2mguard-seed:" + name.encode()).digest()


MA = attr(MESSAGE_AUTHENTICATOR, bytes(16))


def gpp_attrs(imsi, mcc, mnc, imeisv, rat, location):
    return [
        gpp(G_IMSI, imsi.encode()),
        gpp(G_CHARGING_ID, struct.pack(">I", 0x1F2E3D4C)),
        gpp(G_PDP_TYPE, struct.pack(">I", 0)),
        gpp(G_GGSN_ADDRESS, bytes([10, 20, 0, 1])),
        gpp(G_IMSI_MCC_MNC, (mcc + mnc).encode()),
        gpp(G_GGSN_MCC_MNC, (mcc + mnc).encode()),
        gpp(G_NSAPI, b"5"),
        gpp(G_SELECTION_MODE, b"0"),
        gpp(G_CHARGING_CHARS, b"0800"),
        gpp(G_SGSN_MCC_MNC, (mcc + mnc).encode()),
        gpp(G_IMEISV, imeisv.encode()),
        gpp(G_RAT_TYPE, bytes([rat])),
        gpp(G_ULI, location),
        gpp(G_MS_TIMEZONE, bytes([0x40, 0x00])),
    ]


ULI_NAMES = {ULI_CGI: "cgi", ULI_SAI: "sai", ULI_RAI: "rai", ULI_TAI: "tai",
             ULI_ECGI: "ecgi", ULI_TAI_ECGI: "tai-ecgi"}
# RAT that goes with each location type (TS 29.061 Table 16.4.7.2).
ULI_RAT = {ULI_CGI: 2, ULI_SAI: 1, ULI_RAI: 1, ULI_TAI: 6, ULI_ECGI: 8, ULI_TAI_ECGI: 6}
PLMNS = [("234", "15"), ("310", "410")]


def radius_seeds():
    seeds = {}

    def add(name, pkt):
        assert name not in seeds
        seeds[name] = pkt

    # RFC 2865 §7.1 and §7.2, as printed in the RFC.
    add("rfc2865-7.1-access-request", bytes.fromhex(
        "01000038 0f403f9473978057bd83d5cb98f4227a 01066e656d6f"
        "02120dbe708d93d413ce3196e43f782a0aee 0406c0a80110 050600000003"))
    add("rfc2865-7.1-access-accept", bytes.fromhex(
        "02000026 86fe220e7624ba2a1005f6bf9b55e0b2 060600000001 0f0600000000 0e06c0a80103"))
    add("rfc2865-7.2-chap-request", bytes.fromhex(
        "01010047 2aee86f08d0d55969ca5978e0d3367a2 0108666c6f707379"
        "031316e97557c316185895f293ff6344077275 0406c0a80110 050600000014"
        "060600000002 070600000001"))

    # PAP Access-Requests from a PGW, one per location type and PLMN.
    for kind, kname in ULI_NAMES.items():
        for mcc, mnc in PLMNS:
            name = "access-request-pap-3gpp-%s-mnc%d" % (kname, len(mnc))
            imsi = mcc + mnc + "0123456789"[: 15 - len(mcc) - len(mnc)]
            auth = auth_for(name)
            attrs = [
                attr(USER_NAME, imsi.encode()),
                attr(USER_PASSWORD, pap_hide(b"iot-apn-pass", auth)),
                ipv4(NAS_IP_ADDRESS, "10.20.0.1"),
                u32(NAS_PORT_TYPE, 5),
                u32(SERVICE_TYPE, 2),
                u32(FRAMED_PROTOCOL, 7),
                attr(CALLED_STATION_ID, b"iot.m2m.example"),
                attr(CALLING_STATION_ID, b"447700900123"),
                attr(NAS_IDENTIFIER, b"pgw-1"),
            ] + gpp_attrs(imsi, mcc, mnc, "3534560123456701", ULI_RAT[kind],
                          uli(kind, mcc, mnc)) + [MA]
            add(name, sign_request(packet(ACCESS_REQUEST, 0x10 + kind % 16, auth, attrs)))

    # CHAP with a CHAP-Challenge, and with the authenticator as challenge.
    auth = auth_for("chap")
    challenge = bytes(range(0x30, 0x40))
    add("access-request-chap-challenge", sign_request(packet(ACCESS_REQUEST, 0x21, auth, [
        attr(USER_NAME, b"234150123456789"),
        attr(CHAP_PASSWORD, chap_password(0x16, b"m2m-chap", challenge)),
        attr(CHAP_CHALLENGE, challenge),
        ipv4(NAS_IP_ADDRESS, "10.20.0.1"),
        gpp(G_IMSI, b"234150123456789"),
        gpp(G_RAT_TYPE, bytes([6])),
        MA])))
    add("access-request-chap-authenticator", sign_request(packet(ACCESS_REQUEST, 0x22, auth, [
        attr(USER_NAME, b"234150123456789"),
        attr(CHAP_PASSWORD, chap_password(0x01, b"m2m-chap", auth)),
        ipv4(NAS_IP_ADDRESS, "10.20.0.1")])))
    long_auth = auth_for("pap-long")
    add("access-request-pap-long-password", sign_request(packet(ACCESS_REQUEST, 0x23, long_auth, [
        attr(USER_NAME, b"device-42"),
        attr(USER_PASSWORD, pap_hide(b"x" * 100, long_auth)),
        MA])))

    # Accounting Start / Interim-Update / Stop (RFC 2866), signed.
    for status, sname in ((1, "start"), (3, "interim"), (2, "stop")):
        attrs = [
            u32(ACCT_STATUS_TYPE, status),
            attr(ACCT_SESSION_ID, b"0A1400011F2E3D4C"),
            attr(USER_NAME, b"310410012345678"),
            ipv4(NAS_IP_ADDRESS, "10.20.0.1"),
            ipv4(FRAMED_IP_ADDRESS, "100.64.12.34"),
            attr(CALLING_STATION_ID, b"15551230000"),
            u32(EVENT_TIMESTAMP, 1700000000 + status * 600),
        ]
        if status != 1:
            attrs += [u32(ACCT_INPUT_OCTETS, 123456789), u32(ACCT_OUTPUT_OCTETS, 987654),
                      u32(ACCT_INPUT_GIGAWORDS, 1), u32(ACCT_OUTPUT_GIGAWORDS, 0),
                      u32(ACCT_SESSION_TIME, 1800)]
        attrs += gpp_attrs("310410012345678", "310", "410", "35345601234567", 8,
                           uli(ULI_TAI_ECGI, "310", "410"))
        if status == 3:
            attrs.append(MA)
        add("accounting-request-" + sname,
            sign_request(packet(ACCOUNTING_REQUEST, 0x40 + status, bytes(16), attrs)))

    # Dynamic authorization (RFC 5176), signed; one with an MA.
    add("disconnect-request", sign_request(packet(DISCONNECT_REQUEST, 0x50, bytes(16), [
        attr(USER_NAME, b"234150123456789"),
        attr(ACCT_SESSION_ID, b"0A1400011F2E3D4C"),
        ipv4(FRAMED_IP_ADDRESS, "100.64.12.34"),
        MA])))
    add("coa-request", sign_request(packet(COA_REQUEST, 0x51, bytes(16), [
        attr(ACCT_SESSION_ID, b"0A1400011F2E3D4C"),
        attr(FILTER_ID, b"quarantine"),
        u32(SESSION_TIMEOUT, 300)])))

    # Status-Server (RFC 5997) carries an MA.
    add("status-server", sign_request(packet(STATUS_SERVER, 0x60, auth_for("status"), [
        ipv4(NAS_IP_ADDRESS, "10.20.0.1"), MA])))

    # Replies, signed against a request authenticator.
    req = auth_for("access-request-pap-3gpp-tai-ecgi-mnc2")
    add("access-accept-ma", sign_response(packet(ACCESS_ACCEPT, 0x16, bytes(16), [
        ipv4(FRAMED_IP_ADDRESS, "100.64.12.34"),
        u32(SESSION_TIMEOUT, 86400),
        u32(ACCT_INTERIM_INTERVAL, 900),
        attr(CLASS, b"m2mg:tenant=1"),
        MA]), req))
    add("access-reject-ma", sign_response(packet(ACCESS_REJECT, 0x17, bytes(16), [
        attr(REPLY_MESSAGE, b"IMEI not allowed for this SIM"), MA]), req))
    add("accounting-response", sign_response(packet(ACCOUNTING_RESPONSE, 0x43, bytes(16), []),
                                             req))
    add("disconnect-nak", sign_response(packet(DISCONNECT_NAK, 0x50, bytes(16), [
        u32(ERROR_CAUSE, 503)]), req))
    add("coa-ack", sign_response(packet(COA_ACK, 0x51, bytes(16), []), req))

    # A packet of exactly 4096 octets, and one with padding after Length.
    big = [attr(CLASS, bytes([i]) * 253) for i in range(15)] + [attr(STATE, b"s" * 249)]
    add("max-length-4096", packet(ACCESS_ACCEPT, 1, bytes(16), big))
    add("padding-after-length", seeds["rfc2865-7.1-access-request"] + b"\x19\x00\xff\xff")
    add("vendor-specific-other-vendor", packet(ACCESS_REQUEST, 2, auth_for("vsa9"), [
        vsa(9, 1, b"ip:addr-pool=m2m"), attr(VENDOR_SPECIFIC, struct.pack(">I", 311) + b"\x01")]))

    # Broken packets: one per decoder error path.
    hdr_auth = auth_for("broken")
    add("bad-short", bytes([1, 0, 0, 20]) + hdr_auth[:10])
    add("bad-length-small", packet(ACCESS_REQUEST, 3, hdr_auth, [], length=19))
    add("bad-length-large", packet(ACCESS_REQUEST, 3, hdr_auth, [attr(USER_NAME, b"x")],
                                   length=40))
    add("bad-too-long", packet(ACCESS_REQUEST, 3, hdr_auth, [], length=4097) + bytes(4077))
    add("bad-attr-length-1", packet(ACCESS_REQUEST, 3, hdr_auth, [b"\x01\x01\x02"]))
    add("bad-attr-past-end", packet(ACCESS_REQUEST, 3, hdr_auth, [b"\x01\x09abc"]))
    add("bad-attr-truncated", packet(ACCESS_REQUEST, 3, hdr_auth, [attr(USER_NAME, b"x"), b"\x01"]))
    add("bad-too-many-attrs", packet(ACCESS_REQUEST, 3, hdr_auth, [attr(CLASS, b"")] * 129))
    add("bad-too-many-vsas", packet(ACCESS_REQUEST, 3, hdr_auth, [
        attr(VENDOR_SPECIFIC, struct.pack(">I", VENDOR_3GPP) + b"\x63\x02" * 25)] * 2))
    add("bad-vsa-3gpp-framing", packet(ACCESS_REQUEST, 3, hdr_auth, [
        attr(VENDOR_SPECIFIC, struct.pack(">I", VENDOR_3GPP) + b"\x01\x09123")]))
    add("bad-vsa-3gpp-sub-length-1", packet(ACCESS_REQUEST, 3, hdr_auth, [
        attr(VENDOR_SPECIFIC, struct.pack(">I", VENDOR_3GPP) + b"\x01\x01\x01\x02")]))
    add("bad-vsa-short", packet(ACCESS_REQUEST, 3, hdr_auth, [attr(VENDOR_SPECIFIC, b"\x00\x00")]))
    add("bad-ma-length", packet(ACCESS_REQUEST, 3, hdr_auth, [attr(MESSAGE_AUTHENTICATOR, bytes(15))]))
    add("bad-ma-duplicate", packet(ACCESS_REQUEST, 3, hdr_auth, [MA, MA]))
    # Well-formed RADIUS whose 3GPP content gpp_info_decode() refuses.
    add("bad-3gpp-uli-type", sign_request(packet(ACCESS_REQUEST, 4, hdr_auth, [
        gpp(G_IMSI, b"234150123456789"), gpp(G_ULI, b"\x07" + plmn_bcd("234", "15") + b"\x00\x01"),
        MA])))
    add("bad-3gpp-imeisv", sign_request(packet(ACCESS_REQUEST, 5, hdr_auth, [
        gpp(G_IMEISV, b"35345601234"), gpp(G_RAT_TYPE, b"\x06\x06")])))
    add("bad-pap-length", packet(ACCESS_REQUEST, 6, hdr_auth, [attr(USER_PASSWORD, b"short")]))
    return seeds


def uli_seeds():
    seeds = {}
    for kind, kname in ULI_NAMES.items():
        for mcc, mnc in PLMNS + [("001", "01"), ("310", "010")]:
            seeds["%s-%s%s" % (kname, mcc, mnc)] = uli(kind, mcc, mnc)
    good = uli(ULI_TAI_ECGI, "234", "15")
    seeds["bad-empty"] = b""
    seeds["bad-type-only"] = b"\x80"
    seeds["bad-tai-short"] = uli(ULI_TAI, "234", "15")[:-1]
    seeds["bad-cgi-long"] = uli(ULI_CGI, "234", "15") + b"\x00"
    seeds["bad-tai-ecgi-short"] = good[:-1]
    seeds["bad-unknown-type-3"] = b"\x03" + good[1:8]
    seeds["bad-unknown-type-131"] = b"\x83" + good[1:8]
    seeds["bad-bcd-mcc"] = b"\x80\x3a\xf4\x51\x00\x01"
    seeds["bad-bcd-mnc3"] = b"\x80\x32\xe4\x51\x00\x01"
    seeds["bad-bcd-ecgi-plmn"] = good[:6] + b"\x32\xf4\xb1" + good[9:]
    return seeds


def ident_seeds():
    return {name: value.encode() for name, value in [
        # ICCIDs: Luhn-valid with 18..22 digits, a wrong check digit, an 'F' pad
        ("iccid-19", "8944110068256270054"), ("iccid-18", "894411006825627009"),
        ("iccid-20", "89441100682562700546"), ("iccid-22", "8944110068256270054121"),
        ("iccid-bad-luhn", "8944110068256270055"), ("iccid-f-pad", "8944110068256270054F"),
        # IMSIs, IMEIs, IMEISVs
        ("imsi-15", "234150123456789"), ("imsi-15-mnc3", "310410012345678"),
        ("imsi-6", "234150"), ("imei-15", "490154203237518"), ("imei-14", "49015420323751"),
        ("imeisv-16", "4901542032375107"), ("imei-bad-luhn", "490154203237519"),
        # MSISDNs
        ("msisdn-plus", "+447700900123"), ("msisdn", "447700900123"), ("msisdn-plus-only", "+"),
        ("msisdn-5", "12345"),
        # IPv4
        ("ipv4", "192.168.1.16"), ("ipv4-zero", "0.0.0.0"), ("ipv4-ones", "255.255.255.255"),
        ("ipv4-leading-zero", "01.2.3.4"), ("ipv4-256", "256.1.1.1"), ("ipv4-3-octets", "1.2.3"),
        ("ipv4-trailing-dot", "1.2.3.4."), ("ipv4-empty-octet", "1..2.3"),
        # MCC-MNC and RAT names
        ("plmn-5", "23415"), ("plmn-6", "310410"), ("rat-eutran", "EUTRAN"),
        ("rat-nb-iot", "nb-iot"), ("rat-lte-m", "LTE-M"), ("rat-6", "6"), ("rat-256", "256"),
        # Odd ones
        ("empty", ""), ("space", " "), ("u64-20-digits", "18446744073709551615"),
        ("u64-19-digits", "9999999999999999999"),
    ]}


def write(outdir, harness, seeds):
    d = os.path.join(outdir, harness)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print("%s: %d seeds" % (d, len(seeds)))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(here, "corpus"))
    args = ap.parse_args()
    write(args.out, "fuzz_radius_packet", radius_seeds())
    write(args.out, "fuzz_gpp_uli", uli_seeds())
    write(args.out, "fuzz_ident", ident_seeds())


if __name__ == "__main__":
    main()
