"""
Scenario: the audit trail.  Administrative changes made through the CLI
(tenant and group create, policy set, SIM suspend and resume, token create
and revoke) and the enforcement action that follows a suspend (the
Disconnect-Request the daemon's journal records) each become one record of
the hash chain, written in the transaction of the change.  The chain is
checked here independently of m2mguard (Python's hashlib over the stored
bytes: hash = SHA-256(previous hash || record)), and `m2mguard audit verify`
says it is intact (exit status 0).

Then copies of the database are tampered with directly through Python's
sqlite3, as someone with the file would: a field changed, a record deleted,
a record inserted (correctly hashed, later records renumbered), two records
swapped, the last record deleted.  For each, `audit verify` exits 1 and
names the record and what happened to it.
"""
import hashlib
import json
import sqlite3
import subprocess

import pytest

from conftest import (ACCT_START, BIN, ETC, FLEET, REPO, TENANT, acct_listen_line,
                      check_sanitizer_output, wait_until)

HOME = "23415"
GENESIS = "0" * 64


@pytest.fixture(scope="module")
def daemon(daemon_factory, da_nas):
    return daemon_factory("audit", conf_extra=acct_listen_line(),
                          client_extra=da_nas.client_lines(["user-name", "acct-session-id"]))


def records(daemon, *args):
    r = daemon.cli("audit", "list", "--limit", "0", "--json", *args, check=True)
    return [json.loads(line) for line in r.stdout.splitlines()]


def find(recs, action, target=None):
    found = [r for r in recs if r["record"]["action"] == action
             and (target is None or r["record"]["target"] == target)]
    assert found, (action, target, recs)
    return found[-1]


@pytest.fixture(scope="module")
def changes(daemon, da_nas):
    """Make the changes once for the module; return (iccid, imsi)."""
    imsi = "234151000000105"
    iccid = FLEET[imsi]["iccid"]
    daemon.cli("tenant", "create", "beta", check=True)
    daemon.cli("group", "create", "pumps", "--tenant", "beta", check=True)
    daemon.cli("policy", "set", "meters", str(ETC / "policies" / "meters.json"),
               "--tenant", TENANT, check=True)
    daemon.cli("token", "create", "ci-bot", "--role", "operator", "--tenant", TENANT, check=True)
    # A live session, so that suspending the SIM makes the daemon act.
    radius = daemon.client()
    acct = daemon.acct_client()
    try:
        r = radius.access(imsi=imsi, imeisv="86120304%06d01" % int(imsi[-6:]), plmn=HOME,
                          rat="EUTRAN")
        assert r is not None and r.accepted, r
        assert acct.acct(ACCT_START, session_id="audit-0001", imsi=imsi,
                         framed_ip=FLEET[imsi]["ip"], in_octets=0, out_octets=0,
                         session_time=0)
    finally:
        radius.close()
        acct.close()
    daemon.cli("sim", "suspend", iccid, "--reason", "lost in transit", check=True)
    da_nas.wait_for(1, timeout=3.0)
    wait_until(lambda: [a for a in records(daemon) if a["kind"] == "action"],
               what="the disconnect action in the audit chain")
    daemon.cli("sim", "resume", iccid, check=True)
    return iccid, imsi


