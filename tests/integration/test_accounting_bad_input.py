"""
Scenario: Accounting-Requests the daemon must not acknowledge.  A wrong
Request Authenticator (RFC 2866 §3: wrong secret or forged), a
Message-Authenticator that does not verify, no or an unknown
Acct-Status-Type, no or an unusable Acct-Session-Id, a code other than
Accounting-Request on the accounting port, an unknown source: each is
dropped without an answer, counted under its name in `stats`
(radius.dropped.*, radius.clients.<name>.*), and leaves no row in
acct_records.  A correct request is still answered afterwards.

To know the daemon has handled a dropped packet before reading the
counters, each drop is followed by a valid Interim from the same socket
(the "canary"): the same 4-tuple reaches the same worker, which handles
datagrams in order, and the canary is answered only after its commit.
"""
import hashlib
import struct

import pytest

from conftest import (ACCESS_REQUEST, ACCT_INTERIM, ACCT_START, AcctClient, SECRET,
                      acct_listen_line, counter, sign_acct_request, wait_until)

IMSI = "234151000000040"


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("acct-bad-input", conf_extra=acct_listen_line())


@pytest.fixture
def nas(daemon):
    c = daemon.acct_client()
    yield c
    c.close()


_canary_time = [0]


def assert_dropped(daemon, nas, raw, **deltas):
    """Send `raw`; check that it is not answered, that each counter in
    `deltas` ('__' for '.') moved by exactly its value, and that no record
    was stored for it."""
    rows_before = daemon.db_rows("SELECT count(*) AS n FROM acct_records")[0]["n"]
    before = daemon.stats()
    nas.send_raw(raw)
    _canary_time[0] += 1
    canary = nas.build_acct(ACCT_INTERIM, session_id="canary", imsi=IMSI, in_octets=0,
                            out_octets=0, session_time=_canary_time[0])
    while canary[1] == raw[1]:
        canary = nas.build_acct(ACCT_INTERIM, session_id="canary", imsi=IMSI, in_octets=0,
                                out_octets=0, session_time=_canary_time[0])
    nas.send_raw(canary)
    nas.sock.settimeout(2.0)
    data, _ = nas.sock.recvfrom(4096)
    assert data[1] == canary[1], "the dropped packet was answered: %r" % data[:20]
    after = daemon.stats()
    for name, delta in deltas.items():
        path = name.replace("__", ".")
        got = counter(after, path) - counter(before, path)
        assert got == delta, "%s moved by %d, expected %d" % (path, got, delta)
    # Only the canary was stored.
    assert daemon.db_rows("SELECT count(*) AS n FROM acct_records")[0]["n"] == rows_before + 1
    assert after["accounting"]["records"] == before["accounting"]["records"] + 1
    return after


def attr(t, value):
    return bytes([t, len(value) + 2]) + value


def raw_request(attrs, ident=0x5A, secret=SECRET, code=4):
    body = b"".join(attrs)
    return sign_acct_request(struct.pack("!BBH", code, ident, 20 + len(body)) + bytes(16)
                             + body, secret)


def u32(t, v):
    return attr(t, struct.pack("!I", v))


def test_canary_is_answered(daemon, nas):
    assert nas.acct(ACCT_START, session_id="canary", imsi=IMSI, in_octets=0, out_octets=0,
                    session_time=0) is not None


def test_wrong_secret_is_dropped(daemon, nas):
    raw = nas.build_acct(ACCT_START, session_id="bad-1", imsi=IMSI,
                         secret=b"not-the-secret-of-this-nas-at-all")
    assert_dropped(daemon, nas, raw, radius__dropped__authenticator_bad=1,
                   radius__clients__ggsn__bad_authenticator=1)


def test_request_authenticator_of_an_access_request_is_dropped(daemon, nas):
    """A random authenticator, as in an Access-Request, is not RFC 2866's MD5."""
    raw = bytearray(nas.build_acct(ACCT_START, session_id="bad-2", imsi=IMSI))
    raw[4:20] = bytes(range(16))
    assert_dropped(daemon, nas, bytes(raw), radius__dropped__authenticator_bad=1)


def test_changed_attribute_is_dropped(daemon, nas):
    """One octet changed after signing (a forged counter)."""
    raw = bytearray(nas.build_acct(ACCT_INTERIM, session_id="canary", imsi=IMSI,
                                   in_octets=1000, out_octets=1000, session_time=10 ** 6))
    raw[-1] ^= 0x01
    assert_dropped(daemon, nas, bytes(raw), radius__dropped__authenticator_bad=1)


