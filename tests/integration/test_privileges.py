"""
Scenario: the daemon runs with least privilege (docs/hardening.md).

Started as root (as the CI runs), `serve` binds its sockets and becomes
the configuration's `user` (here nobody) for good: every uid and gid of
every thread that user's, no capability, PR_SET_NO_NEW_PRIVS, and the
seccomp filter on every thread (/proc/PID/task/*/status: Seccomp 2).
What it creates is that user's (the store, its lock, the event log, the
control socket, 0660, with the user's group).  Start-up refuses, naming
the file and the fix: a configuration with secrets that every user can
read; as root, a configuration the user could not re-read on a reload, a
database directory it cannot write, no `user` line when the default
account does not exist.  `user root` keeps root and says so;
`seccomp off` runs without the filter and says so.  Started as an
ordinary user, `serve` cannot switch to another.  Webhook deliveries
(libcurl: name lookups, IPv6, TLS) work under the filter.
"""
import os
import pwd
import socket
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from conftest import (BIN, DAEMON_USER, FLEET, create_token, daemon_ids, free_tcp_port,
                      wait_until)

AS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the daemon drops from root")


def read_status(path):
    """The fields of a /proc status file, each as its list of words."""
    fields = {}
    for line in Path(path).read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.split()
    return fields


def status_of(pid):
    return read_status("/proc/%d/status" % pid)


def task_statuses(pid):
    """The status of every thread of the process."""
    return [read_status(t / "status") for t in Path("/proc/%d/task" % pid).iterdir()]


def serve(daemon, timeout=15, **kw):
    """Run `serve` on the daemon's configuration, expecting it to stop by itself."""
    return subprocess.run([str(BIN), "-c", str(daemon.conf), "serve"], capture_output=True,
                          text=True, timeout=timeout, cwd=daemon.dir, **kw)


def test_every_thread_is_unprivileged_and_filtered(daemon):
    tasks = task_statuses(daemon.proc.pid)
    # The workers, accounting, journal, checkpointer, dynamic authorization.
    assert len(tasks) >= 2 * daemon.workers + 4, len(tasks)
    uid, gid = daemon_ids()
    for t in tasks:
        name = t["Name"]
        assert t["Seccomp"] == ["2"], (name, t["Seccomp"])
        assert t["NoNewPrivs"] == ["1"], (name, t["NoNewPrivs"])
        assert t["Uid"] == [str(uid)] * 4, (name, t["Uid"])
        assert t["Gid"] == [str(gid)] * 4, (name, t["Gid"])
        assert int(t["CapEff"][0], 16) == 0 and int(t["CapPrm"][0], 16) == 0, (name, t)
        if DAEMON_USER is not None:
            assert "0" not in t["Groups"], (name, t["Groups"])
    log = daemon.stderr()
    if DAEMON_USER is not None:
        assert "running as user %s (uid %d)" % (DAEMON_USER, uid) in log, log
    assert "seccomp on" in log, log


def test_what_the_daemon_creates_is_its_users(daemon):
    uid, gid = daemon_ids()
    daemon.flush()
    made = [daemon.db, Path(str(daemon.db) + "-wal"), Path(str(daemon.db) + "-shm"),
            Path(str(daemon.db) + ".lock"), daemon.events]
    for path in made:
        st = path.stat()
        assert (st.st_uid, st.st_gid) == (uid, gid), (path, st.st_uid, st.st_gid)
        # umask 027: nothing the daemon writes is for every user to read.
        assert stat.S_IMODE(st.st_mode) & 0o007 == 0, (path, oct(st.st_mode))
    st = daemon.control.stat()
    assert stat.S_ISSOCK(st.st_mode)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (uid, gid, 0o660), \
        (st.st_uid, st.st_gid, oct(st.st_mode))


