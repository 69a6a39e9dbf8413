"""
Scenario: the HTTP API over TLS (`listen api ADDRESS:PORT tls CERT KEY`,
libmicrohttpd's GnuTLS), with a self-signed certificate made by the test
with openssl.

curl --cacert CERT gets /v1/health and, with a token, a SIM; Python's
requests verifying against the same certificate too.  curl without the
certificate refuses the server, and plain HTTP to the port gets no
answer.  TLS 1.1 is refused (a client that offers it at most: Python's ssl
at OpenSSL security level 0), 1.2 and 1.3 are spoken.  The daemon refuses
to start — with a message that says what to fix — when the key file is
readable or writable by every user, is missing, is not PEM, or does not
match the certificate; check-config says the same about the key file;
the directive's syntax is checked.
"""
import json
import os
import socket
import ssl
import subprocess
import warnings

import pytest
import requests

from conftest import BIN, FLEET, create_token, free_tcp_port


def make_cert(directory, name="api"):
    cert, key = directory / (name + ".crt"), directory / (name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


@pytest.fixture(scope="module")
def tls_api(daemon_factory, tmp_path_factory):
    cert, key = make_cert(tmp_path_factory.mktemp("pki"))
    port = free_tcp_port()
    d = daemon_factory("api-tls", conf_extra="listen api 127.0.0.1:%d tls %s %s\n"
                       % (port, cert, key))
    d.api_port, d.cert = port, cert
    d.token = create_token(d, "viewer", "viewer", "acme")
    return d


def curl(*args):
    return subprocess.run(["curl", "-sS", "--max-time", "10", *args], capture_output=True,
                          text=True, timeout=20)


def test_curl_with_the_certificate(tls_api):
    base = "https://127.0.0.1:%d" % tls_api.api_port
    r = curl("--cacert", str(tls_api.cert), base + "/v1/health")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["status"] == "ok"
    sim = next(s for s in FLEET.values() if s["tenant"] == "acme")
    r = curl("--cacert", str(tls_api.cert), "-H", "Authorization: Bearer " + tls_api.token,
             base + "/v1/sims/" + sim["iccid"])
    assert r.returncode == 0 and json.loads(r.stdout)["imsi"] == sim["imsi"], r
    got = requests.get(base + "/v1/sims", verify=str(tls_api.cert), timeout=10,
                       headers={"Authorization": "Bearer " + tls_api.token}).json()
    assert {s["tenant"] for s in got["items"]} == {"acme"}
    # Unauthenticated over TLS is still 401 problem+json.
    r = curl("--cacert", str(tls_api.cert), "-i", base + "/v1/sims")
    assert " 401 " in r.stdout.splitlines()[0] and "application/problem+json" in r.stdout


def test_no_trust_no_plain_http(tls_api):
    r = curl("https://127.0.0.1:%d/v1/health" % tls_api.api_port)
    assert r.returncode == 60, r       # the peer's certificate cannot be verified
    r = curl("http://127.0.0.1:%d/v1/health" % tls_api.api_port)
    assert r.returncode != 0 and '"status"' not in r.stdout, r


def tls_version(port, highest):
    """The version a client offering TLS 1.0 up to `highest` ends up with,
    or None when the server refuses it."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")     # so that the client does offer 1.0 / 1.1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = highest
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            with ctx.wrap_socket(s) as t:
                return t.version()
    except (ssl.SSLError, ConnectionError):
        return None


def test_tls_versions(tls_api):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old = ssl.TLSVersion.TLSv1_1
    assert tls_version(tls_api.api_port, old) is None
    assert tls_version(tls_api.api_port, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    assert tls_version(tls_api.api_port, ssl.TLSVersion.TLSv1_3) == "TLSv1.3"


def refuses_to_start(daemon_factory, tmp_path, cert, key, name):
    d = daemon_factory(name, start=False, conf_extra="listen api 127.0.0.1:%d tls %s %s\n"
                       % (free_tcp_port(), cert, key))
    r = subprocess.run([str(BIN), "-c", str(d.conf), "serve"], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 1, r
    return d, r.stdout + r.stderr


def test_a_key_others_can_read_is_refused(daemon_factory, tmp_path):
    cert, key = make_cert(tmp_path)
    for mode, word in ((0o644, "readable"), (0o602, "writable")):
        os.chmod(key, mode)
        d, log = refuses_to_start(daemon_factory, tmp_path, cert, key, "tls-mode")
        assert "key %s is %s by every user" % (key, word) in log and "chmod 600" in log, log
        assert "not starting" in log and "m2mguard ready" not in log
        check = d.cli("check-config")
        assert check.returncode == 1 and "%s by every user" % word in check.stderr, check
    os.chmod(key, 0o640)
    d = daemon_factory("tls-640", start=False, conf_extra="listen api 127.0.0.1:%d tls %s %s\n"
                       % (free_tcp_port(), cert, key))
    assert d.cli("check-config").returncode == 0


def test_bad_certificate_or_key_is_refused(daemon_factory, tmp_path):
    cert, key = make_cert(tmp_path, "one")
    other_cert, other_key = make_cert(tmp_path, "two")
    _, log = refuses_to_start(daemon_factory, tmp_path, cert, other_key, "tls-mismatch")
    assert "do they match" in log, log
    _, log = refuses_to_start(daemon_factory, tmp_path, cert, tmp_path / "missing.key",
                              "tls-missing")
    assert "missing.key: No such file or directory" in log, log
    junk = tmp_path / "junk.key"
    junk.write_text("not a key\n")
    os.chmod(junk, 0o600)
    _, log = refuses_to_start(daemon_factory, tmp_path, cert, junk, "tls-junk")
    assert "is not PEM" in log, log


@pytest.mark.parametrize("line", [
    "listen api 127.0.0.1:8443 tls /etc/cert.pem",
    "listen api 127.0.0.1:8443 tls",
    "listen api 127.0.0.1:8443 ssl /a /b",
    "listen auth 127.0.0.1:1812 tls /a /b",
])
def test_directive_syntax(tmp_path, line):
    conf = tmp_path / "m2mguard.conf"
    conf.write_text("database %s\n%s\n" % (tmp_path / "db", line))
    r = subprocess.run([str(BIN), "check-config", str(conf)], capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == 1, r
    assert "%s:2: usage: listen" % conf in r.stderr, r
    assert "listen api ADDRESS:PORT tls CERT.pem KEY.pem" in r.stderr, r