def test_every_change_and_action_is_chained(daemon, changes):
    iccid, imsi = changes
    recs = records(daemon)
    # Independent check of the chain's format.
    prev = GENESIS
    for i, r in enumerate(recs, 1):
        body = json.dumps(r["record"], sort_keys=True, separators=(",", ":"))
        assert r["seq"] == i and r["record"]["seq"] == i
        assert r["prev_hash"] == prev
        assert r["hash"] == hashlib.sha256(bytes.fromhex(prev) + body.encode()).hexdigest()
        prev = r["hash"]

    suspend = find(recs, "sim.suspend", iccid)["record"]
    assert suspend["kind"] == "admin" and suspend["source"] == "cli"
    assert suspend["actor"].startswith("cli:")
    assert (suspend["before"], suspend["after"]) == ("active", "suspended")
    assert suspend["detail"] == {"reason": "lost in transit"}
    resume = find(recs, "sim.resume", iccid)["record"]
    assert (resume["before"], resume["after"]) == ("suspended", "active")
    policy = find(recs, "policy.set", "meters")["record"]
    assert policy["after"]["version"] == policy["before"]["version"] + 1
    assert find(recs, "tenant.create", "beta")
    assert find(recs, "group.create", "pumps")
    assert find(recs, "token.create", "ci-bot")
    # The daemon's disconnect is there, after the suspend that caused it.
    action = [r for r in recs if r["kind"] == "action"][-1]
    assert action["record"]["action"] == "disconnect"
    assert action["record"]["target"] in (iccid, imsi)
    assert action["seq"] > find(recs, "sim.suspend", iccid)["seq"]
    # Exactly one record per admin_log row and per action row.
    n_admin = len(daemon.db_rows("SELECT id FROM admin_log"))
    n_actions = len(daemon.db_rows("SELECT id FROM actions"))
    assert len(recs) == n_admin + n_actions

    r = daemon.cli("audit", "verify")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "audit chain intact: %d records, head %d %s" % (len(recs), len(recs), prev) in r.stdout


def test_list_filters_by_tenant_and_limits(daemon, changes):
    beta = records(daemon, "--tenant", "beta")
    assert [r["record"]["action"] for r in beta] == ["tenant.create", "group.create"]
    r = daemon.cli("audit", "list", "--limit", "2", check=True)
    lines = r.stdout.splitlines()
    assert lines[0].split()[:2] == ["SEQ", "TIME"] and len(lines) == 3, r.stdout
    assert '"action":"sim.resume"' in lines[2]


def test_a_refused_change_leaves_no_record(daemon, changes):
    before = len(records(daemon))
    assert daemon.cli("tenant", "create", "beta").returncode != 0
    assert daemon.cli("sim", "suspend", "8900000000000000000").returncode != 0
    assert len(records(daemon)) == before