def test_secrets_readable_by_every_user_are_refused(daemon_factory):
    d = daemon_factory("world-readable", start=False)
    for mode, what in ((0o644, "readable"), (0o602, "writable"), (0o646, "readable and writable")):
        os.chmod(d.conf, mode)
        r = serve(d)
        assert r.returncode == 1, r.stderr
        expected = ("%s: holds RADIUS shared secrets and is %s by every user; fix: chmod o-rwx %s"
                    % (d.conf, what, d.conf))
        assert expected in r.stderr, r.stderr
        # check-config says the same: what serve refuses is not OK.
        r = d.cli("check-config")
        assert r.returncode == 1 and expected in r.stderr, r.stderr
    os.chmod(d.conf, 0o640)
    d.start()
    assert d.alive()


def test_a_reload_refuses_secrets_readable_by_every_user(daemon):
    c = daemon.client()
    try:
        os.chmod(daemon.conf, 0o644)
        out = daemon.ctl("reload")
        assert out.startswith("error: not reloaded: %s: holds RADIUS shared secrets and is "
                              "readable by every user" % daemon.conf), out
        assert daemon.alive()
        assert c.status_server() is not None
    finally:
        os.chmod(daemon.conf, 0o640)
        c.close()
    assert daemon.ctl("reload").startswith("ok")


@AS_ROOT
def test_a_configuration_the_user_cannot_reread_is_refused(daemon_factory):
    d = daemon_factory("unreadable-conf", start=False)
    os.chmod(d.conf, 0o600)             # root's alone: a SIGHUP would fail later
    r = serve(d)
    assert r.returncode == 1, r.stderr
    assert ("%s is not readable by user %s, which the daemon runs as (Permission denied): "
            "a reload would fail" % (d.conf, DAEMON_USER)) in r.stderr, r.stderr


@AS_ROOT
def test_a_database_directory_the_user_cannot_write_is_refused(daemon_factory):
    d = daemon_factory("root-db-dir", start=False)
    root_dir = d.dir / "root-only"
    root_dir.mkdir(mode=0o755)          # root's: SQLite could not make its -wal there
    d.write_config(text=d.config_text().replace(str(d.db), str(root_dir / "m2mguard.db")))
    r = serve(d)
    assert r.returncode == 1, r.stderr
    assert ("database %s: its directory %s is not writable by user %s"
            % (root_dir / "m2mguard.db", root_dir, DAEMON_USER)) in r.stderr, r.stderr
    assert "chown %s %s" % (DAEMON_USER, root_dir) in r.stderr, r.stderr


@AS_ROOT
def test_without_a_user_line_root_needs_the_default_account(daemon_factory):
    try:
        pwd.getpwnam("m2mguard")
        pytest.skip("this machine has an m2mguard account: the daemon would use it")
    except KeyError:
        pass
    d = daemon_factory("no-user-line", start=False)
    d.write_config(text=d.config_text().replace("user      %s\n" % DAEMON_USER, ""))
    r = serve(d)
    assert r.returncode == 1, r.stderr
    assert 'started as root, and the default user "m2mguard" does not exist: create it ' \
           '(useradd --system' in r.stderr, r.stderr
    assert "`user root` keeps root" in r.stderr, r.stderr


@AS_ROOT
def test_user_root_keeps_root_but_not_the_filter_off(daemon_factory):
    d = daemon_factory("as-root", conf_extra="user root\n")
    st = status_of(d.proc.pid)
    assert st["Uid"] == ["0"] * 4, st["Uid"]
    assert st["Seccomp"] == ["2"] and st["NoNewPrivs"] == ["1"], st
    assert "running as root (`user root` in %s): not recommended" % d.conf in d.stderr()


@AS_ROOT
def test_started_unprivileged_it_cannot_switch_users(daemon_factory):
    d = daemon_factory("unprivileged", start=False)
    uid, gid = daemon_ids()

    def become_user():
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    d.write_config(text=d.config_text().replace("user      %s\n" % DAEMON_USER, "user root\n"))
    r = serve(d, preexec_fn=become_user)
    assert r.returncode == 1, r.stderr
    assert ("%s: user root: only root can switch users, and m2mguard was started as uid %d"
            % (d.conf, uid)) in r.stderr, r.stderr
    # Naming itself is fine: it runs as that user, filtered.
    d.write_config()
    d.logf = open(d.log, "ab")
    d.proc = subprocess.Popen([str(BIN), "-c", str(d.conf), "serve"], stdout=d.logf,
                              stderr=subprocess.STDOUT, cwd=d.dir, preexec_fn=become_user)
    wait_until(lambda: "m2mguard ready" in d.stderr() or d.proc.poll() is not None,
               timeout=10, what="the daemon started as %s" % DAEMON_USER)
    st = status_of(d.proc.pid)
    assert st["Uid"] == [str(uid)] * 4 and st["Seccomp"] == ["2"], st


