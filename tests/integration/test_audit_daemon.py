"""
Scenario: the daemon publishes the audit chain's head in its log (and so to
syslog) at start, when it moves (at most once a minute) and at a clean
stop; `m2mguard audit verify --head SEQ:HASH` checks the chain against a
published head.  Changes made through the HTTP API are chained with the
token's role.
"""
import json
import re

import requests

from conftest import (FLEET, free_tcp_port)


HEAD = re.compile(r"audit head (\d+):([0-9a-f]{64})")


def test_head_published_and_api_role_chained(daemon_factory):
    port = free_tcp_port()
    d = daemon_factory("audit-daemon", conf_extra="listen api 127.0.0.1:%d\n" % port)
    heads = HEAD.findall(d.stderr())
    assert heads, "no audit head logged at start"
    token = d.cli("token", "create", "noc", "--role", "operator", "--tenant", "acme",
                  check=True).stdout.strip()
    sim = next(s for s in FLEET.values() if s["tenant"] == "acme")
    r = requests.post("http://127.0.0.1:%d/v1/sims/%s/suspend" % (port, sim["iccid"]),
                      headers={"Authorization": "Bearer " + token}, json={"reason": "audit"},
                      timeout=10)
    assert r.status_code == 200, r.text
    out = d.cli("audit", "list", "--json", check=True).stdout
    recs = [json.loads(l) for l in out.splitlines() if l.strip()]
    mine = [x for x in recs if "sim.suspend" in json.dumps(x) and "api:noc" in json.dumps(x)]
    assert mine and '"operator"' in json.dumps(mine[-1]), mine
    assert d.stop() == 0
    last = HEAD.findall(d.stderr())[-1]
    assert int(last[0]) > int(heads[0][0])
    ok = d.cli("audit", "verify", "--head", "%s:%s" % last)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = d.cli("audit", "verify", "--head", "%s:%s" % (last[0], "0" * 64))
    assert bad.returncode == 1
