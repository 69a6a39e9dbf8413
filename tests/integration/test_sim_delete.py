"""
Scenario: deleting a SIM, through the HTTP API (DELETE /v1/sims/{iccid},
admin) and the CLI (`m2mguard sim delete ICCID [--tenant T]`), both through
the one command layer.

A meter attaches (pyrad) and opens a data session with usage (accounting);
an attach from a foreign device leaves an imei_mismatch finding.  Its
tenant's admin deletes it with a reason: the answer is the SIM as it was,
the SIM is gone from every view, and within the sync interval the running
daemon refuses it as an unknown SIM (and radclient sees the same) and cuts
its live session with a Disconnect-Request (cause "deleted") whose ACK is
an action that still names its ICCID.  What stays: its session, finding,
actions and audit record (actor, role, the whole record as `before`, the
reason); what goes: its daily usage.  Imported again, it is a new SIM (a
new id, no old sessions or usage).

Roles and tenants: a viewer and an operator get 403; another tenant's
admin gets 404 by ICCID and by IMSI exactly like a SIM that does not exist;
bad bodies are 400; none of these changes anything.  The newest SIM's id,
once deleted, is not given to the next SIM.  The CLI: --tenant of another
tenant is "no SIM"; --help; bad arguments exit 2.
"""
import json
import subprocess
import time

import pytest
import requests

from conftest import (ACCT_INTERIM, ACCT_START, FLEET, SECRET, acct_listen_line,
                      create_token, free_tcp_port, imeisv_of, wait_until)

DA_ATTRIBUTES = ["user-name", "acct-session-id", "framed-ip-address"]


@pytest.fixture(scope="module")
def api(daemon_factory, da_nas):
    port = free_tcp_port()
    d = daemon_factory("sim-delete", conf_extra=acct_listen_line()
                       + "listen api 127.0.0.1:%d\n" % port,
                       client_extra=da_nas.client_lines(DA_ATTRIBUTES))
    d.api_base = "http://127.0.0.1:%d" % port
    d.tokens = {
        "admin": create_token(d, "acme-admin", "admin", "acme"),
        "op": create_token(d, "acme-op", "operator", "acme"),
        "view": create_token(d, "acme-view", "viewer", "acme"),
        "gx-admin": create_token(d, "gx-admin", "admin", "globex"),
        "root": create_token(d, "root", "platform-admin"),
    }
    return d


def call(api, method, path, token, **kw):
    return requests.request(method, api.api_base + path, timeout=10,
                            headers={"Authorization": "Bearer " + api.tokens[token],
                                     **kw.pop("headers", {})}, **kw)


def is_problem(r, status):
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["Content-Type"] == "application/problem+json"
    return r.json()


def meters():
    return [s for s in FLEET.values() if s["tenant"] == "acme" and s["group"] == "meters"]


def attach(nas, sim):
    return nas.access(imsi=sim["imsi"], imeisv=imeisv_of(sim["imei"]), plmn="23415")


def radclient_auth(api, imsi):
    """An Access-Request from FreeRADIUS's radclient; its reply code line."""
    text = ('User-Name = "%s"\n3GPP-IMSI = "%s"\nMessage-Authenticator = 0x00\n'
            % (imsi, imsi))
    r = subprocess.run(["radclient", "-x", "-r", "1", "-t", "2", "127.0.0.1:%d" % api.port,
                        "auth", SECRET.decode()], input=text, capture_output=True, text=True,
                       timeout=20)
    return r.stdout + r.stderr


def sim_rows(api, iccid):
    return api.db_rows("SELECT id FROM sims WHERE iccid = ?", iccid)


def in_memory_as_in_store(api):
    """Wait (at most 2 s: the sync runs every 500 ms) until the daemon holds
    as many SIMs in memory as the store has."""
    rows = len(api.db_rows("SELECT id FROM sims"))
    api.stats_when(lambda s: s["sims"] == rows, timeout=2.0,
                   what="the daemon's memory in line with the store (%d SIMs)" % rows)


