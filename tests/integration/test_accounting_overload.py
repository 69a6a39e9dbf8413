"""
Scenario: a burst larger than the accounting queue (`acct-queue 64`, the
smallest allowed).  What does not fit is dropped by the listener and
counted (accounting.overload = radius.dropped.overload), never answered;
everything answered is stored; memory does not grow.  The NAS then
retransmits what it did not hear back about, at a pace the store keeps up
with, and every record ends up counted exactly once.
"""
import socket

import pytest

from conftest import ACCT_INTERIM, acct_listen_line, verify_acct_reply

BURST = 1500
IMSI = "234151000000038"


@pytest.fixture(scope="module")
def daemon(daemon_factory):
    return daemon_factory("acct-overload", conf_extra=acct_listen_line() + "acct-queue 64\n")


def test_burst_beyond_the_queue_is_dropped_counted_and_recovered(daemon):
    nas = daemon.acct_client()
    try:
        nas.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
        reqs = {}
        for i in range(BURST):
            reqs[i] = nas.build_acct(ACCT_INTERIM, ident=i % 256, session_id="ov-%04d" % i,
                                     imsi=IMSI, in_octets=i + 1, out_octets=1, session_time=60)
        before = daemon.stats()
        for raw in reqs.values():
            nas.send_raw(raw)
        answered = set()

        def collect(expect, timeout):
            nas.sock.settimeout(timeout)
            try:
                while len(answered) < expect:
                    data, _ = nas.sock.recvfrom(4096)
                    # Several requests share an identifier: find the one it answers.
                    for i in range(data[1], BURST, 256):
                        if i in answered:
                            continue
                        try:
                            verify_acct_reply(data, reqs[i], nas.secret)
                        except AssertionError:
                            continue
                        answered.add(i)
                        break
                    else:
                        raise AssertionError("an Accounting-Response that answers nothing sent")
            except socket.timeout:
                pass

        collect(BURST, 1.0)
        st = daemon.stats()      # nothing answered for 1 s: the queue is empty
        acct, radius = st["accounting"], st["radius"]
        overload = acct["overload"] - before["accounting"]["overload"]
        assert overload > 0, "the burst did not fill a 64-record queue"
        assert radius["dropped"]["overload"] - before["radius"]["dropped"]["overload"] == overload
        records = acct["records"] - before["accounting"]["records"]
        assert records == len(answered)
        # Whatever the kernel did not drop was either queued or counted.
        received = radius["received"] - before["radius"]["received"]
        assert received == records + overload
        rows = {r["acct_session_id"] for r in daemon.db_rows(
            "SELECT acct_session_id FROM acct_records WHERE acct_session_id LIKE 'ov-%'")}
        assert rows == {"ov-%04d" % i for i in answered}

        # The NAS retransmits the rest, 32 at a time.
        missing = [i for i in range(BURST) if i not in answered]
        for k in range(0, len(missing), 32):
            chunk = missing[k:k + 32]
            for i in chunk:
                nas.send_raw(reqs[i])
            collect(len(answered) + len(chunk), 2.0)
        assert len(answered) == BURST
    finally:
        nas.close()
    total = daemon.db_rows("SELECT count(*) AS n, sum(in_octets) AS i FROM sessions"
                           " WHERE acct_session_id LIKE 'ov-%'")[0]
    assert total["n"] == BURST
    assert total["i"] == BURST * (BURST + 1) // 2
    assert daemon.usage(IMSI) == (BURST * (BURST + 1) // 2, BURST)
