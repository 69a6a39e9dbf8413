"""
Scenario: an operator suspends a SIM that has a live data session
(`m2mguard sim suspend ICCID --reason ...`).  The daemon sends the GGSN's
Dynamic Authorization server (a TestNAS, the client's `da-port`) one RFC 5176
Disconnect-Request per live session within 2 s: Message-Authenticator first
and correct, a valid Request Authenticator, Event-Timestamp, and exactly the
identification attributes the client's `da-attributes` asks for (here all
four it can send) with the session's values.  The NAS's Disconnect-ACK
closes the session ("disconnect"), is recorded as an action (store and
events log) and counted in `stats`; the SIM is refused until it is resumed.
A SIM with no live session causes no Disconnect-Request.
"""
import time

import pytest

from conftest import (ACCT_INTERIM, ACCT_START, ACCT_STOP, ATTR_EVENT_TIMESTAMP,
                      ATTR_MESSAGE_AUTHENTICATOR, FLEET, acct_listen_line, wait_until)

DA_ATTRIBUTES = ["user-name", "acct-session-id", "framed-ip-address", "3gpp-imsi"]
HOME = "23415"


@pytest.fixture(scope="module")
def daemon(daemon_factory, da_nas):
    return daemon_factory("dm-suspend", conf_extra=acct_listen_line(),
                          client_extra=da_nas.client_lines(DA_ATTRIBUTES))


@pytest.fixture
def radius(daemon):
    c = daemon.client()
    yield c
    c.close()


def tracker_imeisv(imsi):
    return "86120304%06d01" % int(imsi[-6:])


def attach(radius, imsi):
    return radius.access(imsi=imsi, imeisv=tracker_imeisv(imsi), plmn=HOME, rat="EUTRAN")


def disconnect_stats(daemon):
    return daemon.acct_stats()["disconnect"]


def wait_action(daemon, sid, outcome, timeout=3.0):
    def found():
        rows = [a for a in daemon.actions(outcome=outcome)
                if a["detail"] and a["detail"].get("acct_session_id") == sid]
        return rows or None
    return wait_until(found, timeout=timeout, what="a disconnect action %s for %s"
                      % (outcome, sid))


def test_suspend_sends_one_disconnect_request_and_the_ack_closes_the_session(
        daemon, da_nas, acct, radius):
    imsi = "234151000000105"
    iccid, ip = FLEET[imsi]["iccid"], FLEET[imsi]["ip"]
    sid = "dm-suspend-0001"
    r = attach(radius, imsi)
    assert r is not None and r.accepted, r
    common = dict(session_id=sid, imsi=imsi, framed_ip=ip, imeisv=tracker_imeisv(imsi))
    assert acct.acct(ACCT_START, in_octets=0, out_octets=0, session_time=0, **common)
    assert acct.acct(ACCT_INTERIM, in_octets=1200, out_octets=3400, session_time=60, **common)
    assert daemon.acct_stats()["sessions_open"] == 1
    da_nas.clear()

    t0 = time.monotonic()
    daemon.cli("sim", "suspend", iccid, "--reason", "x", check=True)
    [req] = da_nas.wait_for(1, timeout=2.0)
    assert req.t - t0 < 2.0
    assert req.problems == [], req
    assert req.source[0] == "127.0.0.1"
    # Message-Authenticator first, exactly one Event-Timestamp (close to now).
    assert req.attrs[0][0] == ATTR_MESSAGE_AUTHENTICATOR
    assert len(req.values(ATTR_EVENT_TIMESTAMP)) == 1
    assert abs(req.event_timestamp - time.time()) < 10
    # Exactly the configured identification attributes, with the session's values.
    assert sorted(req.identification()) == sorted([
        ("User-Name", imsi), ("Acct-Session-Id", sid), ("Framed-IP-Address", ip),
        ("3GPP-IMSI", imsi)]), req

    # The ACK closes the session and is recorded.
    [action] = wait_action(daemon, sid, "ack")
    rows = daemon.sessions(sid)
    assert len(rows) == 1
    assert rows[0]["state"] == "closed" and rows[0]["close_reason"] == "disconnect"
    assert rows[0]["stopped_ms"] is not None
    assert (rows[0]["in_octets"], rows[0]["out_octets"]) == (1200, 3400)
    d = action["detail"]
    assert d["result"] == "ack" and d["attempts"] == 1 and d["nas"] == "ggsn"
    assert 0 <= d["trigger_to_wire_us"] < 2000000
    assert "error_cause" not in d
    assert action["target"] in (imsi, iccid)

    events = [e for e in daemon.event_lines("action") if e["kind"] == "disconnect"
              and e.get("detail", {}).get("acct_session_id") == sid]
    assert [e["outcome"] for e in events] == ["ack"], events

    st = daemon.stats_when(lambda s: s["accounting"]["disconnect"]["ack"] >= 1,
                           what="the ACK in stats")["accounting"]
    dm = st["disconnect"]
    assert (dm["sent"], dm["ack"], dm["nak"], dm["timeout"], dm["failed"]) == (1, 1, 0, 0, 0)
    assert sum(dm["trigger_to_wire_us_log2"].values()) == 1, dm
    assert st["sessions_open"] == 0

    # No second request: no retransmission after the ACK (the first one
    # would come after 1 s), no repeat from a later store sync.
    time.sleep(1.5)
    assert len(da_nas.requests()) == 1, da_nas.requests()
    da_nas.check()

    # Refused while suspended, accepted again once resumed.
    r = attach(radius, imsi)
    assert r.rejected and r.reply_message == "m2mguard: sim_inactive", r
    daemon.cli("sim", "resume", iccid, "--reason", "x", check=True)
    r = attach(radius, imsi)
    assert r.accepted, r
    assert r.get("Framed-IP-Address") == ip


