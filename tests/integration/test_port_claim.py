"""
Scenario: a second m2mguard (another configuration, another database) is
started on the RADIUS ports a running one listens on.  SO_REUSEPORT would
let it quietly take half of the GGSN's traffic; instead it waits a few
seconds (a restarting predecessor lets go of its ports in that time), then
exits with status 1 and says which ports and why.  The first one keeps
answering.
"""
import subprocess
import time

from conftest import BIN


def test_second_daemon_on_the_same_ports_is_refused(daemon_factory):
    first = daemon_factory("claim-first")
    second = daemon_factory("claim-second", start=False)
    second.port = first.port
    second.write_config()
    t0 = time.monotonic()
    r = subprocess.run([str(BIN), "-c", str(second.conf), "serve"], capture_output=True,
                       text=True, timeout=30)
    waited = time.monotonic() - t0
    assert r.returncode == 1, r.stderr
    assert "RADIUS ports busy; waiting up to 3 s" in r.stderr
    assert ("cannot listen on 127.0.0.1:%d (auth)" % first.port) in r.stderr
    assert "another m2mguard listens there" in r.stderr
    assert waited >= 2.5, waited
    nas = first.client()
    try:
        assert nas.status_server() is not None
    finally:
        nas.close()
