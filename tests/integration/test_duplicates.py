"""
Scenario: a NAS retransmits.  The same Access-Request bytes from the same
source address and port are a duplicate (RFC 5080 §2.2.2): the daemon sends
the cached reply byte for byte, counts radius.duplicates, and does not
evaluate the request again (no second finding, no storm count, no second
accept/reject in the counters).  A cache too small for the traffic evicts
replies still in their time, counts it (radius.dup_evicted), and the
retransmissions of those are evaluated again.
"""
from conftest import FLEET, counter, imeisv_of


def meter_request(nas, imsi):
    return nas.build(attrs=nas.access_attrs(imsi=imsi, imeisv=imeisv_of(FLEET[imsi]["imei"]),
                                            plmn="23415", rat="LTE-M"))


def test_retransmitted_accept_gets_identical_reply_and_is_evaluated_once(daemon, nas):
    raw = meter_request(nas, "234151000000030")
    first = nas.exchange(raw)
    assert first is not None and first.accepted, first
    before = daemon.settled_stats()

    second = nas.exchange(raw)
    assert second is not None
    assert second.raw == first.raw

    after = daemon.settled_stats()
    assert counter(after, "radius.duplicates") == counter(before, "radius.duplicates") + 1
    assert counter(after, "radius.accepts") == counter(before, "radius.accepts")
    assert counter(after, "radius.rejects") == counter(before, "radius.rejects")
    assert counter(after, "radius.received") == counter(before, "radius.received") + 1
    assert counter(after, "radius.answered") == counter(before, "radius.answered") + 1


def test_retransmitted_reject_raises_one_finding(daemon, nas):
    imsi = "234159999900001"
    raw = nas.build(attrs=nas.access_attrs(imsi=imsi, imeisv="3533281199999901", plmn="23415"))
    replies = [nas.exchange(raw) for _ in range(3)]
    assert all(r is not None and r.rejected for r in replies), replies
    assert replies[0].raw == replies[1].raw == replies[2].raw
    assert len(daemon.findings(kind="sim_unknown", subject=imsi)) == 1
    assert daemon.stats()["findings"]["sim_unknown"] == 1


def test_duplicates_do_not_count_towards_the_attach_storm(daemon, nas):
    """12 copies of one request are one attach, not 12: the 10-per-minute
    storm limit of the meters policy is not reached."""
    imsi = "234151000000031"
    raw = meter_request(nas, imsi)
    for _ in range(12):
        r = nas.exchange(raw)
        assert r is not None and r.accepted, r
    # 9 more distinct requests are still within the limit of 10 ...
    for _ in range(9):
        r = nas.exchange(meter_request(nas, imsi))
        assert r.accepted, r
    # ... and the 11th distinct one is the storm.
    r = nas.exchange(meter_request(nas, imsi))
    assert r.rejected, r
    assert r.reply_message == "m2mguard: attach_storm"
    assert len(daemon.findings(kind="attach_storm", subject=FLEET[imsi]["iccid"])) == 1


def test_same_identifier_with_new_authenticator_is_a_new_request(daemon, nas):
    """Only identical (source, identifier, authenticator) is a duplicate; a
    new request that reuses the identifier is evaluated."""
    imsi = "234151000000032"
    ident = 77
    attrs = nas.access_attrs(imsi=imsi, imeisv=imeisv_of(FLEET[imsi]["imei"]), plmn="23415",
                             rat="LTE-M")
    before = daemon.settled_stats()
    a = nas.exchange(nas.build(attrs=attrs, ident=ident))
    b = nas.exchange(nas.build(attrs=attrs, ident=ident))
    assert a.accepted and b.accepted
    assert a.raw != b.raw
    after = daemon.settled_stats()
    assert counter(after, "radius.duplicates") == counter(before, "radius.duplicates")
    assert counter(after, "radius.accepts") == counter(before, "radius.accepts") + 2


def test_a_full_cache_evicts_and_says_so(daemon_factory):
    """dup-cache-size 16 (the least): 64 different requests within the TTL
    from one NAS socket (one worker) fill its 16 slots; every later reply
    takes a slot from a reply still in its time, counted in
    radius.dup_evicted, and the retransmission of an evicted request is
    evaluated again instead of answered from the cache."""
    d = daemon_factory("dup-small", conf_extra="dup-cache-size 16\n")
    nas = d.client()
    try:
        imsis = [imsi for imsi, row in FLEET.items() if row["group"] == "meters"][:16]
        before = d.settled_stats()
        sent = []
        for i in range(64):
            raw = meter_request(nas, imsis[i % len(imsis)])
            assert nas.exchange(raw) is not None
            sent.append(raw)
        after = d.settled_stats()
        evicted = counter(after, "radius.dup_evicted") - counter(before, "radius.dup_evicted")
        assert 64 - 16 <= evicted <= 64, evicted
        # Retransmit everything: at most 16 answers come from the cache.
        for raw in sent:
            assert nas.exchange(raw) is not None
        last = d.settled_stats()
        hits = counter(last, "radius.duplicates") - counter(after, "radius.duplicates")
        assert hits <= 16, hits
    finally:
        nas.close()
