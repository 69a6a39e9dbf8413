"""
Scenario: the operator rotates the GGSN's shared secret and edits the
configuration of a running daemon.  `m2mguard reload` and SIGHUP apply a
valid configuration without dropping a request: the new secret is honoured
and the old one refused; a configuration with errors is refused as a whole
(reported as FILE:LINE: message) and the running one keeps working.
"""
import signal

from conftest import SECRET, Traffic, counter, wait_until

IMSI = "234151000000101"        # a tracker: no storm rejects in this scenario
NEW_SECRET = b"rotated-secret-0f6b2d8e9a7c4e1f3a5b7c9d"
THIRD_SECRET = b"rotated-again-5e3c1a9f7d2b4e6a8c0e2f4a"


def attrs(nas):
    return nas.access_attrs(imsi=IMSI, imeisv="8612030400010101", plmn="23415", rat="EUTRAN")


def answered(daemon, secret, timeout=2.0):
    """The reply to one request signed with `secret`; None if none came."""
    c = daemon.client(secret=secret, timeout=timeout)
    try:
        return c.exchange(c.build(attrs=attrs(c)))
    finally:
        c.close()


def test_reload_switches_to_the_new_secret(daemon):
    assert answered(daemon, SECRET).accepted

    daemon.write_config(secret=NEW_SECRET)
    r = daemon.cli("reload")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("ok clients=1"), r.stdout
    daemon.secret = NEW_SECRET

    reply = answered(daemon, NEW_SECRET)
    assert reply is not None and reply.accepted, reply
    before = daemon.stats()
    assert answered(daemon, SECRET, 0.5) is None, "the old secret was still accepted"
    after = daemon.stats_when(lambda s: counter(s, "radius.dropped.ma_bad") >
                              counter(before, "radius.dropped.ma_bad"), what="an ma_bad drop")
    assert counter(after, "radius.clients.ggsn.bad_authenticator") == \
        counter(before, "radius.clients.ggsn.bad_authenticator") + 1


def test_sighup_switches_to_the_new_secret(daemon):
    daemon.write_config(secret=THIRD_SECRET)
    daemon.signal(signal.SIGHUP)
    reply = wait_until(lambda: answered(daemon, THIRD_SECRET, 0.5), timeout=5,
                       what="an answer with the secret given by SIGHUP")
    assert reply.accepted, reply
    daemon.secret = THIRD_SECRET
    assert answered(daemon, NEW_SECRET, 0.5) is None
    assert daemon.alive()


def test_no_request_is_lost_during_reloads(daemon, nas):
    other = ('client lab {\n    address 10.9.9.0/24\n    secret "lab-secret-3c1d5e7f9a0b2c4d"\n'
             '    tenant acme\n}\n')
    traffic = Traffic(daemon, lambda i: attrs(traffic.client))
    traffic.start()
    try:
        traffic.wait_for(10)
        for i in range(20):
            # Same ggsn secret, alternately with and without a second client.
            daemon.write_config(extra=other if i % 2 == 0 else "")
            if i % 2:
                daemon.signal(signal.SIGHUP)
            else:
                r = daemon.cli("reload")
                assert r.returncode == 0 and r.stdout.startswith("ok clients=2"), r.stdout
            traffic.wait_for(len(traffic.results) + 3)
    finally:
        results = traffic.finish()
    assert len(results) >= 70
    assert traffic.lost == 0, "%d of %d requests unanswered during reloads" % (
        traffic.lost, len(results))
    assert set(results) == {2}
    assert daemon.alive()


def test_reload_refuses_a_configuration_with_errors(daemon):
    good = daemon.conf.read_text()
    broken = good.replace("workers   2\n", "workers   two\nlisten-address 0.0.0.0\n") + \
        'client broken {\n    address 300.1.1.1/32\n}\n'
    broken = broken.replace('secret "%s"' % daemon.secret.decode(),
                            'secret "%s"' % NEW_SECRET.decode())
    lines = broken.splitlines()
    workers_line = lines.index("workers   two") + 1
    client_line = lines.index("client broken {") + 1
    daemon.write_config(text=broken)
    try:
        conf = str(daemon.conf)
        expected = ["%s:%d: workers must be" % (conf, workers_line),
                    "%s:%d: unknown directive \"listen-address\"" % (conf, workers_line + 1),
                    "%s:%d: bad IPv4 address" % (conf, client_line + 1),
                    "%s:%d: client \"broken\" has no secret" % (conf, client_line)]

        # The daemon re-reads the file itself (control socket `reload`) ...
        out = daemon.ctl("reload")
        assert out.startswith("error: configuration has errors; not reloaded"), out
        for e in expected:
            assert e in out, (e, out)
        # ... and `m2mguard reload`, which reads it too, refuses it before asking.
        r = daemon.cli("reload")
        assert r.returncode == 1, r.stdout
        for e in expected:
            assert e in r.stderr, (e, r.stderr)

        # The secret in the broken file was not applied; the running one still is.
        reply = answered(daemon, daemon.secret)
        assert reply is not None and reply.accepted, reply
        assert answered(daemon, NEW_SECRET, 0.5) is None

        # Same through SIGHUP: refused, logged, the daemon keeps going.
        daemon.signal(signal.SIGHUP)
        wait_until(lambda: "keeping the running configuration" in daemon.stderr(),
                   what="the reload error in the log")
        assert daemon.alive()
        reply = answered(daemon, daemon.secret)
        assert reply is not None and reply.accepted, reply
    finally:
        daemon.conf.write_text(good)


def test_reload_applies_require_message_authenticator(daemon):
    c = daemon.client()
    try:
        def bare(timeout=0.5):
            return c.exchange(c.build(attrs=attrs(c), ma=False), timeout=timeout)

        assert bare() is None, "answered without Message-Authenticator although required"
        daemon.write_config(extra="require-message-authenticator no\n")
        assert daemon.ctl("reload").startswith("ok")
        r = bare(timeout=2.0)
        assert r is not None and r.accepted, r      # the reply still carries one, first
        daemon.write_config()
        assert daemon.ctl("reload").startswith("ok")
        assert bare() is None
    finally:
        c.close()


def test_reload_says_which_changes_need_a_restart(daemon):
    marker = "take effect only after a restart"
    before = daemon.stderr().count(marker)
    try:
        daemon.write_config(extra="acct-flush 5000\n")
        assert daemon.ctl("reload").startswith("ok")
        assert daemon.stderr().count(marker) == before + 1
    finally:
        daemon.write_config()
        assert daemon.ctl("reload").startswith("ok")
