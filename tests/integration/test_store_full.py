"""
Scenario: the database's file system fills up, or is read-only.

The database lives on a small tmpfs the test mounts (skipped when mount is
not permitted); the daemon's log, events and control socket stay outside.
A filler file takes every free block.  Then:
  - Accounting-Requests: the daemon acknowledges only what it stored.  A
    NAS sends new records until one goes unanswered (SQLite has some room
    left in its WAL at first); from then on nothing is answered, the
    failures are counted (accounting.store_errors) and logged — once, not
    one line per batch — and Access-Requests are still answered (auth
    does not write the database on its path).
  - `m2mguard sim suspend` fails with a message that says the disk is full
    and changes nothing.
  - The filler is deleted: the NAS's retransmissions are acknowledged
    without anyone restarting anything, the daemon logs that it is storing
    again, and every acknowledged record is in acct_records.

Read-only: Linux refuses `mount -o remount,ro` while a file on it is open
for writing (EBUSY), so a running daemon's open database cannot be made
read-only underneath it (short of the kernel forcing it after an I/O
error, which SQLite reports as an I/O error — the disk-full path).  What
does happen is a database that is read-only when opened: SQLite then opens
it read-only and every write is SQLITE_READONLY.  The test checks that the
remount is refused while the daemon runs; with the daemon stopped and the
file system read-only, `sim suspend` fails clearly and `serve` refuses to
start with a message naming the database; after `remount,rw` the daemon
starts and nothing was changed.
"""
import errno
import os
import re
import shutil
import subprocess

import pytest

from conftest import (ACCT_START, BIN, FLEET, acct_listen_line, daemon_ids,
                      imeisv_of, wait_until)

HOME = "23415"
IMSIS = sorted(FLEET)
TMPFS_SIZE = "8m"


def mount(*args):
    return subprocess.run(["mount", *args], capture_output=True, text=True)


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    """A daemon whose database is on a tmpfs of its own."""
    d = daemon_factory("store-full", start=False, conf_extra=acct_listen_line())
    fs = d.dir / "fs"
    fs.mkdir()
    uid, gid = daemon_ids()
    r = mount("-t", "tmpfs", "-o", "size=%s,mode=0755,uid=%d,gid=%d" % (TMPFS_SIZE, uid, gid),
              "tmpfs", str(fs))
    if r.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: %s" % r.stderr.strip())
    try:
        for suffix in ("", "-wal", "-shm"):
            src = d.dir / ("m2mguard.db" + suffix)
            if src.exists():
                st = src.stat()
                shutil.copy2(src, fs / src.name)
                os.chown(fs / src.name, st.st_uid, st.st_gid)
                src.unlink()
        d.db = fs / "m2mguard.db"
        d.write_config(extra=acct_listen_line())
        d.fs = fs
        d.start()
        yield d
    finally:
        rc = d.stop()
        subprocess.run(["umount", "-l", str(fs)], capture_output=True)
    assert rc in (None, 0), "the daemon exited with %s on SIGTERM" % rc


def fill(fs):
    """A file that takes every free block of `fs`; its path."""
    path = fs / "filler"
    with open(path, "wb", buffering=0) as f:
        for size in (1 << 20, 1 << 12, 1):
            chunk = bytes(size)
            try:
                while True:
                    f.write(chunk)
                    f.flush()
            except OSError as e:
                assert e.errno == errno.ENOSPC, e
    st = os.statvfs(fs)
    assert st.f_bavail == 0, "the filler left %d blocks" % st.f_bavail
    return path


def access_ok(daemon, k):
    imsi = IMSIS[k % 10]
    c = daemon.client(timeout=2.0)
    try:
        r = c.access(imsi=imsi, imeisv=imeisv_of(FLEET[imsi]["imei"]), plmn=HOME)
    finally:
        c.close()
    return r is not None and r.accepted


def log_lines(daemon, pattern):
    return [ln for ln in daemon.stderr().splitlines() if re.search(pattern, ln)]


def stored(daemon, session_ids):
    rows = daemon.db_rows("SELECT acct_session_id, status, in_octets FROM acct_records")
    got = {(r["acct_session_id"], r["status"], r["in_octets"]) for r in rows}
    return [s for s in session_ids if s not in got]


