"""
Integration test harness for m2mguard: the real daemon, over its real sockets.

Each test module gets its own daemon (fresh database, fresh in-memory state:
storm counters, learned IMEIs, duplicate cache) through the `daemon` fixture,
or starts special ones with `daemon_factory`.  A daemon is configured in a
temporary directory: RADIUS auth on 127.0.0.1:<free UDP port>, database,
control socket and event log inside the directory, two workers, one NAS
client `ggsn` (127.0.0.1/32, a long secret, tenant acme).  The fleet comes
from data/fleet.csv through `m2mguard sim import`, the policies from
etc/policies through `m2mguard policy set`.

RADIUS requests are built with pyrad (dictionary: data/dictionary.m2mguard).
pyrad 2.1 as packaged by Debian knows nothing about Message-Authenticator, so
the helper computes it itself (RFC 3579 §3.2: HMAC-MD5 over the packet with
the attribute zeroed) and puts it first in the packet (Blast-RADIUS,
CVE-2024-3596).  Every reply is verified: Response Authenticator
(RFC 2865 §3), Message-Authenticator present as the FIRST attribute and
correct (computed with the request's authenticator in the header).

Accounting (RFC 2866): AcctClient (Daemon.acct_client()) signs
Accounting-Requests (Request Authenticator, optional Message-Authenticator
computed over a zero authenticator) and verifies each Accounting-Response
(verify_acct_reply: Response Authenticator, Message-Authenticator FIRST and
computed over the packet with the authenticator field zeroed, as FreeRADIUS
does).  Tests read the daemon's database read-only (Daemon.db_rows,
.sessions, .usage) for sessions, usage_daily and acct_records; a daemon
given acct_listen_line() in conf_extra listens for accounting on a free port.

Dynamic Authorization (RFC 5176): TestNAS is the GGSN's side, a UDP socket
on a free port read by a thread that checks every Disconnect-Request it
gets (Request Authenticator, Message-Authenticator first and correct),
records it (DisconnectRequest) and answers ACK, NAK with an Error-Cause, or
nothing, as the test says.  A daemon sends to it when its client block has
the TestNAS's lines: Daemon(client_extra=nas.client_lines([...])) adds
`da-port` (and `da-attributes`) inside `client ggsn { }`; without
client_extra the configuration is unchanged.  Daemon.actions() reads the
store's `actions` table, Daemon.event_lines() the events log.

Sanitizer build (make check-asan, docs/hardening.md): every m2mguard
process (daemon and CLI) is built with ASan + UBSan and run with
ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 and UBSAN_OPTIONS=halt_on_error=1.
A report is a failure wherever it appears: in a CLI's stderr (Daemon.cli,
check_sanitizer_output), in a daemon's log after any test (the autouse
fixture sanitizer_watch), and when daemon_factory stops its daemons with
SIGTERM at the end of a module (exit status 0 and no report required; that
is where LeakSanitizer speaks, as the daemon returns from main()).

Privileges (docs/hardening.md): run as root, as on the CI machine, every
daemon drops to DAEMON_USER (`user nobody` in its configuration) after
binding its sockets, with the seccomp filter on (the default).  Its
directory is that user's, every directory above it is searchable, and its
configuration is root's with the user's group allowed to read it (mode
640), as an operator would set them up.  Run as anyone else, the daemons
run as that user and the configuration has no `user` line.

Python: Debian's /usr/bin/python3 with python3-pytest and python3-pyrad only.
"""
import hashlib
import hmac
import json
import grp
import os
import pwd
import re
import shutil
import signal
import socket
import sqlite3
import struct
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
from pyrad.dictionary import Dictionary
from pyrad.packet import AcctPacket, AuthPacket, Packet

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DATA = HERE / "data"
FLEET_CSV = DATA / "fleet.csv"
ETC = REPO / "etc"

_bin = Path(os.environ.get("M2MGUARD_BIN", "build/m2mguard"))
BIN = _bin if _bin.is_absolute() else REPO / _bin

DICT = Dictionary(str(DATA / "dictionary.m2mguard"))
SECRET = b"integration-shared-secret-7f3c9a2e5b1d4068a9c3e7f1"
CLIENT = "ggsn"
TENANT = "acme"

DEFAULT_POLICIES = {
    "meters": ETC / "policies" / "meters.json",
    "trackers": ETC / "policies" / "trackers.json",
}

# RADIUS codes and attribute types the tests use.
ACCESS_REQUEST, ACCESS_ACCEPT, ACCESS_REJECT = 1, 2, 3
ACCOUNTING_REQUEST, STATUS_SERVER = 4, 12
ATTR_MESSAGE_AUTHENTICATOR = 80
GPP = 10415
GPP_IMSI, GPP_SGSN_MCC_MNC, GPP_IMEISV, GPP_RAT_TYPE, GPP_ULI = 1, 18, 20, 21, 22

_live_daemons = []
_all_daemons = []

# The unprivileged account the daemons run as when the tests run as root.
DAEMON_USER = "nobody" if os.geteuid() == 0 else None


def daemon_ids():
    """(uid, gid) the daemons run as: DAEMON_USER's, or the tests' own."""
    if DAEMON_USER is None:
        return os.geteuid(), os.getegid()
    pw = pwd.getpwnam(DAEMON_USER)
    return pw.pw_uid, pw.pw_gid


_daemon_base = None


def daemon_dir(name):
    """A new directory for one daemon, DAEMON_USER's.  Not under pytest's
    basetemp: pytest makes /tmp/pytest-of-USER 0700 again whenever a session
    starts (any session on the machine), which would lock the daemon user
    out of its directory in the middle of a run.  The base directory is
    searchable (0711) and removed when the session passes."""
    global _daemon_base
    if _daemon_base is None:
        _daemon_base = Path(tempfile.mkdtemp(prefix="m2mguard-tests-"))
        os.chmod(_daemon_base, 0o711)
    path = Path(tempfile.mkdtemp(prefix=name + "-", dir=_daemon_base))
    if DAEMON_USER is not None:
        os.chown(path, *daemon_ids())
    return path


