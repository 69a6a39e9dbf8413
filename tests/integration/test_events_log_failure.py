"""
Scenario: the event log cannot be written (here /dev/full: every write
fails with ENOSPC, as on a full disk).  Before the hardening pass
(docs/hardening.md) the failed fwrite()/fflush() results were ignored and
event lines vanished without a word.  Now the first failure is logged as an
error, once, and the daemon goes on: decisions are answered and every
finding is still in the store.
"""
import os
from pathlib import Path

import pytest

from conftest import FLEET, imeisv_of

UNKNOWN = "001019999999997"


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    d = daemon_factory("events-full", start=False)
    d.events = Path("/dev/full")
    d.write_config()
    return d.start()


def test_failed_event_writes_are_reported_once_and_findings_are_kept(daemon, nas):
    for i in range(3):
        reply = nas.access(imsi=UNKNOWN, imeisv="35332811999999%02d" % i, plmn="23415")
        assert reply is not None and reply.rejected, reply
        daemon.flush()          # one journal batch, one failing flush, each time
    assert len(daemon.findings(kind="sim_unknown", subject=UNKNOWN)) >= 1

    log = daemon.stderr()
    failures = [x for x in log.splitlines() if "events log: write failed" in x]
    assert len(failures) == 1, log
    assert "No space left on device" in failures[0], failures[0]
    assert "events log: writing again" not in log, log     # /dev/full never recovers

    # Authentication goes on.
    imsi, row = sorted(FLEET.items())[0]
    reply = nas.access(imsi=imsi, imeisv=imeisv_of(row["imei"]), plmn="23415")
    assert reply is not None