def test_message_authenticator_that_does_not_verify_is_dropped(daemon, nas):
    """The Message-Authenticator is HMAC'd with another secret, the Request
    Authenticator with the right one: the MA alone must make it fail."""
    raw = nas.build_acct(ACCT_START, session_id="bad-3", imsi=IMSI, ma=True,
                         secret=b"another-secret-for-the-hmac-only")
    assert raw[20] == 80
    raw = raw[:4] + bytes(16) + raw[20:]
    raw = raw[:4] + hashlib.md5(raw + nas.secret).digest() + raw[20:]
    assert_dropped(daemon, nas, raw, radius__dropped__authenticator_bad=1)


def test_valid_message_authenticator_is_accepted(daemon, nas):
    assert nas.acct(ACCT_START, session_id="ok-ma", imsi=IMSI, ma=True, in_octets=0,
                    out_octets=0, session_time=0) is not None


def test_missing_status_type_is_dropped(daemon, nas):
    raw = raw_request([attr(44, b"bad-4"), attr(1, IMSI.encode()), u32(42, 10)])
    assert_dropped(daemon, nas, raw, radius__dropped__attr_bad_value=1)


@pytest.mark.parametrize("status", [0, 4, 6, 9, 15, 0xFFFFFFFF])
def test_unknown_status_type_is_dropped(daemon, nas, status):
    raw = raw_request([u32(40, status), attr(44, b"bad-5"), attr(1, IMSI.encode())])
    assert_dropped(daemon, nas, raw, radius__dropped__attr_bad_value=1)


def test_status_type_of_wrong_size_is_dropped(daemon, nas):
    raw = raw_request([attr(40, b"\x00\x01"), attr(44, b"bad-6"), attr(1, IMSI.encode())])
    assert_dropped(daemon, nas, raw, radius__dropped__attr_bad_value=1)


@pytest.mark.parametrize("status", [1, 2, 3])
def test_missing_session_id_is_dropped(daemon, nas, status):
    raw = raw_request([u32(40, status), attr(1, IMSI.encode()), u32(42, 10)])
    assert_dropped(daemon, nas, raw, radius__dropped__attr_bad_value=1)


@pytest.mark.parametrize("sid", [b"", b"a" * 129, b"bad\x00id"], ids=["empty", "129-octets",
                                                                      "nul"])
def test_unusable_session_id_is_dropped(daemon, nas, sid):
    raw = raw_request([u32(40, 1), attr(44, sid), attr(1, IMSI.encode())])
    assert_dropped(daemon, nas, raw, radius__dropped__attr_bad_value=1)


def test_longest_session_id_is_accepted(daemon, nas):
    sid = "s" * 128
    assert nas.acct(ACCT_START, session_id=sid, imsi=IMSI, session_time=0) is not None
    assert len(daemon.sessions(sid)) == 1


def test_access_request_on_the_accounting_port_is_dropped(daemon, nas):
    raw = raw_request([attr(1, IMSI.encode())], code=ACCESS_REQUEST)
    assert_dropped(daemon, nas, raw, radius__dropped__bad_code=1)


def test_truncated_request_is_dropped(daemon, nas):
    raw = nas.build_acct(ACCT_START, session_id="bad-7", imsi=IMSI)
    assert_dropped(daemon, nas, raw[:15], radius__dropped__short_packet=1)


def test_unknown_source_is_dropped(daemon):
    stranger = AcctClient(daemon.acct_port, secret=daemon.secret, source="127.0.0.3")
    try:
        before = daemon.stats()
        raw = stranger.build_acct(ACCT_START, session_id="bad-8", imsi=IMSI)
        assert stranger.acct_exchange(raw, timeout=0.3) is None
        after = daemon.stats_when(
            lambda s: counter(s, "radius.dropped.unknown_client")
            > counter(before, "radius.dropped.unknown_client"), what="an unknown_client drop")
        assert counter(after, "radius.dropped.unknown_client") == \
            counter(before, "radius.dropped.unknown_client") + 1
        assert not daemon.sessions("bad-8")
    finally:
        stranger.close()


def test_correct_request_is_still_answered(daemon, nas):
    assert nas.acct(ACCT_INTERIM, session_id="canary", imsi=IMSI, in_octets=123,
                    out_octets=456, session_time=10 ** 7) is not None
    for sid in ("bad-%d" % i for i in range(1, 9)):
        assert not daemon.sessions(sid), sid
    s = daemon.sessions("canary")[0]
    assert (s["in_octets"], s["out_octets"]) == (123, 456)
    wait_until(lambda: daemon.alive(), what="the daemon alive")