def protect_config(path):
    """A configuration as an operator keeps it: root's (the tests' user's),
    readable by the daemon user's group, by nobody else (mode 640)."""
    os.chmod(path, 0o640)
    if DAEMON_USER is not None:
        os.chown(path, 0, daemon_ids()[1])

# ---------------------------------------------------------------- sanitizers

# What AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer print
# when they find something (UBSan: "file:line:col: runtime error: ...").
# The plain build never prints any of them.
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                     "AddressSanitizer:DEADLYSIGNAL", "SUMMARY: AddressSanitizer",
                     "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer",
                     "WARNING: ThreadSanitizer")


def sanitizer_report(text):
    """The sanitizer report in a process's output (from the line where it
    starts, at most 20000 characters), or None."""
    starts = [text.find(m) for m in SANITIZER_MARKERS if m in text]
    if not starts:
        return None
    first = text.rfind("\n", 0, min(starts)) + 1
    return text[first:first + 20000]


def check_sanitizer_output(what, *texts):
    """Raise AssertionError if the output of `what` holds a sanitizer report."""
    for text in texts:
        report = sanitizer_report(text or "")
        if report:
            raise AssertionError("%s: sanitizer report:\n%s" % (what, report))


# ---------------------------------------------------------------- fleet data

def read_fleet(path=FLEET_CSV):
    """IMSI → row (dict) of a fleet CSV."""
    lines = Path(path).read_text().splitlines()
    header = [h.strip().lower() for h in lines[0].split(",")]
    rows = {}
    for line in lines[1:]:
        if line.strip():
            row = dict(zip(header, line.split(",")))
            rows[row["imsi"]] = row
    return rows


FLEET = read_fleet()


def imeisv_of(imei15, sv="01"):
    """The 3GPP-IMEISV a device sends: IMEI without its check digit + 2 SV digits."""
    return imei15[:14] + sv


# ---------------------------------------------------------------- 3GPP values

def plmn_bcd(plmn):
    """TS 24.008 §10.5.1.3: MCC2|MCC1, MNC3|MCC3, MNC2|MNC1 (MNC3 = F for 2 digits)."""
    mcc = [int(c) for c in plmn[:3]]
    mnc = [int(c) for c in plmn[3:]]
    mnc3 = mnc[2] if len(mnc) == 3 else 0xF
    return bytes([mcc[1] << 4 | mcc[0], mnc3 << 4 | mcc[2], mnc[1] << 4 | mnc[0]])


def uli_tai_ecgi(plmn, tac, eci):
    """3GPP-User-Location-Info type 130 (TAI+ECGI): 13 octets."""
    return (bytes([130]) + plmn_bcd(plmn) + struct.pack("!H", tac) + plmn_bcd(plmn)
            + struct.pack("!I", eci & 0x0FFFFFFF))


def uli_tai(plmn, tac):
    return bytes([128]) + plmn_bcd(plmn) + struct.pack("!H", tac)


def uli_ecgi(plmn, eci):
    return bytes([129]) + plmn_bcd(plmn) + struct.pack("!I", eci & 0x0FFFFFFF)


def uli_cgi(plmn, lac, ci):
    """3GPP-User-Location-Info type 0 (CGI): PLMN, LAC, CI — 8 octets."""
    return bytes([0]) + plmn_bcd(plmn) + struct.pack("!HH", lac, ci)


# ---------------------------------------------------------------- RADIUS codec

def hmac_md5(secret, data):
    return hmac.new(secret, data, hashlib.md5).digest()


def iter_attrs(raw):
    """(offset, type, value) of each attribute of a well-formed packet."""
    pos, end = 20, struct.unpack("!H", raw[2:4])[0]
    while pos < end:
        t, ln = raw[pos], raw[pos + 1]
        yield pos, t, raw[pos + 2:pos + ln]
        pos += ln


def sign_message_authenticator(raw, secret):
    """RFC 3579 §3.2: fill in the (first) Message-Authenticator of a request."""
    for off, t, _ in iter_attrs(raw):
        if t == ATTR_MESSAGE_AUTHENTICATOR:
            zeroed = raw[:off + 2] + bytes(16) + raw[off + 18:]
            return zeroed[:off + 2] + hmac_md5(secret, zeroed) + zeroed[off + 18:]
    return raw


class Reply:
    """A verified reply: code, raw bytes and the decoded pyrad packet."""

    def __init__(self, raw, secret):
        self.raw = raw
        self.code = raw[0]
        self.packet = Packet(packet=raw, dict=DICT, secret=secret)

    @property
    def accepted(self):
        return self.code == ACCESS_ACCEPT

    @property
    def rejected(self):
        return self.code == ACCESS_REJECT

    def get(self, name):
        return self.packet[name][0] if name in self.packet else None

    @property
    def reply_message(self):
        return self.get("Reply-Message")

    def __repr__(self):
        names = {2: "Access-Accept", 3: "Access-Reject"}
        attrs = {k: self.packet[k] for k in self.packet.keys() if isinstance(k, str)}
        return "<Reply %s %r>" % (names.get(self.code, self.code), attrs)


def verify_reply(raw, req_raw, secret):
    """Check a reply against its request; raise AssertionError on any fault."""
    assert len(raw) >= 20, "reply shorter than a RADIUS header"
    length = struct.unpack("!H", raw[2:4])[0]
    assert length == len(raw), "reply Length %d != datagram %d" % (length, len(raw))
    assert raw[1] == req_raw[1], "reply identifier does not match the request"
    req_auth = req_raw[4:20]
    expect = hashlib.md5(raw[:4] + req_auth + raw[20:] + secret).digest()
    assert raw[4:20] == expect, "Response Authenticator does not verify"
    attrs = list(iter_attrs(raw))
    assert attrs, "reply has no attributes (no Message-Authenticator)"
    off, t, value = attrs[0]
    assert t == ATTR_MESSAGE_AUTHENTICATOR, \
        "first reply attribute is %d, not Message-Authenticator (80)" % t
    assert len(value) == 16, "reply Message-Authenticator is not 16 octets"
    assert sum(1 for a in attrs if a[1] == ATTR_MESSAGE_AUTHENTICATOR) == 1
    zeroed = raw[:4] + req_auth + raw[20:off + 2] + bytes(16) + raw[off + 18:]
    assert hmac_md5(secret, zeroed) == value, "reply Message-Authenticator does not verify"