def test_disk_full_nothing_unstored_is_acknowledged(daemon):
    assert access_ok(daemon, 0)
    nas = daemon.acct_client(timeout=0.3)
    filler = fill(daemon.fs)
    errors0 = daemon.acct_stats()["store_errors"]
    acked, refused = [], []
    try:
        # New records until one is not answered: SQLite may still have room
        # in pages it allocated before.
        for n in range(5000):
            sid = "full-%05d" % n
            imsi = IMSIS[20 + n % 20]
            raw = nas.build_acct(ACCT_START, session_id=sid, imsi=imsi, in_octets=n,
                                 out_octets=0, session_time=0)
            if nas.acct_exchange(raw) is None:
                refused.append(((sid, ACCT_START, n), raw))
                break
            acked.append((sid, ACCT_START, n))
        assert refused, "5000 records stored on a full file system?"
        # The same and more are refused while the disk is full, and are
        # counted; auth still answers.
        for n in range(5000, 5010):
            sid = "full-%05d" % n
            raw = nas.build_acct(ACCT_START, session_id=sid, imsi=IMSIS[20 + n % 20],
                                 in_octets=n, out_octets=0, session_time=0)
            assert nas.acct_exchange(raw) is None, "record %s acknowledged on a full disk" % sid
            refused.append(((sid, ACCT_START, n), raw))
        for _, raw in refused[:3]:
            assert nas.acct_exchange(raw) is None, "a retransmission acknowledged on a full disk"
        st = daemon.acct_stats()
        assert st["store_errors"] > errors0, st
        for k in range(5):
            assert access_ok(daemon, k), "Access-Request not answered while the disk is full"
        full = log_lines(daemon, r"accounting: .*not (stored|acknowledged).*full")
        assert full, "no log line says the database is full:\n" + daemon.stderr()[-3000:]
        # One line when storing fails, not one per batch.
        assert len(full) == 1, "\n".join(full[:20])

        # An administrative change fails, clearly, and changes nothing.
        iccid = FLEET[IMSIS[50]]["iccid"]
        r = daemon.cli("sim", "suspend", iccid, "--reason", "disk full")
        assert r.returncode != 0, r.stdout
        assert re.search(r"full", r.stderr), r.stderr
        assert "is now" not in r.stdout

        # Space again: the NAS retransmits; the daemon stores and answers
        # without a restart, and says so.
        os.unlink(filler)
        errors1 = daemon.acct_stats()["store_errors"]

        def retransmit():
            for rec, raw in list(refused):
                if nas.acct_exchange(raw) is not None:
                    acked.append(rec)
                    refused.remove((rec, raw))
            return not refused
        wait_until(retransmit, timeout=10.0, interval=0.2,
                   what="the retransmissions acknowledged after the disk has room")
        assert log_lines(daemon, r"accounting: .*stor(ed|ing) again"), daemon.stderr()[-3000:]
        assert daemon.acct_stats()["store_errors"] - errors1 <= 1
    finally:
        nas.close()
        if filler.exists():
            os.unlink(filler)
    missing = stored(daemon, acked)
    assert not missing, "acknowledged but not stored: %r" % missing[:10]
    assert daemon.sim_state(iccid) == "active"
    r = daemon.cli("sim", "suspend", iccid, "--reason", "disk has room")
    assert r.returncode == 0, r.stderr
    assert daemon.sim_state(iccid) == "suspended"
    assert daemon.cli("audit", "verify").returncode == 0


def test_read_only_file_system(daemon):
    # A running daemon holds its files open for writing: Linux refuses.
    r = mount("-o", "remount,ro", str(daemon.fs))
    assert r.returncode != 0, "remount,ro succeeded under a running daemon"
    assert "busy" in r.stderr, r.stderr
    assert daemon.alive()

    iccid = FLEET[IMSIS[51]]["iccid"]
    n_records = len(daemon.db_rows("SELECT id FROM acct_records"))
    assert daemon.stop() == 0
    r = mount("-o", "remount,ro", str(daemon.fs))
    assert r.returncode == 0, r.stderr
    try:
        r = daemon.cli("sim", "suspend", iccid, "--reason", "read-only")
        assert r.returncode != 0, r.stdout
        assert re.search(r"(?i)read-only|readonly", r.stderr), r.stderr
        before = len(daemon.stderr())
        proc = subprocess.run([str(BIN), "-c", str(daemon.conf), "serve"],
                              capture_output=True, text=True, timeout=30)
        assert proc.returncode != 0, "serve started on a read-only database"
        assert re.search(r"(?i)read-only|readonly", proc.stdout + proc.stderr), \
            proc.stdout + proc.stderr
        assert str(daemon.db) in proc.stdout + proc.stderr, proc.stdout + proc.stderr
        assert before == len(daemon.stderr())
    finally:
        r = mount("-o", "remount,rw", str(daemon.fs))
        assert r.returncode == 0, r.stderr
    daemon.start()
    assert daemon.sim_state(iccid) == "active"
    assert len(daemon.db_rows("SELECT id FROM acct_records")) == n_records
    assert access_ok(daemon, 1)
    assert daemon.cli("audit", "verify").returncode == 0
