"""
Scenario: etc/m2mguard.service, the systemd unit (docs/operator-guide.md §1).

`systemd-analyze verify` accepts it (with ExecStart pointed at the binary
under test), and `systemd-analyze security` rates its exposure at most
MAX_EXPOSURE.  The daemon starts with nothing but the unit's capability
bounding set (setpriv as root, as systemd would start it): binds a port
below 1024, gives the control socket to its user, drops to it.  Each part
skips when its tool is missing (no systemd-analyze, not root, no setpriv).
"""
import os
import re
import shutil
import socket
import subprocess

import pytest

from conftest import BIN, DAEMON_USER, REPO, daemon_ids, wait_until

UNIT = REPO / "etc" / "m2mguard.service"
ANALYZE = shutil.which("systemd-analyze")
SETPRIV = shutil.which("setpriv")
# systemd 252 rates 0 (locked down) to 10; the unit scores 2.4 ("OK").
# The rest is what a daemon that starts as root and serves a network needs.
MAX_EXPOSURE = 3.0


def unit_for_test(tmp_path):
    """The unit with ExecStart naming the binary under test: verify checks
    that the command exists."""
    path = tmp_path / "m2mguard.service"
    path.write_text(UNIT.read_text().replace("/usr/local/bin/m2mguard", str(BIN)))
    return path


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path):
    r = subprocess.run([ANALYZE, "verify", str(unit_for_test(tmp_path))],
                       capture_output=True, text=True, timeout=60)
    # Other units on the machine may draw warnings; only this one's count.
    ours = [line for line in r.stderr.splitlines() if "m2mguard.service" in line]
    assert r.returncode == 0 and not ours, r.stderr


@pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")
def test_the_units_exposure_is_low(tmp_path):
    r = subprocess.run([ANALYZE, "security", "--offline=true", str(unit_for_test(tmp_path))],
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for m2mguard\.service: (\d+\.\d+)", r.stdout)
    if m is None and "--offline" in r.stderr:
        pytest.skip("this systemd-analyze cannot rate a unit file offline")
    assert m, r.stdout + r.stderr
    exposed = "\n".join(line for line in r.stdout.splitlines() if "✗" in line)
    assert float(m.group(1)) <= MAX_EXPOSURE, exposed


def bounding_set():
    """The unit's CapabilityBoundingSet=, as setpriv writes it."""
    m = re.search(r"^CapabilityBoundingSet=(.+)$", UNIT.read_text(), re.M)
    assert m, "the unit has no CapabilityBoundingSet="
    caps = [c.lower().replace("cap_", "") for c in m.group(1).split()]
    return "-all," + ",".join("+" + c for c in caps)


def free_low_udp_pair():
    """A port below 1024 free for UDP with the next one (accounting)."""
    for port in range(700, 1000, 2):
        socks = []
        try:
            for p in (port, port + 1):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    pytest.skip("no free UDP port pair below 1024")


@pytest.mark.skipif(os.geteuid() != 0 or SETPRIV is None,
                    reason="needs root and setpriv to start as systemd would")
def test_the_units_capabilities_are_enough_to_start(daemon_factory):
    d = daemon_factory("systemd-caps", start=False)
    port = free_low_udp_pair()
    # As under the unit: the control socket in a root-owned directory
    # (/run/m2mguard), reached without CAP_DAC_OVERRIDE (not in the set).
    run = d.dir / "run"
    run.mkdir(mode=0o755)
    os.chmod(d.dir, 0o711)
    d.control = run / "control.sock"
    d.port = port
    d.write_config()
    d.logf = open(d.log, "ab")
    d.proc = subprocess.Popen([SETPRIV, "--bounding-set", bounding_set(), "--inh-caps", "-all",
                               "--", str(BIN), "-c", str(d.conf), "serve"],
                              stdout=d.logf, stderr=subprocess.STDOUT, cwd=d.dir)
    wait_until(lambda: "m2mguard ready" in d.stderr() or d.proc.poll() is not None,
               timeout=15, what="the daemon under the unit's capabilities")
    assert d.proc.poll() is None, d.stderr()
    assert "RADIUS auth on 127.0.0.1:%d" % port in d.stderr()
    uid, gid = daemon_ids()
    st = d.control.stat()
    assert (st.st_uid, st.st_gid) == (uid, gid)
    assert "running as user %s" % DAEMON_USER in d.stderr()
    c = d.client()
    try:
        assert c.status_server() is not None
    finally:
        c.close()