class RadiusClient:
    """A NAS: one UDP socket (optionally bound to a source address), one secret."""

    def __init__(self, port, secret=SECRET, source=None, timeout=2.0, server="127.0.0.1"):
        self.server = (server, port)
        self.secret = secret
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        if source:
            self.sock.bind((source, 0))
        self._id = int.from_bytes(os.urandom(1), "big")

    def close(self):
        self.sock.close()

    def next_id(self):
        self._id = (self._id + 1) & 0xFF
        return self._id

    # -- building

    def build(self, code=ACCESS_REQUEST, attrs=(), ma=True, secret=None, ident=None,
              authenticator=None):
        """Encode a request with pyrad.  `attrs` is a list of (name or key, value)
        in wire order; a Message-Authenticator goes first when `ma`."""
        secret = self.secret if secret is None else secret
        pkt = AuthPacket(code=code, id=self.next_id() if ident is None else ident,
                         secret=secret, authenticator=authenticator or os.urandom(16),
                         dict=DICT)
        if ma:
            pkt.AddAttribute(ATTR_MESSAGE_AUTHENTICATOR, bytes(16))
        for key, value in attrs:
            if key == "User-Password":
                value = pkt.PwCrypt(value)
            pkt.AddAttribute(key, value)
        raw = pkt.RequestPacket()
        if ma:
            raw = sign_message_authenticator(raw, secret)
        return raw

    def access_attrs(self, imsi=None, imeisv=None, rat="EUTRAN", plmn=None, uli=None,
                     user_name=None, password=None, chap=None, extra=(), raw_vsas=()):
        """The attributes of a GGSN's Access-Request, in the order a PGW sends them.
        `uli`: bytes, or None for a TAI+ECGI built from `plmn`; False for none."""
        attrs = []
        if user_name is None and imsi is not None:
            user_name = imsi
        if user_name is not False and user_name is not None:
            attrs.append(("User-Name", user_name))
        if password is not None:
            attrs.append(("User-Password", password))
        if chap is not None:
            attrs.append(("CHAP-Password", chap))
        attrs.append(("NAS-IP-Address", "127.0.0.1"))
        attrs.append(("Called-Station-Id", "iot.m2m.example"))
        if imsi is not None:
            attrs.append(("3GPP-IMSI", imsi))
        if imeisv is not None:
            attrs.append(("3GPP-IMEISV", imeisv))
        if rat is not None:
            attrs.append(("3GPP-RAT-Type", rat))
        if plmn is not None:
            attrs.append(("3GPP-SGSN-MCC-MNC", plmn))
        if uli is None and plmn is not None:
            uli = uli_tai_ecgi(plmn, 0x1234, 0x1A2B3C4)
        if uli:
            attrs.append(("3GPP-User-Location-Info", uli))
        for t, v in raw_vsas:
            attrs.append(((GPP, t), v))
        attrs.extend(extra)
        return attrs

    # -- exchanging

    def send_raw(self, raw):
        self.sock.sendto(raw, self.server)

    def receive(self, req_raw, timeout=None, secret=None):
        """The verified reply to `req_raw`, or None on timeout."""
        secret = self.secret if secret is None else secret
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(4096)
            except socket.timeout:
                return None
            if data[1] != req_raw[1]:
                continue        # a late reply to an earlier request
            verify_reply(data, req_raw, secret)
            return Reply(data, secret)

    def exchange(self, raw, timeout=None, secret=None):
        self.send_raw(raw)
        return self.receive(raw, timeout=timeout, secret=secret)

    def access(self, secret=None, ma=True, **kw):
        """Send an Access-Request; return the verified Reply (None: no answer)."""
        raw = self.build(attrs=self.access_attrs(**kw), ma=ma, secret=secret)
        return self.exchange(raw, secret=secret)

    def status_server(self):
        raw = self.build(code=STATUS_SERVER, attrs=[("NAS-Identifier", "pytest")])
        return self.exchange(raw)

    def expect_silence(self, raw, timeout=0.5):
        """Send `raw` and check that nothing comes back."""
        self.send_raw(raw)
        self.sock.settimeout(timeout)
        try:
            data, _ = self.sock.recvfrom(4096)
        except socket.timeout:
            return
        raise AssertionError("expected the packet to be dropped, got a reply %r" % data[:4])


# ---------------------------------------------------------------- accounting

ACCOUNTING_RESPONSE = 5
ACCT_START, ACCT_STOP, ACCT_INTERIM, ACCT_ON, ACCT_OFF = 1, 2, 3, 7, 8
GIGAWORD = 1 << 32


def sign_acct_request(raw, secret):
    """RFC 2866 §3 (and RFC 3579 §3.2 for the Message-Authenticator, which is
    computed first, over the packet with a zero authenticator): return `raw`
    with its Message-Authenticator (if any) and Request Authenticator filled in."""
    raw = raw[:4] + bytes(16) + raw[20:]
    for off, t, _ in iter_attrs(raw):
        if t == ATTR_MESSAGE_AUTHENTICATOR:
            zeroed = raw[:off + 2] + bytes(16) + raw[off + 18:]
            raw = zeroed[:off + 2] + hmac_md5(secret, zeroed) + zeroed[off + 18:]
            break
    return raw[:4] + hashlib.md5(raw + secret).digest() + raw[20:]


