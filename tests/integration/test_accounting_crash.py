"""
Scenario: kill -9 in the middle of a stream of Accounting-Requests.  The
promise (accounting.h): an Accounting-Response is sent only after its
record is committed, so nothing acknowledged is ever lost, and a record
the NAS must retransmit is counted once.

A NAS sends 2000 records — Start then nine Interims for each of 200
sessions, interleaved, 32 in flight — and logs every Accounting-Response
it receives and verifies.  When a third, then a half, then four fifths of
them are acknowledged, the daemon is killed with SIGKILL.  After each
kill, before anything else touches the database, every acknowledged record
is a row of acct_records (the accounting log).  Once the daemon is started
again (it redoes the log past its last flush of sessions and usage):
  - each session's total is at least its highest acknowledged counter, and
    usage_daily holds at least that for each SIM.
Then the NAS retransmits what was not acknowledged, as a NAS does.  At the end every session's total is exactly
its last counter and usage_daily exactly their sum per SIM: nothing lost,
nothing counted twice.
"""
import collections
import os
import select
import signal
import time

import pytest

from conftest import (ACCT_INTERIM, ACCT_START, FLEET, acct_listen_line, verify_acct_reply)

SESSIONS = 200
ROUNDS = 10                     # Start + 9 Interims
WINDOW = 32
KILL_AT = (650, 1000, 1600)     # acknowledged records (cumulative) at each kill
IMSIS = sorted(FLEET)


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("acct-crash", conf_extra=acct_listen_line())


def make_records():
    """(session id, imsi, status, in, out, time) in sending order."""
    out = []
    for k in range(ROUNDS):
        for s in range(SESSIONS):
            c_in = k * 1000 + s
            c_out = k * 3000 + 2 * s
            out.append(("crash-%04d" % s, IMSIS[s % len(IMSIS)],
                        ACCT_START if k == 0 else ACCT_INTERIM, c_in, c_out, k * 60))
    return out


class Nas:
    """A NAS with up to WINDOW requests in flight on one socket."""

    def __init__(self, daemon, records):
        self.daemon = daemon
        self.records = records
        self.acked = set()          # indexes of acknowledged records
        self.client = daemon.acct_client()

    def run(self, kill_at=None, idle=1.0):
        """Send every record not acknowledged yet; with `kill_at`, SIGKILL the
        daemon once that many records are acknowledged.  Returns when nothing
        has been answered for `idle` seconds or everything is acknowledged."""
        pending = collections.deque(i for i in range(len(self.records)) if i not in self.acked)
        free_ids = collections.deque(range(256))
        flight = {}                 # RADIUS id → (record index, request bytes)
        killed = False
        last_answer = time.monotonic()
        sock = self.client.sock
        while pending or flight:
            while pending and len(flight) < WINDOW and not killed:
                i = pending.popleft()
                sid, imsi, status, c_in, c_out, t = self.records[i]
                ident = free_ids.popleft()
                raw = self.client.build_acct(status, ident=ident, session_id=sid, imsi=imsi,
                                             in_octets=c_in, out_octets=c_out, session_time=t)
                self.client.send_raw(raw)
                flight[ident] = (i, raw)
            r, _, _ = select.select([sock], [], [], 0.05)
            if r:
                data, _ = sock.recvfrom(4096)
                i, raw = flight.pop(data[1])
                verify_acct_reply(data, raw, self.client.secret)
                self.acked.add(i)
                free_ids.append(data[1])
                last_answer = time.monotonic()
                if kill_at is not None and not killed and len(self.acked) >= kill_at:
                    os.kill(self.daemon.proc.pid, signal.SIGKILL)
                    killed = True
            elif time.monotonic() - last_answer > idle:
                break
        return killed

    def close(self):
        self.client.close()