def test_seccomp_off_runs_without_the_filter_and_says_so(daemon_factory):
    d = daemon_factory("seccomp-off", conf_extra="seccomp off\n")
    for t in task_statuses(d.proc.pid):
        assert t["Seccomp"] == ["0"], t["Seccomp"]
        assert t["NoNewPrivs"] == ["1"], t["NoNewPrivs"]
    assert "seccomp off: running without the system call filter" in d.stderr()
    c = d.client()
    try:
        assert c.status_server() is not None
    finally:
        c.close()


class Listener(threading.Thread):
    """A TCP server that records the first bytes of each connection and
    answers an HTTP 204 (what a webhook receiver does), or nothing."""

    def __init__(self, family=socket.AF_INET, host="127.0.0.1", answer=True):
        super().__init__(daemon=True)
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.answer = answer
        self.first_bytes = []
        self.stop_event = threading.Event()
        self.start()

    def run(self):
        while not self.stop_event.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    self.first_bytes.append(conn.recv(4096))
                    if self.answer:
                        conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass

    def close(self):
        self.stop_event.set()
        self.join(5)
        self.sock.close()


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def test_the_filter_lets_webhooks_look_up_names_use_ipv6_and_tls(daemon_factory):
    """A webhook delivery runs libcurl under the filter: its IPv6 probe, a
    name looked up by its threaded resolver (DNS, for a name that does not
    exist), an IPv6 receiver, a TLS handshake (OpenSSL loading the CA
    certificates; the receiver is no TLS server, so it fails).  The daemon
    must survive all of them, and the receivers get their event."""
    api_port = free_tcp_port()
    d = daemon_factory("webhooks-filtered", conf_extra="listen api 127.0.0.1:%d\n"
                       "webhook-timeout 2000\n" % api_port)
    token = create_token(d, "hooks", "admin", "acme")
    v4 = Listener()
    v6 = Listener(socket.AF_INET6, "::1") if ipv6_loopback() else None
    tls = Listener(answer=False)
    urls = ["http://localhost:%d/hook" % v4.port, "http://no-such-host.invalid/hook",
            "https://127.0.0.1:%d/hook" % tls.port]
    if v6:
        urls.append("http://[::1]:%d/hook" % v6.port)
    try:
        for url in urls:
            r = requests.post("http://127.0.0.1:%d/v1/webhooks" % api_port, timeout=10,
                              headers={"Authorization": "Bearer " + token},
                              json={"url": url, "events": ["finding.imei_mismatch"]})
            assert r.status_code == 201, r.text
        meter = next(row for row in FLEET.values() if row["tenant"] == "acme" and row["imei"])
        c = d.client()
        try:
            reply = c.access(imsi=meter["imsi"], imeisv="3500000000000001")  # not its device
            assert reply is not None and reply.rejected, reply
        finally:
            c.close()
        wait_until(lambda: v4.first_bytes and tls.first_bytes and (not v6 or v6.first_bytes),
                   timeout=15, what="every receiver reached")
        assert v4.first_bytes[0].startswith(b"POST /hook "), v4.first_bytes
        assert tls.first_bytes[0][:1] == b"\x16", tls.first_bytes     # a TLS ClientHello
        if v6:
            assert v6.first_bytes[0].startswith(b"POST /hook "), v6.first_bytes
        time.sleep(0.5)     # the name that does not exist: its lookup and failure
        assert d.alive(), d.stderr()
        assert "seccomp: system call" not in d.stderr()
    finally:
        for listener in (v4, v6, tls):
            if listener:
                listener.close()
