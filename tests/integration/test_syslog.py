"""
Scenario: findings and actions go to a SIEM's syslog collector — a real
rsyslog (Debian's rsyslogd, started here on loopback ports with a private
configuration that writes every message's RFC 5424 fields to a file).
One daemon sends JSON over TCP (RFC 6587 octet counting), another CEF over
UDP.  An attach of an unknown SIM raises sim_unknown and its reject: both
arrive, with facility local0, the severity mapped (warning → 4), APP-NAME
m2mguard, MSGID finding / action, and a MSG that is the event itself (JSON
that parses, or CEF with its header fields and escaped extension).  The
collector going away costs nothing but counted drops.
"""
import json
import os
import shutil
import signal
import socket
import subprocess

import pytest

from conftest import (free_tcp_port, free_udp_port, wait_until)

RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"

pytestmark = pytest.mark.skipif(not os.path.exists(RSYSLOGD), reason="rsyslog is not installed")


@pytest.fixture(scope="module")
def rsyslog(tmp_path_factory):
    d = tmp_path_factory.mktemp("rsyslog")
    udp, tcp = free_udp_port(), free_tcp_port()
    out = d / "out.log"
    (d / "rsyslog.conf").write_text(f'''
global(workDirectory="{d}")
module(load="imudp")
module(load="imtcp")
input(type="imudp" address="127.0.0.1" port="{udp}")
input(type="imtcp" address="127.0.0.1" port="{tcp}")
template(name="fields" type="string"
         string="%pri%|%app-name%|%procid%|%msgid%|%hostname%|%timereported:::date-rfc3339%|%msg%\\n")
*.* action(type="omfile" file="{out}" template="fields")
''')
    proc = subprocess.Popen([RSYSLOGD, "-n", "-f", str(d / "rsyslog.conf"), "-i", str(d / "pid")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    # Ready when the TCP input accepts.
    def listening():
        try:
            socket.create_connection(("127.0.0.1", tcp), timeout=0.2).close()
            return True
        except OSError:
            return None
    wait_until(listening, timeout=10, what="rsyslogd listening")
    yield {"udp": udp, "tcp": tcp, "out": out, "proc": proc}
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)


def lines(rs, predicate):
    if not rs["out"].exists():
        return None
    got = [l.split("|", 6) for l in rs["out"].read_text().splitlines()]
    got = [g for g in got if len(g) == 7 and predicate(g)]
    return got or None


def unknown_attach(d, imsi):
    nas = d.client()
    try:
        r = nas.access(imsi=imsi, imeisv="3500000000000101")
        assert r is not None and r.rejected
    finally:
        nas.close()


def test_json_over_tcp(daemon_factory, rsyslog):
    d = daemon_factory("syslog-tcp", conf_extra="syslog tcp 127.0.0.1:%d json\n" % rsyslog["tcp"])
    unknown_attach(d, "234159999900001")
    got = wait_until(lambda: lines(rsyslog, lambda g: "234159999900001" in g[6] and g[3] == "finding"),
                     timeout=10, what="the finding at rsyslog")
    pri, app, procid, msgid, host, ts, msg = got[0]
    assert app == "m2mguard" and msgid == "finding" and int(procid) == d.proc.pid
    assert int(pri) == 16 * 8 + 4          # local0, warning
    ev = json.loads(msg)
    assert ev["kind"] == "sim_unknown" and ev["type"] == "finding"
    assert ev["evidence"]["imsi"] == "234159999900001"
    acts = wait_until(lambda: lines(rsyslog, lambda g: g[3] == "action" and
                                    json.loads(g[6]).get("finding_id") == ev["id"]),
                      timeout=10, what="the reject action at rsyslog")
    assert json.loads(acts[0][6])["kind"] == "reject"
    st = d.stats()["syslog"]
    assert st["sent"] >= 2 and st["connects"] == 1 and st["dropped"] == 0


def test_cef_over_udp(daemon_factory, rsyslog):
    d = daemon_factory("syslog-udp", conf_extra="syslog udp 127.0.0.1:%d cef\n" % rsyslog["udp"])
    unknown_attach(d, "234159999900002")
    got = wait_until(lambda: lines(rsyslog, lambda g: "234159999900002" in g[6] and g[3] == "finding"),
                     timeout=10, what="the CEF finding at rsyslog")
    msg = got[0][6]
    assert msg.startswith("CEF:0|m2mguard|m2mguard|1|sim_unknown|"), msg
    head = msg.split("|")
    assert head[6] == "7"                   # warning
    assert "cs1Label=tenant" in msg and "cat=finding" in msg
    # The event JSON in the extension, with "=" escaped.
    assert '\\"imsi\\":\\"234159999900002\\"' not in msg   # CEF does not escape quotes
    assert '"imsi":"234159999900002"' in msg


def test_collector_gone(daemon_factory, tmp_path):
    port = free_tcp_port()      # nobody listens there
    d = daemon_factory("syslog-gone", conf_extra="syslog tcp 127.0.0.1:%d json\n" % port)
    unknown_attach(d, "234159999900003")
    st = d.stats_when(lambda s: s["syslog"]["dropped"] >= 1, timeout=5,
                      what="the event dropped and counted")["syslog"]
    assert st["sent"] == 0
    assert [f for f in d.findings(kind="sim_unknown") if f["evidence"]["imsi"] == "234159999900003"]


def test_config_errors(daemon_factory, tmp_path):
    from conftest import BIN
    conf = tmp_path / "bad.conf"
    conf.write_text("database %s/db\nsyslog smoke 127.0.0.1:514\nsyslog tcp nowhere json\n"
                    "syslog udp 127.0.0.1:514 xml\n" % tmp_path)
    r = subprocess.run([str(BIN), "check-config", str(conf)], capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.count("syslog udp|tcp ADDRESS:PORT [json|cef]") == 2
    assert 'bad address "nowhere"' in r.stderr