def check_acknowledged(daemon, records, acked, tables=True):
    """Every acknowledged record is stored, and the usage it reported counted.
    tables=False: only the accounting log (acct_records) — what a killed
    daemon leaves; sessions and usage_daily are brought up to date from it
    when the daemon starts again."""
    stored = collections.Counter(
        (r["acct_session_id"], r["status"], r["in_octets"], r["out_octets"], r["session_time"])
        for r in daemon.db_rows("SELECT * FROM acct_records"))
    missing = [records[i] for i in sorted(acked)
               if (records[i][0], records[i][2], records[i][3], records[i][4],
                   records[i][5]) not in stored]
    assert not missing, "%d acknowledged records are not in acct_records, e.g. %r" \
        % (len(missing), missing[:5])
    if not tables:
        return

    high = {}                       # session → highest acknowledged (in, out)
    for i in acked:
        sid, imsi, _, c_in, c_out, _ = records[i]
        h = high.get(sid, (imsi, 0, 0))
        high[sid] = (imsi, max(h[1], c_in), max(h[2], c_out))
    rows = {r["acct_session_id"]: r for r in daemon.db_rows(
        "SELECT acct_session_id, in_octets, out_octets FROM sessions"
        " WHERE acct_session_id LIKE 'crash-%' AND state = 'open'")}
    per_sim = collections.defaultdict(lambda: [0, 0])
    for sid, (imsi, c_in, c_out) in high.items():
        assert sid in rows, "acknowledged session %s has no open row" % sid
        assert rows[sid]["in_octets"] >= c_in and rows[sid]["out_octets"] >= c_out, \
            (sid, dict(rows[sid]), c_in, c_out)
        per_sim[imsi][0] += c_in
        per_sim[imsi][1] += c_out
    usage = {r["imsi"]: (r["i"], r["o"]) for r in daemon.db_rows(
        "SELECT s.imsi, sum(u.in_octets) AS i, sum(u.out_octets) AS o FROM usage_daily u"
        " JOIN sims s ON s.id = u.sim_id GROUP BY s.imsi")}
    for imsi, (c_in, c_out) in per_sim.items():
        got = usage.get(imsi, (0, 0))
        assert got[0] >= c_in and got[1] >= c_out, (imsi, got, c_in, c_out)


def test_nothing_acknowledged_is_lost_across_kill_9(daemon):
    records = make_records()
    nas = Nas(daemon, records)
    try:
        for kill_at in KILL_AT:
            assert nas.run(kill_at=kill_at), "the stream ended before %d answers" % kill_at
            daemon.proc.wait(5)
            assert daemon.proc.returncode == -signal.SIGKILL
            assert daemon.stop() == -signal.SIGKILL
            acked = len(nas.acked)
            assert kill_at <= acked < len(records), acked
            # The database as the killed daemon left it (WAL and all): the
            # log has every acknowledged record...
            check_acknowledged(daemon, records, nas.acked, tables=False)
            # ...and from it the restarted daemon has every session and all
            # of the usage.
            daemon.start()
            check_acknowledged(daemon, records, nas.acked)
            assert daemon.acct_stats()["sessions_open"] == \
                len({records[i][0] for i in nas.acked})
        # The NAS retransmits everything not acknowledged; the last daemon
        # runs to the end.
        nas.run(idle=3.0)
        assert len(nas.acked) == len(records)
    finally:
        nas.close()

    check_acknowledged(daemon, records, nas.acked)
    last = {}
    for sid, imsi, _, c_in, c_out, _ in records:
        last[sid] = (imsi, c_in, c_out)
    rows = daemon.db_rows("SELECT acct_session_id, in_octets, out_octets, state FROM sessions"
                          " WHERE acct_session_id LIKE 'crash-%'")
    assert len(rows) == SESSIONS, "sessions split or duplicated across the restarts"
    per_sim = collections.defaultdict(lambda: [0, 0])
    for r in rows:
        imsi, c_in, c_out = last[r["acct_session_id"]]
        assert r["state"] == "open"
        assert (r["in_octets"], r["out_octets"]) == (c_in, c_out), dict(r)
        per_sim[imsi][0] += c_in
        per_sim[imsi][1] += c_out
    for imsi, expect in per_sim.items():
        assert daemon.usage(imsi) == tuple(expect), imsi
    st = daemon.acct_stats()
    assert st["sessions_open"] == SESSIONS
    assert st["counter_resets"] == 0