def test_delete_through_the_api(api, da_nas):
    sim = meters()[0]
    sid = "delete-me-0001"
    nas, acct = api.client(), api.acct_client()
    try:
        assert attach(nas, sim).accepted
        # History: a finding about it (the SIM in a foreign device).
        assert nas.access(imsi=sim["imsi"], imeisv="35000000000000" + "01").rejected
        common = dict(session_id=sid, imsi=sim["imsi"], framed_ip=sim["ip"],
                      imeisv=imeisv_of(sim["imei"]))
        assert acct.acct(ACCT_START, in_octets=0, out_octets=0, session_time=0, **common)
        assert acct.acct(ACCT_INTERIM, in_octets=5000, out_octets=7000, session_time=60, **common)
        old_id = sim_rows(api, sim["iccid"])[0]["id"]
        assert api.db_rows("SELECT * FROM usage_daily WHERE sim_id = ?", old_id)
        da_nas.clear()

        r = call(api, "DELETE", "/v1/sims/" + sim["iccid"], "admin",
                 json={"reason": "meter scrapped"})
        assert r.status_code == 200, r.text
        before = r.json()
        assert before["iccid"] == sim["iccid"] and before["imsi"] == sim["imsi"]
        assert before["state"] == "active" and before["group"] == "meters"

        # Gone from every view.
        is_problem(call(api, "GET", "/v1/sims/" + sim["iccid"], "admin"), 404)
        is_problem(call(api, "GET", "/v1/sims/" + sim["imsi"], "root"), 404)
        listed = call(api, "GET", "/v1/sims", "admin", params={"limit": 1000}).json()["items"]
        assert sim["iccid"] not in {s["iccid"] for s in listed}
        is_problem(call(api, "DELETE", "/v1/sims/" + sim["iccid"], "admin"), 404)

        # The running daemon forgets it within the sync interval (500 ms;
        # the command layer also asks for a sync at once) and refuses it as
        # an unknown SIM, to pyrad and radclient alike...
        in_memory_as_in_store(api)
        reply = attach(nas, sim)
        assert reply is not None and reply.rejected, reply
        assert reply.reply_message == "m2mguard: sim_unknown", reply
        out = radclient_auth(api, sim["imsi"])
        assert "Access-Reject" in out and "sim_unknown" in out, out
        # ...and cut its live session: one Disconnect-Request, ACKed.
        [req] = da_nas.wait_for(1, timeout=3.0)
        assert req.problems == [] and ("Acct-Session-Id", sid) in req.identification(), req
        ack = wait_until(lambda: [a for a in api.actions(outcome="ack")
                                  if a["detail"].get("acct_session_id") == sid] or None,
                         timeout=3.0, what="the Disconnect-ACK recorded")
        assert ack[0]["target"] == sim["iccid"] and ack[0]["detail"]["cause"] == "deleted"
    finally:
        nas.close()
        acct.close()

    # History stays: the session (closed by the ACK), the finding, the actions.
    [row] = api.sessions(sid)
    assert row["imsi"] == sim["imsi"] and row["state"] == "closed"
    assert row["close_reason"] == "disconnect" and row["in_octets"] == 5000
    assert api.findings(kind="imei_mismatch", subject=sim["iccid"])
    found = call(api, "GET", "/v1/findings", "admin",
                 params={"subject": sim["iccid"]}).json()["items"]
    assert {f["kind"] for f in found} >= {"imei_mismatch"}
    acts = call(api, "GET", "/v1/actions", "admin", params={"target": sim["iccid"]}).json()
    assert {a["kind"] for a in acts["items"]} >= {"reject", "disconnect"}
    # Its daily usage is gone, and stays gone though the session reported
    # usage again after the delete.
    assert api.db_rows("SELECT * FROM usage_daily WHERE sim_id = ?", old_id) == []
    assert api.db_rows("SELECT * FROM usage_burst WHERE sim_id = ?", old_id) == []

    # Audited with who, role, why and the whole record as it was.
    [log] = api.db_rows("SELECT actor, action, detail, tenant_id FROM admin_log"
                        " WHERE action = 'sim.delete' AND target = ?", sim["iccid"])
    assert log["actor"] == "api:acme-admin"
    detail = json.loads(log["detail"])
    assert detail["reason"] == "meter scrapped"
    assert detail["before"]["imsi"] == sim["imsi"] and detail["before"]["ip"] == sim["ip"]
    assert detail["before"]["tenant"] == "acme" and detail["before"]["group"] == "meters"
    rec = [json.loads(r["body"]) for r in api.db_rows("SELECT body FROM audit_chain")
           if json.loads(r["body"]).get("action") == "sim.delete"]
    assert len(rec) == 1 and rec[0]["role"] == "admin" and rec[0]["target"] == sim["iccid"]
    assert rec[0]["before"]["imsi"] == sim["imsi"] and rec[0]["after"] is None
    assert api.cli("audit", "verify").returncode == 0

    # Imported again: a new SIM with a new id, none of the old one's sessions.
    csv = "iccid,imsi,imei,group,tenant\n%s,%s,%s,meters,acme\n" % (
        sim["iccid"], sim["imsi"], sim["imei"])
    r = call(api, "POST", "/v1/sims/import", "admin", data=csv,
             headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert sim_rows(api, sim["iccid"])[0]["id"] > old_id
    assert call(api, "GET", "/v1/sims/%s/sessions" % sim["iccid"], "admin").json()["items"] == []
    usage = call(api, "GET", "/v1/sims/%s/usage" % sim["iccid"], "admin").json()
    assert usage["today"]["in_octets"] == 0 and usage["days"] == []
    nas = api.client()
    try:
        wait_until(lambda: attach(nas, sim).accepted, timeout=3.0, what="re-imported SIM admitted")
    finally:
        nas.close()


def test_roles_and_tenants_cannot_delete(api):
    sim = meters()[1]
    for token in ("view", "op"):
        p = is_problem(call(api, "DELETE", "/v1/sims/" + sim["iccid"], token), 403)
        assert "may not DELETE" in p["detail"]
    # Another tenant's admin: 404, exactly as for a SIM that does not exist.
    ghost = is_problem(call(api, "DELETE", "/v1/sims/8944110000009999999", "gx-admin"), 404)
    for key in (sim["iccid"], sim["imsi"]):
        p = is_problem(call(api, "DELETE", "/v1/sims/" + key, "gx-admin"), 404)
        assert p["title"] == ghost["title"] and "acme" not in json.dumps(p)
        assert p["detail"] == ghost["detail"].replace("8944110000009999999", key)
    assert len(sim_rows(api, sim["iccid"])) == 1
    assert not api.db_rows("SELECT 1 FROM admin_log WHERE action = 'sim.delete' AND target = ?",
                           sim["iccid"])


def test_bad_bodies_change_nothing(api):
    sim = meters()[2]
    for body in (b"{", b"[]", b'{"reason": 5}', b'{"why": "x"}',
                 b'{"reason": "' + b"x" * 201 + b'"}', b'{"reason": "a", "reason": "b"}'):
        is_problem(call(api, "DELETE", "/v1/sims/" + sim["iccid"], "admin", data=body), 400)
    is_problem(call(api, "DELETE", "/v1/sims/" + sim["iccid"], "admin",
                    data=b'{"reason": "' + b"x" * 70000 + b'"}'), 413)
    assert len(sim_rows(api, sim["iccid"])) == 1


def test_platform_admin_deletes_any_tenants_sim(api):
    sim = next(s for s in FLEET.values() if s["tenant"] == "globex")
    r = call(api, "DELETE", "/v1/sims/" + sim["imsi"], "root")
    assert r.status_code == 200 and r.json()["iccid"] == sim["iccid"], r.text
    assert sim_rows(api, sim["iccid"]) == []
    [log] = api.db_rows("SELECT actor, tenant_id, detail FROM admin_log"
                        " WHERE action = 'sim.delete' AND target = ?", sim["iccid"])
    assert log["actor"] == "api:root" and "reason" not in json.loads(log["detail"])
    globex = api.db_rows("SELECT id FROM tenants WHERE name = 'globex'")[0]["id"]
    assert log["tenant_id"] == globex


def luhn(payload):
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return payload + str((10 - total % 10) % 10)


def test_the_newest_sims_id_is_not_given_again(api):
    # SQLite would give the highest id again once its row is gone: the
    # next SIM would inherit the deleted one's sessions and findings.
    last = api.db_rows("SELECT id, iccid FROM sims ORDER BY id DESC LIMIT 1")[0]
    assert call(api, "DELETE", "/v1/sims/" + last["iccid"], "root").status_code == 200
    iccid = luhn("894411000000099999")
    r = call(api, "POST", "/v1/sims", "admin",
             json={"iccid": iccid, "imsi": "234159999999991", "group": "meters",
                   "tenant": "acme"})
    assert r.status_code == 201, r.text
    assert sim_rows(api, iccid)[0]["id"] > last["id"]


def test_cli_delete(api, da_nas):
    sim = meters()[3]
    r = api.cli("sim", "delete", sim["iccid"], "--tenant", "globex")
    assert r.returncode == 1 and "no SIM" in r.stderr, r
    assert len(sim_rows(api, sim["iccid"])) == 1
    for bad in ([], [sim["iccid"], "extra"], [sim["iccid"], "--bogus"],
                [sim["iccid"], "--reason", "x" * 201]):
        r = api.cli("sim", "delete", *bad)
        assert r.returncode == 2, (bad, r)
    assert len(sim_rows(api, sim["iccid"])) == 1
    assert "sim delete ICCID|IMSI" in api.cli("sim", "delete", "--help", check=True).stdout
    da_nas.clear()
    r = api.cli("sim", "delete", sim["imsi"], "--tenant", "acme", "--reason", "returned",
                check=True)
    assert "deleted" in r.stdout and sim["iccid"] in r.stdout
    assert sim_rows(api, sim["iccid"]) == []
    [log] = api.db_rows("SELECT actor, detail FROM admin_log WHERE action = 'sim.delete'"
                        " AND target = ?", sim["iccid"])
    assert log["actor"].startswith("cli:") and json.loads(log["detail"])["reason"] == "returned"
    r = api.cli("sim", "delete", sim["iccid"])
    assert r.returncode == 1 and "no SIM" in r.stderr
    in_memory_as_in_store(api)
    nas = api.client()
    try:
        reply = attach(nas, sim)
        assert reply is not None and reply.rejected, reply
        assert reply.reply_message == "m2mguard: sim_unknown", reply
    finally:
        nas.close()
    # It had no live session: nothing to cut.
    time.sleep(0.5)
    assert da_nas.requests() == []