def verify_acct_reply(raw, req_raw, secret):
    """Check an Accounting-Response against its request; AssertionError on any
    fault.  Response Authenticator: MD5(Code+ID+Length+RequestAuth+Attributes
    +Secret) (RFC 2866 §3).  Message-Authenticator: present, FIRST, and
    computed over the packet with a zeroed authenticator field (as FreeRADIUS
    signs and checks an Accounting-Response)."""
    assert len(raw) >= 20, "reply shorter than a RADIUS header"
    assert raw[0] == ACCOUNTING_RESPONSE, "reply code %d, not Accounting-Response" % raw[0]
    length = struct.unpack("!H", raw[2:4])[0]
    assert length == len(raw), "reply Length %d != datagram %d" % (length, len(raw))
    assert raw[1] == req_raw[1], "reply identifier does not match the request"
    req_auth = req_raw[4:20]
    expect = hashlib.md5(raw[:4] + req_auth + raw[20:] + secret).digest()
    assert raw[4:20] == expect, "Accounting-Response Authenticator does not verify"
    attrs = list(iter_attrs(raw))
    assert attrs, "Accounting-Response has no attributes (no Message-Authenticator)"
    off, t, value = attrs[0]
    assert t == ATTR_MESSAGE_AUTHENTICATOR, \
        "first Accounting-Response attribute is %d, not Message-Authenticator (80)" % t
    assert len(value) == 16
    assert sum(1 for a in attrs if a[1] == ATTR_MESSAGE_AUTHENTICATOR) == 1
    zeroed = raw[:4] + bytes(16) + raw[20:off + 2] + bytes(16) + raw[off + 18:]
    assert hmac_md5(secret, zeroed) == value, \
        "Accounting-Response Message-Authenticator does not verify"


