"""
Scenario: kill -9 at a random moment under mixed load, several rounds.
test_accounting_crash.py kills the daemon under accounting alone; here,
at the same time:
  - a NAS sends Access-Requests one after another (conftest's Traffic);
  - two NASes run accounting sessions (Start, Interims, Stop), each
    waiting for the Accounting-Response before the next record, and note
    every record that was acknowledged;
  - an operator runs the CLI: `sim suspend` / `sim resume` of a few SIMs,
    `policy set meters`, `token create`; a change is noted only when the
    command exited 0 (it reported success).
After a random delay (RNG seeded per run; the seed is in every failure
message) the daemon gets SIGKILL.  Once the load has stopped, before
anything else writes the database:
  - PRAGMA integrity_check on a read-only connection says "ok";
  - every acknowledged accounting record is a row of acct_records.
Then the daemon is started again, and:
  - every change the CLI reported is in the store: the SIM's state is the
    last one reported, each reported policy version is a row of policies,
    each reported token is a row of api_tokens, and each has its admin_log
    row and its audit_chain record (exactly as many as were reported);
  - `m2mguard audit verify` exits 0.
"""
import collections
import os
import random
import re
import signal
import sqlite3
import threading
import time

import pytest

from conftest import (ACCT_INTERIM, ACCT_START, ACCT_STOP, ETC, FLEET, TENANT, Traffic,
                      acct_listen_line, imeisv_of)

ROUNDS = 6
HOME = "23415"
IMSIS = sorted(FLEET)
AUTH_IMSIS = IMSIS[:20]
ACCT_IMSIS = IMSIS[20:40]
ADMIN_SIMS = [FLEET[i]["iccid"] for i in IMSIS[40:46]]
SEED = int(os.environ.get("M2MGUARD_CRASH_SEED", time.time_ns() % 1000000))


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("crash-mixed", conf_extra=acct_listen_line())


class AcctLoad(threading.Thread):
    """A NAS running sessions one record at a time; `acked` lists the
    (session id, status, in, out, time) of every acknowledged record."""

    def __init__(self, daemon, name, rnd):
        super().__init__(daemon=True)
        self.client = daemon.acct_client(timeout=0.5)
        self.name_ = name
        self.rnd = rnd
        self.acked = []
        self.sent = 0
        self.errors = []
        self.stop_event = threading.Event()

    def run(self):
        n = 0
        try:
            while not self.stop_event.is_set():
                sid = "%s-%04d" % (self.name_, n)
                imsi = ACCT_IMSIS[n % len(ACCT_IMSIS)]
                steps = [(ACCT_START, 0)] + [(ACCT_INTERIM, k) for k in (1, 2, 3)] \
                    + [(ACCT_STOP, 4)]
                for status, k in steps:
                    if self.stop_event.is_set():
                        break
                    rec = (sid, status, k * 1000 + n, k * 300 + n, k * 60)
                    self.sent += 1
                    if self.client.acct(status, session_id=sid, imsi=imsi, in_octets=rec[2],
                                        out_octets=rec[3], session_time=rec[4]) is not None:
                        self.acked.append(rec)
                n += 1
        except Exception as e:      # reported by finish()
            self.errors.append(e)

    def finish(self):
        self.stop_event.set()
        self.join(10)
        self.client.close()
        assert not self.errors, self.errors


class AdminLoad(threading.Thread):
    """An operator at the CLI.  `reported` lists (action, target, detail) of
    every command that exited 0; `state` the last reported state per SIM."""

    def __init__(self, daemon, rnd, round_no, state):
        super().__init__(daemon=True)
        self.daemon_ = daemon
        self.rnd = rnd
        self.round_no = round_no
        self.state = state
        self.reported = []
        self.failed = []
        self.errors = []
        self.stop_event = threading.Event()

    def run(self):
        n = 0
        try:
            while not self.stop_event.is_set():
                self.one(n)
                n += 1
        except Exception as e:      # reported by finish()
            self.errors.append(e)

    def one(self, n):
        d, op = self.daemon_, self.rnd.choice(("sim", "sim", "policy", "token"))
        if op == "sim":
            iccid = self.rnd.choice(ADMIN_SIMS)
            verb = "resume" if self.state[iccid] == "suspended" else "suspend"
            r = d.cli("sim", verb, iccid, "--reason", "crash round %d" % self.round_no)
            if r.returncode == 0:
                assert "is now" in r.stdout, r.stdout
                self.state[iccid] = "active" if verb == "resume" else "suspended"
                self.reported.append(("sim." + verb, iccid, None))
            else:
                self.failed.append((verb, iccid, r.stderr))
        elif op == "policy":
            r = d.cli("policy", "set", "meters", str(ETC / "policies" / "meters.json"),
                      "--tenant", TENANT)
            if r.returncode == 0:
                m = re.search(r"is now version (\d+)", r.stdout)
                assert m, r.stdout
                self.reported.append(("policy.set", "meters", int(m.group(1))))
            else:
                self.failed.append(("policy set", "meters", r.stderr))
        else:
            name = "crash-r%d-%d" % (self.round_no, n)
            r = d.cli("token", "create", name, "--role", "viewer", "--tenant", TENANT)
            if r.returncode == 0:
                assert r.stdout.strip().startswith("m2mg_"), r.stdout
                self.reported.append(("token.create", name, None))
            else:
                self.failed.append(("token create", name, r.stderr))

    def finish(self):
        self.stop_event.set()
        self.join(30)
        assert not self.is_alive(), "a CLI command hangs"
        assert not self.errors, self.errors


