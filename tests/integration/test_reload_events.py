"""
Scenario: the operator reloads (SIGHUP) again and again while findings are
being written to the event log.  A reload reopens the event log from the
main thread; the journal thread writes event lines at the same time.
Before the hardening pass (docs/hardening.md) nothing ordered the two:
log_events_open() fclose()d the FILE the writer was using (ThreadSanitizer:
a data race between log_events_open and log_event_line; a use after free
for ASan when the timing falls that way).  Now both take the event log's
lock, and every finding in the store has its line in the event log.
"""
import signal
import threading
import time

UNKNOWN_PREFIX = "00101"        # a test PLMN: no SIM of the fleet
RELOADS = 40


def test_every_finding_reaches_the_event_log_across_reloads(daemon):
    stop = threading.Event()
    errors = []

    def flood(k):
        c = daemon.client(timeout=0.5)
        try:
            i = 0
            while not stop.is_set():
                # A new unknown IMSI each time: each is a sim_unknown finding.
                c.access(imsi="%s%d%09d" % (UNKNOWN_PREFIX, k, i), imeisv="3533281199999901",
                         plmn="23415")
                i += 1
        except Exception as e:          # reported below
            errors.append(e)
        finally:
            c.close()

    nases = [threading.Thread(target=flood, args=(k,)) for k in range(3)]
    for t in nases:
        t.start()
    try:
        for _ in range(RELOADS):
            daemon.signal(signal.SIGHUP)
            time.sleep(0.05)
    finally:
        stop.set()
        for t in nases:
            t.join(10)
    assert not errors, errors
    assert daemon.alive()
    assert daemon.stderr().count("configuration reloaded") == RELOADS

    stored = {f["subject"] for f in daemon.findings(kind="sim_unknown")
              if f["subject"].startswith(UNKNOWN_PREFIX)}
    logged = {e["subject"] for e in daemon.event_lines("finding")
              if e.get("kind") == "sim_unknown" and e["subject"].startswith(UNKNOWN_PREFIX)}
    assert len(stored) > RELOADS, "too few findings to overlap the reloads: %d" % len(stored)
    assert stored == logged, (len(stored), len(logged), sorted(stored ^ logged)[:5])