def test_a_session_without_framed_ip_is_identified_without_it(daemon, da_nas, acct):
    imsi = "234151000000106"
    sid = "dm-suspend-0002"
    assert acct.acct(ACCT_START, session_id=sid, imsi=imsi, in_octets=0, out_octets=0,
                     session_time=0)
    da_nas.clear()
    daemon.cli("sim", "suspend", imsi, "--reason", "x", check=True)
    [req] = da_nas.wait_for(1, timeout=2.0)
    assert req.problems == [], req
    assert sorted(req.identification()) == sorted([
        ("User-Name", imsi), ("Acct-Session-Id", sid), ("3GPP-IMSI", imsi)]), req
    wait_action(daemon, sid, "ack")
    assert daemon.sessions(sid)[0]["close_reason"] == "disconnect"


def test_every_live_session_of_the_sim_gets_its_own_request(daemon, da_nas, acct):
    imsi = "234151000000107"
    sids = ["dm-suspend-0003a", "dm-suspend-0003b"]
    for sid in sids:
        assert acct.acct(ACCT_START, session_id=sid, imsi=imsi, in_octets=0, out_octets=0,
                         session_time=0, framed_ip=FLEET[imsi]["ip"])
    # A session of the same SIM that already ended must not be disconnected.
    assert acct.acct(ACCT_START, session_id="dm-suspend-0003c", imsi=imsi, session_time=0)
    assert acct.acct(ACCT_STOP, session_id="dm-suspend-0003c", imsi=imsi, in_octets=1,
                     out_octets=1, session_time=5)
    s0 = disconnect_stats(daemon)
    da_nas.clear()
    daemon.cli("sim", "suspend", imsi, "--reason", "x", check=True)
    reqs = da_nas.wait_for(2, timeout=2.0)
    for sid in sids:
        wait_action(daemon, sid, "ack")
    time.sleep(0.5)
    reqs = da_nas.requests()
    assert len(reqs) == 2, reqs
    assert all(r.problems == [] for r in reqs), reqs
    assert len({r.ident for r in reqs}) == 2        # two requests in flight: two Identifiers
    got = sorted(dict(r.identification())["Acct-Session-Id"] for r in reqs)
    assert got == sorted(sids)
    for sid in sids:
        assert daemon.sessions(sid)[-1]["close_reason"] == "disconnect"
    assert daemon.sessions("dm-suspend-0003c")[0]["close_reason"] == "stop"
    s1 = disconnect_stats(daemon)
    assert s1["sent"] - s0["sent"] == 2 and s1["ack"] - s0["ack"] == 2


def test_suspending_a_sim_without_a_live_session_sends_nothing(daemon, da_nas, acct):
    imsi = "234151000000108"
    sid = "dm-suspend-0004"
    assert acct.acct(ACCT_START, session_id=sid, imsi=imsi, session_time=0)
    assert acct.acct(ACCT_STOP, session_id=sid, imsi=imsi, in_octets=10, out_octets=10,
                     session_time=5)
    s0 = disconnect_stats(daemon)
    da_nas.clear()
    daemon.cli("sim", "suspend", imsi, "--reason", "x", check=True)
    time.sleep(1.5)
    assert da_nas.requests() == []
    assert disconnect_stats(daemon)["sent"] == s0["sent"]
    assert daemon.sim_state(imsi) == "suspended"