def auth_attrs(i):
    imsi = AUTH_IMSIS[i % len(AUTH_IMSIS)]
    return [("User-Name", imsi), ("NAS-IP-Address", "127.0.0.1"),
            ("Called-Station-Id", "iot.m2m.example"), ("3GPP-IMSI", imsi),
            ("3GPP-IMEISV", imeisv_of(FLEET[imsi]["imei"])), ("3GPP-RAT-Type", "EUTRAN"),
            ("3GPP-SGSN-MCC-MNC", HOME)]


def integrity(db):
    """PRAGMA integrity_check on a read-only connection."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
    try:
        return [r[0] for r in con.execute("PRAGMA integrity_check").fetchall()]
    finally:
        con.close()


def audit_counts(daemon):
    """(action, target) → number of admin_log rows and of audit records."""
    log = collections.Counter((r["action"], r["target"])
                              for r in daemon.db_rows("SELECT action, target FROM admin_log"))
    chain = collections.Counter()
    for r in daemon.db_rows("SELECT body FROM audit_chain WHERE kind = 'admin'"):
        body = r["body"]
        a = re.search(r'"action":"([^"]*)"', body).group(1)
        t = re.search(r'"target":"([^"]*)"', body).group(1)
        chain[(a, t)] += 1
    return log, chain


def test_kill_9_under_mixed_load(daemon):
    rnd = random.Random(SEED)
    state = {iccid: daemon.sim_state(iccid) for iccid in ADMIN_SIMS}
    base_log, base_chain = audit_counts(daemon)
    reported = []                   # every change the CLI reported, all rounds
    acked = []                      # every acknowledged accounting record
    auth_answered = 0
    for rno in range(1, ROUNDS + 1):
        where = "round %d (seed %d)" % (rno, SEED)
        auth = Traffic(daemon, auth_attrs, interval=0.002, timeout=0.5)
        accts = [AcctLoad(daemon, "mx%d%s" % (rno, c), rnd) for c in "ab"]
        admin = AdminLoad(daemon, random.Random(rnd.random()), rno, state)
        for t in [auth, admin] + accts:
            t.start()
        delay = rnd.uniform(0.3, 1.5)
        time.sleep(delay)
        os.kill(daemon.proc.pid, signal.SIGKILL)
        daemon.proc.wait(5)
        assert daemon.stop() == -signal.SIGKILL, where
        results = auth.finish()
        for t in accts:
            t.finish()
        admin.finish()
        auth_answered += sum(1 for r in results if r is not None)
        round_acked = [rec for t in accts for rec in t.acked]
        acked.extend(round_acked)
        reported.extend(admin.reported)
        print("%s: killed after %.2f s; %d Access-Requests answered, %d/%d accounting"
              " records acknowledged, %d changes reported, %d refused"
              % (where, delay, sum(1 for r in results if r is not None), len(round_acked),
                 sum(t.sent for t in accts), len(admin.reported), len(admin.failed)))

        # The file as the killed daemon (and the finished CLI) left it.
        check = integrity(daemon.db)
        assert check == ["ok"], "%s: integrity_check: %r" % (where, check[:10])
        stored = collections.Counter(
            (r["acct_session_id"], r["status"], r["in_octets"], r["out_octets"],
             r["session_time"])
            for r in daemon.db_rows("SELECT * FROM acct_records"))
        missing = [rec for rec in acked if rec not in stored]
        assert not missing, "%s: %d acknowledged accounting records are not in acct_records," \
            " e.g. %r" % (where, len(missing), missing[:5])

        daemon.start()
        for iccid, want in state.items():
            got = daemon.sim_state(iccid)
            assert got == want, "%s: SIM %s is %s, the CLI last reported %s" \
                % (where, iccid, got, want)
        versions = {r["version"] for r in daemon.db_rows(
            "SELECT p.version FROM policies p JOIN groups g ON g.id = p.group_id"
            " WHERE g.name = 'meters'")}
        lost = [v for a, _, v in reported if a == "policy.set" and v not in versions]
        assert not lost, "%s: reported policy versions missing: %r" % (where, lost)
        tokens = {r["name"] for r in daemon.db_rows("SELECT name FROM api_tokens")}
        lost = [t for a, t, _ in reported if a == "token.create" and t not in tokens]
        assert not lost, "%s: reported tokens missing: %r" % (where, lost)
        log, chain = audit_counts(daemon)
        want = collections.Counter((a, t) for a, t, _ in reported)
        for key, n in want.items():
            got_log = log[key] - base_log[key]
            got_chain = chain[key] - base_chain[key]
            assert got_log == n, "%s: %d %s of %s reported, %d in admin_log" \
                % (where, n, key[0], key[1], got_log)
            assert got_chain == n, "%s: %d %s of %s reported, %d in the audit chain" \
                % (where, n, key[0], key[1], got_chain)
        r = daemon.cli("audit", "verify")
        assert r.returncode == 0, "%s: audit verify: %s%s" % (where, r.stdout, r.stderr)

    # The load did run: each kind of work got through in some round.
    assert auth_answered > 0 and acked and reported, (auth_answered, len(acked), len(reported))
    assert {a for a, _, _ in reported} >= {"sim.suspend", "policy.set", "token.create"}, \
        "seed %d: not every kind of change was made" % SEED
