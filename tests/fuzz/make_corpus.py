#!/usr/bin/env python3
"""Write the seed corpora of the libFuzzer harnesses.

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

The parsers above the codec get seeds too: the daemon configuration
(fuzz_config), group policies (fuzz_policy) and the SIM CSV import
(fuzz_csv_import).  Each starts from the repository's own examples
(etc/m2mguard.conf, etc/policies/*.json, the document in docs/policy.md,
etc/fleet.csv), adds variants that reach every syntax rule (quotes,
comments, CRLF, a byte-order mark, columns in any order) and one broken
input per error the parser reports, plus every input a fuzzer found a bug
with ("regress-*").  Every seed is under 4 KB.

The OSCORE harness (fuzz_oscore) starts from the protected requests of
RFC 8613 Appendix C.4-C.6, the option examples of §6.3, one value per
malformation of §6.1, and inner CoAP messages (RFC 7252 §3.1).
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


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def repo_file(rel):
    with open(os.path.join(REPO, rel), "rb") as f:
        return f.read()


def config_seeds():
    seeds = {}

    def add(name, text):
        data = text.encode() if isinstance(text, str) else text
        assert name not in seeds and len(data) < 4096, (name, len(data))
        seeds[name] = data

    client = ('client ggsn-1 {\n    address 10.1.0.0/24\n'
              '    secret "a-long-random-shared-secret"\n}\n')
    add("etc-m2mguard.conf", repo_file("etc/m2mguard.conf"))
    add("minimal-client", client)
    add("empty", "")
    add("comments-only", "# nothing but a comment\n\n   \t# indented\n")
    add("all-directives",
        "database /var/lib/m2mguard/m2mguard.db\n"
        "control /run/m2mguard/control.sock\n"
        "log syslog\nevents /var/log/m2mguard/events.jsonl\n"
        "workers 64\nlisten auth 0.0.0.0:1812\n"
        "require-message-authenticator no\n"
        "dup-cache-size 16777216\ndup-cache-ttl 300\njournal-queue 64\n"
        "client pgw-london {\n    address 10.1.0.0/16\n"
        '    secret "0123456789abcdef0123456789abcdef"\n    tenant acme\n'
        "    da-port 1700\n    da-attributes user-name acct-session-id "
        "framed-ip-address calling-station-id 3gpp-imsi\n}\n"
        "client pgw-host {\n    address 10.1.2.3\n    secret s3cr3t-s3cr3t-s3cr3t\n"
        "    tenant globex\n    da-attributes 3gpp-imsi\n}\n")
    add("quotes",
        'database "/var/lib/m2m guard/db # not a comment"\n'
        'log "/var/log/with \\"quotes\\" and \\\\ backslash"\n'
        'events "/var/log/events.jsonl"\n'
        'client "ggsn with blanks" {\n    address "192.0.2.0/24"   # trailing comment\n'
        '    secret "a #hash, \\"quote\\" and \\\\ in a secret"\n'
        '    tenant "acme"\n}\n')
    add("crlf-tabs", client.replace("\n", "\r\n").replace("    ", "\t"))
    add("no-trailing-newline", client.rstrip("\n"))
    add("prefix-0-and-32",
        "client any {\n address 0.0.0.0/0\n secret any-secret-any-secret\n}\n"
        "client one {\n address 203.0.113.7/32\n secret one-secret-one-secret\n}\n")
    add("host-bits-warning", client.replace("10.1.0.0/24", "10.1.0.77/24"))
    add("weak-secret-warning", client.replace("a-long-random-shared-secret", "short"))
    add("secret-128", client.replace("a-long-random-shared-secret", "x" * 128))
    lines = []
    for i in range(40):
        prefix = (8, 16, 24, 32, 12)[i % 5]
        net = "10.%d.%d.0" % (i % 7, i)
        lines.append("client c%d {\n address %s/%d\n secret s-%04d-secret-16ch\n tenant t%d\n}\n"
                     % (i, net, prefix, i, i % 3))
    add("many-clients", "".join(lines))
    names = ["user-name", "acct-session-id", "framed-ip-address", "calling-station-id",
             "3gpp-imsi"]
    add("words-32", client.replace("}", "    da-attributes " +
                                   " ".join(names[i % 5] for i in range(31)) + "\n}"))

    # One error each.
    add("bad-unknown-directive", "databse /tmp/x.db\n" + client)
    add("bad-unterminated-quote", 'database "/tmp/x.db\n' + client)
    add("bad-misplaced-quote", 'database "/tmp/x"y\n' + client)
    add("bad-unclosed-block", client.rstrip("}\n") + "\n")
    add("bad-stray-brace", "}\n" + client)
    add("bad-nested-client", "client a {\nclient b {\n}\n}\n")
    add("bad-client-usage", "client a\n" + client)
    add("bad-client-name-long", client.replace("ggsn-1", "n" * 64))
    add("bad-client-name-empty", client.replace("ggsn-1", '""'))
    add("bad-tenant-empty", client.replace("}", '    tenant ""\n}'))
    # Found by fuzz_config: a NUL byte let the rest of the line pass unseen.
    add("regress-nul-byte-line-start",
        b"\x00\x00\x00\x00\x00\x00\x00)6iiiiiiiiiiiiiiiiiiiiiiiiiiiiii5\n")
    add("bad-client-no-secret", "client a {\n address 10.0.0.1\n}\n")
    add("bad-client-no-address", "client a {\n secret long-enough-secret-123\n}\n")
    add("bad-prefix-33", client.replace("/24", "/33"))
    add("bad-prefix-sign", client.replace("/24", "/+24"))
    add("bad-address", client.replace("10.1.0.0", "10.1.0.256"))
    add("bad-address-leading-zero", client.replace("10.1.0.0", "10.01.0.0"))
    # 64 characters: cut to 63 it would read as 10.1.0.0/24.
    add("bad-address-64-chars", client.replace("10.1.0.0/24", "10.1.0.0/" + "0" * 52 + "24x"))
    add("bad-duplicate-client", client + client)
    add("bad-secret-129", client.replace("a-long-random-shared-secret", "x" * 129))
    add("bad-secret-empty", client.replace('"a-long-random-shared-secret"', '""'))
    add("bad-da-attributes", client.replace("}", "    da-attributes user-name nas-port\n}"))
    add("bad-da-port-0", client.replace("}", "    da-port 0\n}"))
    add("bad-client-directive", client.replace("}", "    workers 2\n}"))
    add("bad-workers-0", "workers 0\n")
    add("bad-workers-65", "workers 65\n")
    add("bad-workers-hex", "workers 0x10\n")
    add("bad-yes-no", "require-message-authenticator maybe\n")
    add("bad-listen", "listen auth 127.0.0.1\nlisten acct 127.0.0.1:1813\n"
        "listen auth localhost:1812\nlisten auth 127.0.0.1:65536\n")
    add("bad-dup-cache", "dup-cache-size 15\ndup-cache-ttl 301\njournal-queue 63\n")
    add("bad-two-values", "database a b\n")
    add("bad-control-too-long", "control /run/" + "c" * 120 + ".sock\n")
    add("bad-empty-path", 'database ""\n')
    add("bad-words-33", client.replace("}", "    da-attributes " +
                                       " ".join(names[i % 5] for i in range(32)) + "\n}"))
    add("bad-nul-byte", client.encode().replace(b"ggsn-1", b"ggsn\x001"))
    # A NUL byte must be refused even where the rest of the line looks done.
    add("bad-nul-byte-after-value", client.encode().replace(
        b'"a-long-random-shared-secret"', b'a-long-random-shared-secret\x00"tail'))
    add("bad-nul-byte-comment", b"# comment\x00 more\n" + client.encode())
    return seeds


def policy_seeds():
    seeds = {}

    def add(name, text):
        data = text.encode() if isinstance(text, str) else text
        assert name not in seeds and len(data) < 4096, (name, len(data))
        seeds[name] = data

    for f in sorted(os.listdir(os.path.join(REPO, "etc", "policies"))):
        if f.endswith(".json"):
            add("etc-" + f[:-5], repo_file(os.path.join("etc", "policies", f)))
    doc = repo_file("docs/policy.md").decode()
    add("docs-policy-example", doc.split("```json\n", 1)[1].split("```", 1)[0])

    add("empty-object", "{}")
    add("description-only", '{"description": "no rules: the defaults"}')
    add("imei-learn-tacs", '{"imei_lock": {"mode": "learn", '
        '"allowed_tacs": ["35332811", "01234567", "35332811", "99999999"]}}')
    add("imei-off", '{"imei_lock": {"mode": "off"}}')
    add("location-all-lists", '{"location": {"mode": "alert", "allowed_mcc": ["999", "001", "234"], '
        '"allowed_plmns": ["23415", "310410", "001001"], "allowed_areas": [65535, 0, 4660], '
        '"allowed_cells": [268435455, 0, 27440068]}}')
    add("location-off-empty", '{"location": {"mode": "off"}}')
    add("roaming-off", '{"roaming": {"mode": "off", "home_plmns": []}}')
    add("rat-numbers", '{"rat": {"mode": "alert", "allowed": ["1", "6", "31", "nr", "GERAN", '
        '"WLAN", "GAN", "HSPA-Evolution", "Virtual", "NB-IoT", "LTE-M", "UTRAN", "EUTRAN"]}}')
    add("storm-limits", '{"attach_storm": {"max_requests": 0, "window_seconds": 86400}}')
    add("credential", '{"credential": {"username": "meters", "password": "apn-secret"}}')
    add("credential-null-user", '{"credential": {"username": null, "password": "p"}}')
    add("session-limits", '{"session": {"acct_interim_interval": 0, "session_timeout": 2147483647, '
        '"class": "' + "c" * 63 + '"}}')
    add("alerts-all", '{"alerts": {"min_severity": "info"}}')
    add("response-every-kind", '{"response": {' + ", ".join(
        '"%s": ["%s"]' % (k, a) for k, a in [
            ("sim_unknown", "none"), ("sim_inactive", "alert"), ("imei_mismatch", "reject"),
            ("device_sim_changed", "alert"), ("tac_not_allowed", "reject"),
            ("location_not_allowed", "none"), ("rat_not_allowed", "alert"),
            ("roaming", "alert"), ("software_version_changed", "none"),
            ("attach_storm", "reject"), ("nas_unknown", "alert"),
            ("nas_bad_authenticator", "alert"), ("credential_failure", "none"),
            ("imei_missing", "reject")]) + "}}")
    add("response-reject-alert", '{"response": {"roaming": ["reject", "alert", "reject"]}}')
    add("unicode-escapes", '{"description": "caf\\u00e9 \\ud83d\\ude00", '
        '"session": {"class": "\\u0041\\u0042"}}')
    add("whitespace", ' \r\n\t{ "imei_lock" : { "mode" : "enforce" } }\n\n')

    # One error each.
    add("bad-syntax-trailing-comma", '{"imei_lock": {"mode": "learn",}}')
    add("bad-truncated", '{"location": {"mode": "enforce", "allowed_mcc": ["23')
    add("bad-not-object", '["imei_lock"]')
    add("bad-scalar", "42")
    add("bad-empty", "")
    add("bad-unknown-key", '{"location": {"mode": "enforce", "alowed_mcc": ["234"]}}')
    add("bad-unknown-top-key", '{"imei": {}}')
    add("bad-duplicate-key", '{"rat": {"mode": "off"}, "rat": {"mode": "alert"}}')
    add("bad-section-not-object", '{"imei_lock": "enforce", "session": []}')
    add("bad-mode", '{"imei_lock": {"mode": "strict"}, "location": {"mode": "learn", '
        '"allowed_mcc": ["234"]}, "rat": {"mode": 1, "allowed": ["NR"]}}')
    add("bad-tac", '{"imei_lock": {"allowed_tacs": ["3533281", "3533281a", 35332811]}}')
    add("bad-tacs-not-array", '{"imei_lock": {"allowed_tacs": "35332811"}}')
    add("bad-mcc", '{"location": {"allowed_mcc": ["23", "2345", 234, "23a"]}}')
    add("bad-plmn", '{"location": {"allowed_plmns": ["2341", "2341567", 23415, "2341x"]}}')
    add("bad-areas", '{"location": {"allowed_areas": [65536, -1, "4660", 1.5]}}')
    add("bad-cells", '{"location": {"allowed_cells": [268435456, -1, null]}}')
    add("bad-location-no-list", '{"location": {"mode": "enforce"}}')
    add("bad-roaming-enforce", '{"roaming": {"mode": "enforce", "home_plmns": ["23415"]}}')
    add("bad-rat", '{"rat": {"mode": "enforce", "allowed": ["5G", "0", "32", "256", 6, ""]}}')
    add("bad-rat-no-list", '{"rat": {"mode": "alert", "allowed": []}}')
    add("bad-rat-not-array", '{"rat": {"allowed": "NR"}}')
    add("bad-storm", '{"attach_storm": {"max_requests": 1000001, "window_seconds": 0}}')
    add("bad-storm-types", '{"attach_storm": {"max_requests": "10", "window_seconds": 1e3}}')
    add("bad-interim-30", '{"session": {"acct_interim_interval": 30}}')
    add("bad-session-timeout", '{"session": {"session_timeout": 2147483648}}')
    add("bad-class-64", '{"session": {"class": "' + "c" * 64 + '"}}')
    add("bad-class-empty", '{"session": {"class": ""}}')
    add("bad-cred-user-only", '{"credential": {"username": "meters"}}')
    add("bad-cred-long", '{"credential": {"password": "' + "p" * 129 + '"}}')
    add("bad-nul-escape", '{"credential": {"password": "a\\u0000b"}}')
    add("bad-severity", '{"alerts": {"min_severity": "high"}}')
    add("bad-response-kind", '{"response": {"sim_unkown": ["reject"]}}')
    add("bad-response-action", '{"response": {"roaming": ["suspend", 1]}}')
    add("bad-response-empty", '{"response": {"roaming": [], "attach_storm": "reject"}}')
    add("bad-response-none-combined", '{"response": {"roaming": ["none", "alert"]}}')
    add("description-deep-nesting", '{"description": ' + "[" * 600 + "]" * 600 + "}")
    add("bad-invalid-utf8", b'{"description": "\xff\xfe"}')
    return seeds


def luhn_digit(digits):
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def iccid(n):
    body = "894411000000%06d" % n
    return body + luhn_digit(body)


def csv_seeds():
    seeds = {}

    def add(name, text):
        data = text.encode() if isinstance(text, str) else text
        assert name not in seeds and len(data) < 4096, (name, len(data))
        seeds[name] = data

    hdr = "iccid,imsi,msisdn,imei,ip,group,tenant\n"
    row = "%s,2341510000%05d,4479000%05d,,10.20.%d.%d,meters,acme\n"

    def rows(n, start=1):
        return "".join(row % (iccid(i), i, i, i // 250, i % 250 + 1)
                       for i in range(start, start + n))

    add("etc-fleet.csv", repo_file("etc/fleet.csv"))
    doc = repo_file("docs/csv-format.md").decode()
    add("docs-example", doc.split("## Example\n\n```\n", 1)[1].split("```", 1)[0])
    add("header-only", hdr)
    add("minimal-columns", "iccid,imsi,group,tenant\n%s,234150000000001,g,t\n" % iccid(1))
    add("any-order-extra-columns",
        "Tenant, Group ,plan,IMSI,ICCID,notes,IP,IMEI,msisdn,State\n"
        "acme,meters,gold,234150000000001,%s,,10.0.0.1,353328110000013,+447900000001,active\n"
        "acme,meters,,234150000000002,%s,x,,,,suspended\n"
        "globex,vending,silver,310410000000003,%s,,,35332811000001,,deactivated\n"
        % (iccid(11), iccid(12), iccid(13)))
    add("quotes",
        hdr + '"%s","234150000000001","+447900000001","","10.0.0.1","meters","acme"\n'
        '%s,234150000000002,,,,"smart ""meters"", phase 2","acme, inc."\n'
        '" %s ",234150000000003,,, 10.0.0.3 ,  meters  ,acme\n'
        % (iccid(21), iccid(22), iccid(23)))
    add("bom-crlf", "\ufeff" + (hdr + rows(3)).replace("\n", "\r\n"))
    add("blank-lines", hdr + "\n" + rows(2) + "   \n\t\r\n" + rows(1, 50) + "\n")
    add("no-trailing-newline", (hdr + rows(2)).rstrip("\n"))
    add("imei-lengths", hdr +
        "%s,234150000000001,,35332811000001,,m,t\n"     # 14 digits, no check digit
        "%s,234150000000002,,353328110000013,,m,t\n"    # 15, Luhn
        "%s,234150000000003,,3533281100000107,,m,t\n"   # 16, IMEISV
        % (iccid(31), iccid(32), iccid(33)))
    add("iccid-lengths", "iccid,imsi,group,tenant\n" +
        "".join("%s,%s,g,t\n" % (b + luhn_digit(b), "2341500000000%02d" % i)
                for i, b in enumerate(["89441100000000001", "894411000000000010",
                                       "8944110000000000100", "89441100000000001000",
                                       "894411000000000010000"])))
    add("many-rows", hdr + rows(45))
    add("columns-64", ",".join(["iccid", "imsi", "group", "tenant"] + ["x%d" % i for i in range(60)])
        + "\n" + ",".join([iccid(41), "234150000000041", "g", "t"] + [""] * 60) + "\n")

    # One error each.
    add("bad-empty-file", "")
    add("bad-missing-columns", "iccid,imsi,msisdn\n%s,234150000000001,\n" % iccid(1))
    add("bad-duplicate-column", "iccid,imsi,group,tenant,ICCID\n")
    add("bad-header-quote", 'iccid,"imsi,group,tenant\n')
    add("bad-header-65-columns", ",".join(["iccid", "imsi", "group", "tenant"] +
                                          ["x"] * 61) + "\n")
    add("bad-iccid", hdr + "8944110000000000017,234151000000001,,,,meters,acme\n"
        "89441100000000016,234151000000002,,,,meters,acme\n"
        "8944110000000000016a,234151000000003,,,,meters,acme\n")
    add("bad-imsi", hdr + "%s,23415,,,,m,t\n%s,2341510000000011,,,,m,t\n%s,,,,,m,t\n"
        % (iccid(1), iccid(2), iccid(3)))
    add("bad-msisdn", hdr + "%s,234150000000001,1234,,,m,t\n%s,234150000000002,++4479,,,m,t\n"
        % (iccid(1), iccid(2)))
    add("bad-imei", hdr + "%s,234150000000001,,353328110000014,,m,t\n"
        "%s,234150000000002,,3533281100001,,m,t\n" % (iccid(1), iccid(2)))
    add("bad-ip", hdr + "".join("%s,2341500000000%02d,,,%s,m,t\n" % (iccid(i), i, ip)
                                for i, ip in enumerate(["0.0.0.0", "255.255.255.255",
                                                       "10.0.0.01", "10.0.0", "10.0.0.256",
                                                       "::1"], 1)))
    add("bad-state", hdr.rstrip("\n") + ",state\n%s,234150000000001,,,,m,t,Active\n" % iccid(1))
    add("bad-tenant-group", hdr + "%s,234150000000001,,,,,t\n%s,234150000000002,,,,m,%s\n"
        % (iccid(1), iccid(2), "t" * 64))
    add("bad-duplicate-in-file", hdr + rows(2) + rows(1))
    add("bad-duplicate-imsi-ip", hdr + "%s,234150000000001,,,10.0.0.1,m,t\n"
        "%s,234150000000001,,,10.0.0.1,m,t\n" % (iccid(1), iccid(2)))
    # The harness's baseline fleet holds this ICCID, IMSI and IP.
    add("bad-duplicate-against-db", hdr +
        "8944110000000009991,234150000000001,,,,m,t\n"
        "%s,234159000000002,,,,m,t\n%s,234150000000003,,,10.99.0.1,m,t\n"
        % (iccid(2), iccid(3)))
    add("bad-unterminated-quote", hdr + '"%s,234150000000001,,,,m,t\n' % iccid(1))
    add("bad-misplaced-quote", hdr + '"%s"x,234150000000001,,,,m,t\n' % iccid(1))
    add("bad-65-fields", hdr + "%s,234150000000001,,,,m,t" % iccid(1) + "," * 58 + "\n")
    add("bad-nul-byte", (hdr + rows(2)).encode().replace(b"meters", b"met\x00ers", 1))
    # A NUL byte must be refused wherever it is, not cut a line short.
    add("bad-nul-byte-line-start", (hdr + rows(1)).encode() + b"\x00" + rows(1, 2).encode())
    add("bad-nul-byte-after-blanks", (hdr + rows(1)).encode() + b" \t\x00" + rows(1, 2).encode())
    # The ip column after the NUL would be dropped without a word.
    add("bad-nul-byte-header", b"iccid,imsi,group,tenant\x00,ip\n" +
        ("%s,234150000000001,m,t,10.0.0.1\n" % iccid(1)).encode())
    # Found by fuzz_csv_import: header columns after a NUL byte were dropped.
    add("regress-nul-byte-header",
        b"iccid,imsi,group,tenant,x0,x1,x2,x3,x4,x5,x6,x7,x8,x9,x10,x11,x12,x13,x1"
        b"4,x15,x16,x17,x18,x19,x20,x21,x22\xd4\x87\xcd\xcc\xd3\x87\xcd\xce,x25,x2"
        b"6,x27,x28,x29,x30,x31,x32,x33,x34,x35,x36,x37,\x00\x00\x00\x00\x00\x00"
        b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
        b"\x00\x00\x00\x00\x00\x00\x00x38,x39,x40,x41,x42,x43,x44,x45,x46,x47,x48,"
        b"x49,x50,x51,x52,x53,x54,x55,x56,x57,x58,x59\n8944110000000000412,2341500"
        b"00000041,g,t,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,"
        b"\n")
    return seeds


def oscore_seeds():
    """fuzz_oscore: a selector octet (low two bits: the RFC 8613 Appendix C
    context pair C.1 / C.2 / C.3; 0x04: the server answers with its own
    Partial IV), the option length, the option value, the payload.

    The protected requests of Appendix C.4-C.6 verify, so the fuzzer starts
    on the success path (replay, the response round trip) as well as on
    every refusal; the payload of the others is an inner request for the
    client round trip (RFC 7252 §3.1 option encodings)."""
    seeds = {}
    h = bytes.fromhex

    def add(name, sel, option, payload):
        assert len(option) <= 255
        seeds[name] = bytes([sel, len(option)]) + option + payload

    c4 = (h("0914"), h("612f1092f1776f1c1668b3825e"))
    c5 = (h("091400"), h("4ed339a5a379b0b8bc731fffb0"))
    c6 = (h("19140837cbf3210017a2d3"), h("72cd7273fd331ac45cffbe55c3"))
    add("c4-request", 0, *c4)
    add("c4-request-own-piv", 4, *c4)
    add("c5-request", 1, *c5)
    add("c5-request-own-piv", 5, *c5)
    add("c6-request", 2, *c6)
    add("c6-request-without-kid-context", 2, h("0914"), c6[1])
    add("c4-tag-flipped", 0, c4[0], c4[1][:-1] + bytes([c4[1][-1] ^ 1]))
    add("c5-wrong-kid", 1, h("091401"), c5[1])
    add("c5-no-payload", 1, c5[0], b"")
    add("c6-wrong-kid-context", 2, h("19140837cbf3210017a2d4"), c6[1])

    get = h("01b3747631")                       # GET Uri-Path "tv1"
    # §6.3 examples and the other legal shapes.
    for name, opt in [("ex1", "090525"), ("ex2", "0900"), ("ex3", "19050544616c656b"),
                      ("ex4-empty", ""), ("ex5", "0107"), ("piv5", "0d0102030405"),
                      ("empty-kid-context", "1000"), ("kid7", "09140102030405060708")]:
        add("option-" + name, 1, h(opt), get)
    # Every malformation of §6.1 / §2.
    for name, opt in [("reserved-20", "2914"), ("reserved-40", "4914"),
                      ("reserved-80", "8914"), ("n6", "0e010203040506"),
                      ("n7", "0f01020304050607"), ("flags-zero", "00"),
                      ("flags-zero-long", "0001"), ("piv-truncated", "030102"),
                      ("h-without-s", "10"), ("kid-context-truncated", "1005aabbcc"),
                      ("trailing", "011400"), ("piv-leading-zero", "020014"),
                      ("no-piv", "0800"), ("no-kid", "0114")]:
        add("bad-option-" + name, 1, h(opt), get)
    add("option-255", 1, b"\x08" + bytes(range(254)), get)

    # Inner messages for the client round trip.
    echo = bytes([0xd8, 0xef]) + h("0011223344556677")
    for name, plain in [
            ("get", get),
            ("post-payload", h("02b56d65746572ff3432")),
            ("put-query", h("03b36d6574") + bytes([0x44]) + b"id=7" + b"\xff{}"),
            ("extended-delta-13", h("02") + bytes([0xd3, 36]) + b"abc"),
            ("extended-delta-14", h("02") + bytes([0xe1, 0x06, 0x87]) + b"z"),
            ("extended-length-14", h("02be0012") + b"x" * 287),
            ("echo", get + bytes([0xd8, 0xe4]) + h("0011223344556677")),
            ("echo-only", h("01") + echo),
            ("bad-marker-no-payload", h("01ff")),
            ("bad-nested-oscore", h("0190")),
            ("bad-nibble-15", h("01f0")),
            ("bad-number-overflow", h("01e0ff01e0ff01")),
            ("bad-response-code", h("45ff6f6b"))]:
        add("inner-" + name, 1, b"", plain)
    return seeds


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
    write(args.out, "fuzz_config", config_seeds())
    write(args.out, "fuzz_policy", policy_seeds())
    write(args.out, "fuzz_csv_import", csv_seeds())
    write(args.out, "fuzz_oscore", oscore_seeds())


if __name__ == "__main__":
    main()