def acct_attrs(status, session_id=None, imsi=None, in_octets=None, out_octets=None,
               session_time=None, framed_ip=None, imeisv=None, nas_ip="127.0.0.1",
               extra=()):
    """The attributes of a PGW's Accounting-Request, in wire order.  The
    octet counters are 64-bit totals, split into Octets + Gigawords."""
    attrs = [("Acct-Status-Type", status)]
    if session_id is not None:
        attrs.append(("Acct-Session-Id", session_id))
    if imsi is not None:
        attrs.append(("User-Name", imsi))
    attrs.append(("NAS-IP-Address", nas_ip))
    if framed_ip is not None:
        attrs.append(("Framed-IP-Address", framed_ip))
    attrs.append(("Called-Station-Id", "iot.m2m.example"))
    if in_octets is not None:
        attrs.append(("Acct-Input-Octets", in_octets % GIGAWORD))
        if in_octets >= GIGAWORD:
            attrs.append(("Acct-Input-Gigawords", in_octets // GIGAWORD))
    if out_octets is not None:
        attrs.append(("Acct-Output-Octets", out_octets % GIGAWORD))
        if out_octets >= GIGAWORD:
            attrs.append(("Acct-Output-Gigawords", out_octets // GIGAWORD))
    if session_time is not None:
        attrs.append(("Acct-Session-Time", session_time))
    if imsi is not None:
        attrs.append(("3GPP-IMSI", imsi))
    if imeisv is not None:
        attrs.append(("3GPP-IMEISV", imeisv))
    attrs.extend(extra)
    return attrs


class AcctClient(RadiusClient):
    """A NAS on the accounting port: Accounting-Requests signed per RFC 2866,
    Accounting-Responses verified (verify_acct_reply)."""

    def build_acct(self, status=None, ma=False, secret=None, ident=None, attrs=None, **kw):
        """Encode an Accounting-Request.  `attrs` (list of (name, value)) replaces
        the attributes acct_attrs(status, **kw) would give; a Message-Authenticator
        goes first when `ma`."""
        secret = self.secret if secret is None else secret
        pkt = AcctPacket(id=self.next_id() if ident is None else ident, secret=secret,
                         dict=DICT)
        if ma:
            pkt.AddAttribute(ATTR_MESSAGE_AUTHENTICATOR, bytes(16))
        for key, value in (acct_attrs(status, **kw) if attrs is None else attrs):
            pkt.AddAttribute(key, value)
        return sign_acct_request(pkt.RequestPacket(), secret)

    def receive_acct(self, req_raw, timeout=None, secret=None):
        """The verified Accounting-Response (raw bytes) to `req_raw`, or None."""
        secret = self.secret if secret is None else secret
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(4096)
            except socket.timeout:
                return None
            if data[1] != req_raw[1]:
                continue        # a late reply to an earlier request
            verify_acct_reply(data, req_raw, secret)
            return data

    def acct_exchange(self, raw, timeout=None, secret=None):
        self.send_raw(raw)
        return self.receive_acct(raw, timeout=timeout, secret=secret)

    def acct(self, status, timeout=None, **kw):
        """Send one Accounting-Request; its verified response, or None."""
        return self.acct_exchange(self.build_acct(status, **kw), timeout=timeout)


_barrier_seq = iter(range(1, 1 << 31))


def acct_barrier(client):
    """Return once the accounting thread has finished with every record
    answered before: findings (usage, concurrent sessions) are raised after
    the Accounting-Response is sent, so a test that checks that nothing was
    raised first sends this unrelated Interim (a SIM no fleet has) and waits
    for its answer."""
    assert client.acct(ACCT_INTERIM, session_id="barrier", imsi="001010000000001",
                       in_octets=0, out_octets=0, session_time=next(_barrier_seq)) is not None


def acct_listen_line():
    """A `listen acct` line on a free port (the default, auth port + 1, may be
    taken on a busy machine)."""
    return "listen acct 127.0.0.1:%d\n" % free_udp_port()


def utc_day(t=None):
    return time.strftime("%Y-%m-%d", time.gmtime(time.time() if t is None else t))



# ---------------------------------------------------------------- dynamic authorization

DISCONNECT_REQUEST, DISCONNECT_ACK, DISCONNECT_NAK = 40, 41, 42
COA_REQUEST = 43                        # answered 44 (CoA-ACK) / 45 (CoA-NAK)
ATTR_USER_NAME, ATTR_FRAMED_IP_ADDRESS, ATTR_ACCT_SESSION_ID = 1, 8, 44
ATTR_EVENT_TIMESTAMP, ATTR_VSA, ATTR_ERROR_CAUSE = 55, 26, 101
SESSION_CONTEXT_NOT_FOUND = 503         # RFC 5176 §3.6 Error-Cause

DA_ATTR_NAMES = {ATTR_USER_NAME: "User-Name", ATTR_ACCT_SESSION_ID: "Acct-Session-Id",
                 ATTR_FRAMED_IP_ADDRESS: "Framed-IP-Address", 31: "Calling-Station-Id"}


def da_client_lines(port, attributes=None):
    """The lines of a `client { }` block (Daemon(client_extra=...)) that send
    Dynamic Authorization to a TestNAS on `port`; `attributes`: the
    `da-attributes` names, None for the daemon's default."""
    text = "    da-port %d\n" % port
    if attributes is not None:
        text += "    da-attributes %s\n" % " ".join(attributes)
    return text


def _vsa_split(value):
    """(vendor, type, value) of each sub-attribute of a Vendor-Specific value
    (RFC 2865 §5.26 layout)."""
    if len(value) < 6:
        return []
    vendor, out, vp = struct.unpack("!I", value[:4])[0], [], 4
    while vp + 2 <= len(value) and value[vp + 1] >= 2:
        out.append((vendor, value[vp], value[vp + 2:vp + value[vp + 1]]))
        vp += value[vp + 1]
    return out


class DisconnectRequest:
    """One datagram a TestNAS received, decoded and checked against the
    secret.  `problems` lists every rule it breaks (empty: a valid request):
    RFC 5176 §3.5 / RFC 2866 §3 Request Authenticator (MD5 over the packet
    with a zero authenticator, then the secret), RFC 3579 §3.2
    Message-Authenticator (HMAC-MD5 over the packet with the authenticator
    and the MA value zeroed), present once and FIRST (Blast-RADIUS)."""

    def __init__(self, raw, source, t, secret):
        self.raw = raw
        self.source = source
        self.t = t                      # time.monotonic() at reception
        self.code = raw[0] if raw else None
        self.ident = raw[1] if len(raw) > 1 else None
        self.attrs = []                 # (type, value) in wire order
        self.vsas = []                  # (vendor, type, value)
        self.problems = []
        self._check(secret)

    def _check(self, secret):
        raw = self.raw
        if len(raw) < 20:
            self.problems.append("shorter than a RADIUS header")
            return
        length = struct.unpack("!H", raw[2:4])[0]
        if length != len(raw):
            self.problems.append("Length %d != datagram %d" % (length, len(raw)))
            return
        if self.code not in (DISCONNECT_REQUEST, COA_REQUEST):
            self.problems.append("code %d, not Disconnect-Request (40) or CoA-Request (43)"
                                 % self.code)
        pos, ma_offsets = 20, []
        while pos < length:
            if pos + 2 > length or raw[pos + 1] < 2 or pos + raw[pos + 1] > length:
                self.problems.append("malformed attribute at offset %d" % pos)
                return
            t, ln = raw[pos], raw[pos + 1]
            value = raw[pos + 2:pos + ln]
            self.attrs.append((t, value))
            if t == ATTR_MESSAGE_AUTHENTICATOR:
                ma_offsets.append(pos)
            if t == ATTR_VSA:
                self.vsas.extend(_vsa_split(value))
            pos += ln
        expect = hashlib.md5(raw[:4] + bytes(16) + raw[20:] + secret).digest()
        if raw[4:20] != expect:
            self.problems.append("Request Authenticator does not verify")
        if len(ma_offsets) != 1:
            self.problems.append("%d Message-Authenticators, not 1" % len(ma_offsets))
        elif ma_offsets[0] != 20:
            self.problems.append("Message-Authenticator is not the first attribute")
        if ma_offsets:
            off = ma_offsets[0]
            if raw[off + 1] != 18:
                self.problems.append("Message-Authenticator is not 16 octets")
            else:
                zeroed = raw[:4] + bytes(16) + raw[20:off + 2] + bytes(16) + raw[off + 18:]
                if hmac_md5(secret, zeroed) != raw[off + 2:off + 18]:
                    self.problems.append("Message-Authenticator does not verify")

    def values(self, attr_type):
        return [v for t, v in self.attrs if t == attr_type]

    @property
    def event_timestamp(self):
        v = self.values(ATTR_EVENT_TIMESTAMP)
        return struct.unpack("!I", v[0])[0] if len(v) == 1 and len(v[0]) == 4 else None

    def identification(self):
        """Every attribute but the Message-Authenticator and Event-Timestamp,
        as (name, value) in wire order: strings decoded, Framed-IP-Address
        dotted, 3GPP VSAs by name."""
        out = []
        for t, v in self.attrs:
            if t in (ATTR_MESSAGE_AUTHENTICATOR, ATTR_EVENT_TIMESTAMP):
                continue
            if t == ATTR_FRAMED_IP_ADDRESS and len(v) == 4:
                out.append(("Framed-IP-Address", socket.inet_ntoa(v)))
            elif t == ATTR_VSA:
                for vendor, st, sv in _vsa_split(v):
                    name = "3GPP-IMSI" if (vendor, st) == (GPP, GPP_IMSI) \
                        else "VSA-%s-%d" % (vendor, st)
                    out.append((name, sv.decode(errors="replace")))
            else:
                out.append((DA_ATTR_NAMES.get(t, "attr-%d" % t), v.decode(errors="replace")))
        return out

    def __repr__(self):
        return "<DisconnectRequest id=%s %r problems=%r>" % (self.ident, self.identification(),
                                                             self.problems)


class TestNAS:
    """The Dynamic Authorization server (RFC 5176) of a GGSN / PGW: one UDP
    socket on 127.0.0.1:<free port> read by a thread, which decodes and
    checks every datagram (DisconnectRequest), records it and answers as
    `answer` says: "ack" (Disconnect-ACK, 41), "nak" (Disconnect-NAK, 42,
    with Error-Cause `error_cause`), "silent" (nothing), or a callable
    answer(request, n) → one of those, where n counts the transmissions of
    those very bytes (1 for the first, 2 for the first retransmission...).
    A request that fails a check is recorded but never answered, as a NAS
    would drop it.  Replies carry a first Message-Authenticator (over the
    Request Authenticator, RFC 3579 §3.2) and a Response Authenticator
    (RFC 5176 §2.3 / RFC 2865 §3)."""

    __test__ = False        # not a pytest test class

    def __init__(self, secret=SECRET, answer="ack", error_cause=SESSION_CONTEXT_NOT_FOUND):
        self.secret = secret
        self.answer = answer
        self.error_cause = error_cause
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self._requests = []
        self.replies = []                # (identifier, code) of each answer sent
        self.errors = []
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def client_lines(self, attributes=None):
        return da_client_lines(self.port, attributes)

    def _run(self):
        while not self._stop_event.is_set():
            try:
                raw, source = self.sock.recvfrom(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                req = DisconnectRequest(raw, source, time.monotonic(), self.secret)
                with self._lock:
                    n = 1 + sum(1 for r in self._requests if r.raw == raw)
                    self._requests.append(req)
                if req.problems:
                    continue
                how = self.answer(req, n) if callable(self.answer) else self.answer
                if how in ("ack", "nak"):
                    reply = self._reply(req, how)
                    self.sock.sendto(reply, source)
                    with self._lock:
                        self.replies.append((req.ident, reply[0]))
            except Exception as e:      # reported by check()
                self.errors.append(e)

    def _reply(self, req, how):
        # RFC 5176: ACK = request code + 1, NAK = request code + 2.
        code = req.code + (1 if how == "ack" else 2)
        attrs = b""
        if how == "nak" and self.error_cause is not None:
            attrs = struct.pack("!BBI", ATTR_ERROR_CAUSE, 6, self.error_cause)
        length = 20 + 18 + len(attrs)
        hdr = struct.pack("!BBH", code, req.ident, length)
        req_auth = req.raw[4:20]
        ma = hmac_md5(self.secret, hdr + req_auth + bytes([ATTR_MESSAGE_AUTHENTICATOR, 18])
                      + bytes(16) + attrs)
        body = bytes([ATTR_MESSAGE_AUTHENTICATOR, 18]) + ma + attrs
        return hdr + hashlib.md5(hdr + req_auth + body + self.secret).digest() + body

    def requests(self):
        """A snapshot of what was received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear(self):
        with self._lock:
            self._requests.clear()
            self.replies.clear()

    def wait_for(self, n, timeout=2.0):
        """The requests, once there are at least n of them."""
        wait_until(lambda: len(self.requests()) >= n, timeout=timeout, interval=0.01,
                   what="%d Disconnect-Request(s) at the test NAS" % n)
        return self.requests()

    def check(self):
        assert not self.errors, self.errors

    def close(self):
        self._stop_event.set()
        self._thread.join(5)
        self.sock.close()


# ---------------------------------------------------------------- the daemon

# ---- libfaketime: moving the daemon's clock (LD_PRELOAD) ----
FAKETIME_LIBS = ["/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                 "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
                 "/usr/lib/faketime/libfaketime.so.1"]
LIBFAKETIME = next((p for p in FAKETIME_LIBS if os.path.exists(p)), None)
# pytestmark of a module whose tests need it.
NEEDS_FAKETIME = pytest.mark.skipif(LIBFAKETIME is None, reason="libfaketime is not installed")


def sanitizer_runtime():
    """The path of the ASan / TSan runtime the binary links, or None.  Such a
    runtime refuses to start unless it is first in the initial library list
    ("ASan runtime does not come first"), so LD_PRELOAD names it first."""
    try:
        out = subprocess.run(["ldd", str(BIN)], capture_output=True, text=True).stdout
    except OSError:
        return None
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0].startswith(("libasan.", "libtsan.")) and len(parts) >= 3:
            return parts[2]
    return None


def faketime_preload():
    """The LD_PRELOAD value that puts the daemon under libfaketime."""
    runtime = sanitizer_runtime()
    return "%s %s" % (runtime, LIBFAKETIME) if runtime else LIBFAKETIME


def free_tcp_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def create_token(daemon, name, role, tenant=None):
    """An API token made with the CLI (`m2mguard token create`)."""
    args = ["token", "create", name, "--role", role] + (["--tenant", tenant] if tenant else [])
    return daemon.cli(*args, check=True).stdout.strip()


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=3.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


ALERT_RE = re.compile(r"^(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\d+)\s+"
                      r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+(\S+)\s*$")


class Daemon:
    """One m2mguard in a directory of its own."""

    def __init__(self, workdir, fleet=FLEET_CSV, policies=None, secret=SECRET,
                 conf_extra="", workers=2, client_extra=""):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.conf = self.dir / "m2mguard.conf"
        self.db = self.dir / "m2mguard.db"
        self.control = self.dir / "control.sock"
        self.events = self.dir / "events.jsonl"
        self.log = self.dir / "daemon.log"
        self.port = free_udp_port()
        self.no_nas_port = free_udp_port()
        self.secret = secret
        self.workers = workers
        # Lines added inside the `client ggsn { }` block, e.g. da_client_lines().
        self.client_extra = client_extra
        self.proc = None
        self.logf = None
        self.reported = False       # its sanitizer report has failed a test
        _all_daemons.append(self)
        self.write_config(secret=secret, extra=conf_extra)
        if fleet:
            self.cli("sim", "import", "--create-missing", str(fleet), check=True)
        for group, path in (DEFAULT_POLICIES if policies is None else policies).items():
            self.cli("policy", "set", group, str(path), "--tenant", TENANT, check=True)

    def config_text(self, secret=None, extra="", clients=None):
        secret = self.secret if secret is None else secret
        if clients is None:
            # Disconnect-Requests go to the test's own NAS (client_extra)
            # or to a port nobody here listens on — never to whatever the
            # machine runs on 3799 (a FreeRADIUS would ACK them).
            inside = self.client_extra
            if "da-port" not in inside:
                inside = "    da-port %d\n%s" % (self.no_nas_port, inside)
            clients = ('client %s {\n    address 127.0.0.1/32\n    secret "%s"\n'
                       '    tenant %s\n%s}\n' % (CLIENT, secret.decode(), TENANT, inside))
        user = "user      %s\n" % DAEMON_USER if DAEMON_USER else ""
        return ("# written by tests/integration/conftest.py\n"
                "database  %s\ncontrol   %s\nevents    %s\nlog       stderr\n%s"
                "workers   %d\nlisten auth 127.0.0.1:%d\n"
                "require-message-authenticator yes\n%s%s"
                % (self.db, self.control, self.events, user, self.workers, self.port, clients,
                   extra))

    def write_config(self, secret=None, extra="", text=None):
        self.conf.write_text(text if text is not None else self.config_text(secret, extra))
        protect_config(self.conf)

    # -- process

    def start(self, timeout=10.0):
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen([str(BIN), "-c", str(self.conf), "serve"],
                                     stdout=self.logf, stderr=subprocess.STDOUT, cwd=self.dir)
        _live_daemons.append(self)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("m2mguard serve exited with %d:\n%s"
                                   % (self.proc.returncode, self.stderr()))
            r = subprocess.run([str(BIN), "-c", str(self.conf), "stats"],
                               capture_output=True, timeout=10)
            check_sanitizer_output("m2mguard stats", r.stderr.decode(errors="replace"))
            if r.returncode == 0:
                return self
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("m2mguard did not answer `stats` within %.0f s:\n%s"
                                   % (timeout, self.stderr()))
            time.sleep(0.05)

    def stop(self, timeout=10.0):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        if self in _live_daemons:
            _live_daemons.remove(self)
        self.logf.close()
        self.proc = None
        return rc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stderr(self):
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    # -- administration

    def cli(self, *args, check=False, input=None, timeout=60):
        r = subprocess.run([str(BIN), "-c", str(self.conf), *[str(a) for a in args]],
                           capture_output=True, text=True, input=input, timeout=timeout,
                           cwd=REPO)
        check_sanitizer_output("m2mguard %s" % " ".join(map(str, args)), r.stderr)
        if check and r.returncode != 0:
            raise AssertionError("m2mguard %s failed (%d):\n%s%s"
                                 % (" ".join(map(str, args)), r.returncode, r.stdout, r.stderr))
        return r

    def ctl(self, command, timeout=10.0):
        """One control-socket command; the daemon answers and closes."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(str(self.control))
            s.sendall(command.encode() + b"\n")
            chunks = []
            while True:
                b = s.recv(65536)
                if not b:
                    break
                chunks.append(b)
        return b"".join(chunks).decode()

    def flush(self):
        """Wait until every queued finding is committed to the store."""
        reply = self.ctl("flush")
        assert reply.startswith("ok"), reply

    def stats(self):
        r = self.cli("stats", check=True)
        return json.loads(r.stdout)

    def stats_when(self, predicate, timeout=3.0, what="a stats condition"):
        """The first stats for which predicate(stats) is true."""
        def check():
            s = self.stats()
            return s if predicate(s) else None
        return wait_until(check, timeout=timeout, what=what)

    def settled_stats(self, timeout=3.0):
        """Stats once every received datagram is accounted for: a worker
        counts `answered` just after the reply has left, so a client can
        hold the reply before the counter moves."""
        def settled():
            s = self.stats()
            r = s["radius"]
            return s if r["received"] == r["answered"] + sum(r["dropped"].values()) else None
        return wait_until(settled, timeout=timeout, what="settled RADIUS counters")

    def findings(self, kind=None, subject=None):
        self.flush()
        r = self.cli("findings", "--json", "--limit", "0", check=True)
        out = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
        return [f for f in out if (kind is None or f["kind"] == kind)
                and (subject is None or f["subject"] == subject)]

    def alerts(self, *args):
        """Parsed `alerts list` rows (dicts) with their evidence."""
        self.flush()
        r = self.cli("alerts", "list", *args, check=True)
        rows, lines = [], r.stdout.splitlines()
        for i, line in enumerate(lines):
            m = ALERT_RE.match(line)
            if not m:
                continue
            ev = lines[i + 1].strip() if i + 1 < len(lines) else "{}"
            rows.append({"id": int(m.group(1)), "state": m.group(2), "severity": m.group(3),
                         "kind": m.group(4), "subject": m.group(5), "count": int(m.group(6)),
                         "last_seen": m.group(7), "tenant": m.group(8),
                         "evidence": json.loads(ev)})
        return rows

    def client(self, **kw):
        kw.setdefault("secret", self.secret)
        return RadiusClient(self.port, **kw)

    # -- accounting

    @property
    def acct_port(self):
        """The accounting port: `listen acct` in the config, else auth port + 1."""
        m = re.search(r"^listen\s+acct\s+\S+:(\d+)\s*$", self.conf.read_text(), re.M)
        return int(m.group(1)) if m else self.port + 1

    def acct_client(self, **kw):
        kw.setdefault("secret", self.secret)
        return AcctClient(self.acct_port, **kw)

    def acct_stats(self):
        return self.stats()["accounting"]

    def db_rows(self, sql, *args):
        """Rows (sqlite3.Row) of a query on the daemon's database (only reads).
        Not opened with mode=ro: a read-only connection may map the WAL index
        read-only and, under load, read a snapshot older than the daemon's
        last commit; a normal connection shares the index with the daemon.
        A running daemon is asked to flush first: it writes sessions and
        usage_daily from memory every second (the accounting log is always
        current)."""
        if self.proc is not None and self.proc.poll() is None:
            self.flush()
        con = sqlite3.connect(str(self.db), timeout=10)
        try:
            con.row_factory = sqlite3.Row
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def sessions(self, acct_session_id=None):
        if acct_session_id is None:
            return self.db_rows("SELECT * FROM sessions ORDER BY id")
        return self.db_rows("SELECT * FROM sessions WHERE acct_session_id = ? ORDER BY id",
                            acct_session_id)

    def usage(self, imsi):
        """(in, out) octets of one SIM in usage_daily, summed over all days."""
        assert self.db_rows("SELECT id FROM sims WHERE imsi = ?", imsi), \
            "IMSI %s is not in this daemon's fleet" % imsi
        row = self.db_rows("SELECT coalesce(sum(u.in_octets), 0) AS i,"
                           " coalesce(sum(u.out_octets), 0) AS o FROM usage_daily u"
                           " JOIN sims s ON s.id = u.sim_id WHERE s.imsi = ?", imsi)[0]
        return row["i"], row["o"]

    def actions(self, outcome=None, kind="disconnect"):
        """Rows of the store's `actions` table (dicts, `detail` parsed), oldest
        first: by default the Disconnect outcomes."""
        rows = self.db_rows("SELECT * FROM actions ORDER BY id")
        out = []
        for r in rows:
            r = dict(r)
            r["detail"] = json.loads(r["detail"]) if r["detail"] else None
            if (kind is None or r["kind"] == kind) and (outcome is None or r["outcome"] == outcome):
                out.append(r)
        return out

    def event_lines(self, type_=None):
        """The JSON lines of the events log (for a SIEM), oldest first."""
        try:
            text = self.events.read_text()
        except FileNotFoundError:
            return []
        out = [json.loads(line) for line in text.splitlines() if line.strip()]
        return [e for e in out if type_ is None or e.get("type") == type_]

    def sim_state(self, key):
        """The `state` line of `m2mguard sim show KEY`."""
        show = self.cli("sim", "show", key, check=True).stdout
        m = re.search(r"^state\s+(\S+)$", show, re.M)
        assert m, show
        return m.group(1)



class Traffic(threading.Thread):
    """A NAS sending Access-Requests one after another (no retransmission)
    until stopped; `results` holds each reply code, None for no answer."""

    def __init__(self, daemon, make_attrs, interval=0.005, timeout=2.0, secret=None):
        super().__init__(daemon=True)
        self.client = daemon.client(timeout=timeout, secret=secret or daemon.secret)
        self.make_attrs = make_attrs
        self.interval = interval
        self.results = []
        self.errors = []
        self._stop_event = threading.Event()

    def run(self):
        i = 0
        try:
            while not self._stop_event.is_set():
                raw = self.client.build(attrs=self.make_attrs(i))
                reply = self.client.exchange(raw)
                self.results.append(reply.code if reply is not None else None)
                i += 1
                time.sleep(self.interval)
        except Exception as e:      # reported by finish()
            self.errors.append(e)

    def wait_for(self, n, timeout=10.0):
        """Block until at least n requests have been exchanged."""
        wait_until(lambda: len(self.results) >= n or self.errors or not self.is_alive(),
                   timeout=timeout, what="%d requests of background traffic" % n)

    def finish(self):
        self._stop_event.set()
        self.join(10)
        self.client.close()
        assert not self.errors, self.errors
        return self.results

    @property
    def lost(self):
        return sum(1 for r in self.results if r is None)


def counter(stats, path):
    """stats["radius"]["dropped"]["ma_bad"] as counter(stats, "radius.dropped.ma_bad")."""
    v = stats
    for k in path.split("."):
        v = v[k]
    return v


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def daemon_factory(request):
    """Start daemons for this module; all are stopped at its end."""
    started = []

    def make(name="m2mguard", start=True, **kw):
        d = Daemon(daemon_dir(name), **kw)
        started.append(d)
        if start:
            d.start()
        return d

    yield make
    unclean = []
    for d in started:
        rc = d.stop()
        log = d.stderr()
        report = sanitizer_report(log)
        if report:
            unclean.append("%s: sanitizer report (exit status %s):\n%s"
                           % (d.dir.name, rc, report))
        elif rc not in (None, 0):
            unclean.append("%s exited with %s on SIGTERM; its log:\n%s"
                           % (d.dir.name, rc, log[-20000:]))
    # A crash, or a sanitizer report (a -Db_sanitize build; LeakSanitizer
    # reports as the daemon exits), is a failure.
    assert not unclean, "\n".join(unclean)


@pytest.fixture(autouse=True)
def sanitizer_watch():
    """After each test, fail it if a daemon's log gained a sanitizer report
    during it (ASan aborts the daemon at the first one; a daemon the test
    stopped or restarted has had its LeakSanitizer pass).  Each report fails
    one test; daemon_factory still fails the module at its end."""
    yield
    found = []
    for d in _all_daemons:
        if d.reported:
            continue
        report = sanitizer_report(d.stderr())
        if report:
            d.reported = True
            found.append("%s:\n%s" % (d.dir.name, report))
    assert not found, "sanitizer report in the daemon's log: " + "\n".join(found)


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    """A fresh daemon per module: data/fleet.csv, meters and trackers policies."""
    return daemon_factory()


@pytest.fixture
def nas(daemon):
    c = daemon.client()
    yield c
    c.close()


@pytest.fixture
def acct(daemon):
    """An accounting client of this module's daemon."""
    c = daemon.acct_client()
    yield c
    c.close()


@pytest.fixture(scope="module")
def da_nas():
    """A GGSN's Dynamic Authorization server that ACKs (modules that need
    NAKs or silence define their own)."""
    n = TestNAS(answer="ack")
    yield n
    n.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for d in list(_live_daemons):
            text = d.stderr()
            report.sections.append(("m2mguard log (%s)" % d.dir.name, text[-20000:]))
            if d.proc is not None and d.proc.poll() is not None:
                report.sections.append(("m2mguard exit", "exited with %d" % d.proc.returncode))


def pytest_sessionfinish(session, exitstatus):
    for d in list(_live_daemons):
        d.stop()
    # The daemons' directories stay for a look after a failure.
    if _daemon_base is not None and exitstatus == 0:
        shutil.rmtree(_daemon_base, ignore_errors=True)