def test_concurrent_writers_keep_one_chain(daemon, changes):
    before = len(records(daemon))
    procs = [subprocess.Popen([str(BIN), "-c", str(daemon.conf), "tenant", "create",
                               "parallel-%d" % i], cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for i in range(8)]
    for p in procs:
        out, err = p.communicate(timeout=60)
        check_sanitizer_output("tenant create", err)
        assert p.returncode == 0, out + err
    recs = records(daemon)
    assert len(recs) == before + 8
    assert [r["seq"] for r in recs] == list(range(1, len(recs) + 1))
    assert daemon.cli("audit", "verify").returncode == 0


# ---- tampering, each on a copy of the database ----

def tampered_verify(daemon, tmp_path, tamper, *args):
    copy = tmp_path / "copy.db"
    src = sqlite3.connect(str(daemon.db), timeout=10)
    dst = sqlite3.connect(str(copy))
    src.backup(dst)
    src.close()
    tamper(dst)
    dst.commit()
    dst.close()
    conf = tmp_path / "copy.conf"
    conf.write_text(daemon.conf.read_text().replace(str(daemon.db), str(copy))
                    .replace(str(daemon.control), str(tmp_path / "none.sock")))
    r = subprocess.run([str(BIN), "-c", str(conf), "audit", "verify", *args], capture_output=True,
                       text=True, cwd=REPO, timeout=60)
    check_sanitizer_output("audit verify", r.stderr)
    return r


def seq_of(daemon, action, target=None):
    return find(records(daemon), action, target)["seq"]


def test_a_changed_field_is_found(daemon, changes, tmp_path):
    iccid, _ = changes
    n = seq_of(daemon, "sim.suspend", iccid)
    r = tampered_verify(daemon, tmp_path, lambda db: db.execute(
        "UPDATE audit_chain SET body = replace(body, 'lost in transit', 'routine')"
        " WHERE seq = ?", (n,)))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "broken at record %d (changed)" % n in r.stdout, r.stdout
    assert "%d records verified before it" % (n - 1) in r.stdout


def test_a_changed_column_is_found(daemon, changes, tmp_path):
    n = seq_of(daemon, "token.create", "ci-bot")
    r = tampered_verify(daemon, tmp_path, lambda db: db.execute(
        "UPDATE audit_chain SET ts = ts + 3600000 WHERE seq = ?", (n,)))
    assert r.returncode == 1
    assert "broken at record %d (changed)" % n in r.stdout and "ts column" in r.stdout, r.stdout


def test_a_deleted_record_is_found(daemon, changes, tmp_path):
    iccid, _ = changes
    n = seq_of(daemon, "sim.suspend", iccid)
    r = tampered_verify(daemon, tmp_path, lambda db: db.execute(
        "DELETE FROM audit_chain WHERE seq = ?", (n,)))
    assert r.returncode == 1
    assert "broken at record %d (deleted)" % n in r.stdout, r.stdout


def test_the_last_record_deleted_is_found(daemon, changes, tmp_path):
    last = records(daemon)[-1]["seq"]
    r = tampered_verify(daemon, tmp_path, lambda db: db.execute(
        "DELETE FROM audit_chain WHERE seq = ?", (last,)))
    assert r.returncode == 1
    assert "broken at record %d (deleted)" % last in r.stdout, r.stdout


def test_an_inserted_record_is_found(daemon, changes, tmp_path):
    """A careful forgery: a record hashed onto its predecessor, the ones after
    it renumbered, the appended count raised; only the next link breaks."""
    iccid, _ = changes
    n = seq_of(daemon, "sim.resume", iccid)

    def insert(db):
        ts, prev = db.execute("SELECT ts, hash FROM audit_chain WHERE seq = ?", (n - 1,)).fetchone()
        rec = {"action": "sim.resume", "actor": "cli:mallory", "after": "active",
               "before": "suspended", "detail": None, "kind": "admin", "role": None,
               "seq": n, "source": "cli", "target": iccid, "tenant_id": 2, "ts": ts}
        body = json.dumps(rec, sort_keys=True, separators=(",", ":"))
        h = hashlib.sha256(bytes.fromhex(prev) + body.encode()).hexdigest()
        db.execute("UPDATE audit_chain SET seq = seq + 1000000 WHERE seq >= ?", (n,))
        db.execute("UPDATE audit_chain SET seq = seq - 999999 WHERE seq >= 1000000")
        db.execute("INSERT INTO audit_chain VALUES (?, ?, 2, 'admin', ?, ?, ?)",
                   (n, ts, body, prev, h))
        db.execute("UPDATE meta SET value = value + 1 WHERE key = 'audit_seq'")
    r = tampered_verify(daemon, tmp_path, insert)
    assert r.returncode == 1
    assert "broken at record %d (inserted)" % n in r.stdout, r.stdout


def test_a_copied_record_is_found(daemon, changes, tmp_path):
    iccid, _ = changes
    n = seq_of(daemon, "sim.suspend", iccid)
    last = records(daemon)[-1]["seq"]
    r = tampered_verify(daemon, tmp_path, lambda db: db.execute(
        "INSERT INTO audit_chain SELECT ?, ts, tenant_id, kind, body, prev_hash, hash"
        " FROM audit_chain WHERE seq = ?", (last + 1, n)))
    assert r.returncode == 1
    assert "broken at record %d (inserted)" % (last + 1) in r.stdout, r.stdout
    assert "copy of record %d" % n in r.stdout


def test_swapped_records_are_found(daemon, changes, tmp_path):
    iccid, _ = changes
    a = seq_of(daemon, "policy.set", "meters")
    b = seq_of(daemon, "token.create", "ci-bot")
    assert a < b

    def swap(db):
        db.execute("UPDATE audit_chain SET seq = -1 WHERE seq = ?", (a,))
        db.execute("UPDATE audit_chain SET seq = ? WHERE seq = ?", (a, b))
        db.execute("UPDATE audit_chain SET seq = ? WHERE seq = -1", (b,))
    r = tampered_verify(daemon, tmp_path, swap)
    assert r.returncode == 1
    assert "broken at record %d (reordered)" % a in r.stdout, r.stdout


def test_a_rewritten_chain_is_found_against_a_published_head(daemon, changes, tmp_path):
    """Someone who re-hashes every record from the one they changed to the
    end gets a chain that verifies by itself; the head published before
    (here: printed by verify) is no longer in it."""
    iccid, _ = changes
    n = seq_of(daemon, "sim.suspend", iccid)
    head = records(daemon)[-1]
    published = "%d:%s" % (head["seq"], head["hash"])

    def rewrite(db):
        rows = db.execute("SELECT seq, body FROM audit_chain WHERE seq >= ? ORDER BY seq",
                          (n,)).fetchall()
        prev = db.execute("SELECT hash FROM audit_chain WHERE seq = ?", (n - 1,)).fetchone()[0]
        for seq, body in rows:
            if seq == n:
                body = body.replace("lost in transit", "routine")
            h = hashlib.sha256(bytes.fromhex(prev) + body.encode()).hexdigest()
            db.execute("UPDATE audit_chain SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                       (body, prev, h, seq))
            prev = h
    r = tampered_verify(daemon, tmp_path, rewrite)
    assert r.returncode == 0 and "intact" in r.stdout, r.stdout
    r = tampered_verify(daemon, tmp_path, rewrite, "--head", published)
    assert r.returncode == 1
    assert "broken at record %d (changed)" % head["seq"] in r.stdout, r.stdout
    assert "rewritten" in r.stdout
    # The untouched chain does hold the published head.
    assert daemon.cli("audit", "verify", "--head", published).returncode == 0


def test_the_untouched_chain_still_verifies(daemon, changes):
    assert daemon.cli("audit", "verify").returncode == 0


# ---- the command line ----

def test_help(daemon):
    r = daemon.cli("audit", "--help")
    assert r.returncode == 0 and "audit verify" in r.stdout and "audit list" in r.stdout
    assert "changed, deleted, inserted or reordered" in r.stdout
    r = daemon.cli("--help")
    assert "audit" in r.stdout


@pytest.mark.parametrize("args, status, message", [
    (("audit",), 2, "usage: m2mguard audit verify"),
    (("audit", "bogus"), 2, "usage: m2mguard audit verify"),
    (("audit", "verify", "extra"), 2, "usage: m2mguard audit verify"),
    (("audit", "list", "extra"), 2, "usage: m2mguard audit verify"),
    (("audit", "list", "--limit", "x"), 2, "--limit must be a number from 0 to "),
    (("audit", "list", "--limit", "-1"), 2, "--limit must be a number from 0 to "),
    (("audit", "list", "--limit", "5x"), 2, "--limit must be a number from 0 to "),
    (("audit", "list", "--bogus"), 2, "usage: m2mguard audit verify"),
    (("audit", "list", "--tenant"), 2, "usage: m2mguard audit verify"),
    (("audit", "list", "--tenant", "nosuch"), 1, 'no tenant "nosuch"'),
    (("audit", "verify", "--head"), 2, "usage: m2mguard audit verify"),
    (("audit", "verify", "--head", "12"), 2, "--head must be SEQ:HASH"),
    (("audit", "verify", "--head", "x:" + "0" * 64), 2, "--head must be SEQ:HASH"),
    (("audit", "verify", "--head", "0:" + "0" * 64), 2, "--head must be SEQ:HASH"),
    (("audit", "verify", "--head", "3:" + "0" * 63), 2, "--head must be SEQ:HASH"),
    (("audit", "verify", "--head", "3:" + "A" * 64), 2, "--head must be SEQ:HASH"),
])
def test_bad_arguments_are_refused(daemon, args, status, message):
    r = daemon.cli(*args)
    assert r.returncode == status, (args, r.stdout, r.stderr)
    assert message in r.stderr, r.stderr
    assert r.stdout == ""
