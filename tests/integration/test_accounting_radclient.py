"""
Scenario: a third-party accounting client.  FreeRADIUS's radclient (its
own dictionaries in /usr/share/freeradius, including dictionary.3gpp)
plays the PGW: it computes the Request Authenticator (RFC 2866 §3) and the
Message-Authenticator, and checks our Accounting-Response — Response
Authenticator and Message-Authenticator — with its own code: it exits 0
only for a verified answer.  Start and Stop (with Gigawords) are answered
and land in the database; the wrong secret gets no answer.
"""
import shutil
import subprocess

import pytest

from conftest import GIGAWORD, acct_listen_line

RADCLIENT = shutil.which("radclient") or "/usr/bin/radclient"
IMSI = "234151000000037"


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("acct-radclient", conf_extra=acct_listen_line())


def radclient(daemon, pairs, secret=None, timeout=2):
    """Run `radclient acct` once (one try); return (exit status, output)."""
    text = "".join("%s = %s\n" % kv for kv in pairs)
    r = subprocess.run([RADCLIENT, "-d", "/usr/share/freeradius", "-x", "-r", "1",
                        "-t", str(timeout), "127.0.0.1:%d" % daemon.acct_port, "acct",
                        (secret or daemon.secret).decode()],
                       input=text, capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


def pgw_pairs(status, sid, ma=True, extra=()):
    pairs = [("Acct-Status-Type", status), ("Acct-Session-Id", '"%s"' % sid),
             ("User-Name", '"%s"' % IMSI), ("3GPP-IMSI", '"%s"' % IMSI),
             ("NAS-IP-Address", "127.0.0.1"), ("Framed-IP-Address", "10.20.0.37")]
    pairs += list(extra)
    if ma:
        pairs.append(("Message-Authenticator", "0x00"))
    return pairs


def test_start_and_stop_are_answered(daemon):
    rc, out = radclient(daemon, pgw_pairs("Start", "radclient-1", extra=[
        ("Acct-Input-Octets", "0"), ("Acct-Output-Octets", "0"), ("Acct-Session-Time", "0")]))
    assert rc == 0, out
    assert "Received Accounting-Response" in out
    assert "Message-Authenticator = 0x" in out.split("Received")[1]
    s = daemon.sessions("radclient-1")
    assert len(s) == 1 and s[0]["state"] == "open" and s[0]["imsi"] == IMSI
    assert daemon.acct_stats()["sessions_open"] == 1

    rc, out = radclient(daemon, pgw_pairs("Stop", "radclient-1", extra=[
        ("Acct-Input-Octets", "10"), ("Acct-Input-Gigawords", "1"),
        ("Acct-Output-Octets", "20"), ("Acct-Session-Time", "300"),
        ("Acct-Terminate-Cause", "User-Request")]))
    assert rc == 0, out
    assert "Received Accounting-Response" in out
    s = daemon.sessions("radclient-1")
    assert len(s) == 1 and s[0]["state"] == "closed" and s[0]["close_reason"] == "stop"
    assert (s[0]["in_octets"], s[0]["out_octets"]) == (GIGAWORD + 10, 20)
    assert daemon.usage(IMSI) == (GIGAWORD + 10, 20)
    assert daemon.acct_stats()["sessions_open"] == 0


def test_interim_without_message_authenticator_is_answered(daemon):
    """The Message-Authenticator is optional on accounting (RFC 3579 §3.2)."""
    rc, out = radclient(daemon, pgw_pairs("Interim-Update", "radclient-2", ma=False, extra=[
        ("Acct-Input-Octets", "5"), ("Acct-Output-Octets", "6"), ("Acct-Session-Time", "60")]))
    assert rc == 0, out
    assert "Received Accounting-Response" in out
    assert daemon.sessions("radclient-2")[0]["in_octets"] == 5


def test_accounting_on_is_answered(daemon):
    rc, out = radclient(daemon, [("Acct-Status-Type", "Accounting-On"),
                                 ("NAS-IP-Address", "127.0.0.1")])
    assert rc == 0, out
    assert "Received Accounting-Response" in out
    s = daemon.sessions("radclient-2")[0]
    assert s["state"] == "closed" and s["close_reason"] == "accounting-on"


def test_wrong_secret_gets_no_answer(daemon):
    before = daemon.stats()["radius"]["dropped"]["authenticator_bad"]
    rc, out = radclient(daemon, pgw_pairs("Start", "radclient-3"),
                        secret=b"this-is-not-the-secret-of-ggsn", timeout=0.5)
    assert rc != 0, out
    assert "Received" not in out
    assert not daemon.sessions("radclient-3")
    daemon.stats_when(lambda s: s["radius"]["dropped"]["authenticator_bad"] == before + 1,
                      what="an authenticator_bad drop")
