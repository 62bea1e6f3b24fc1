"""The internet link down: office mail is delivered at once while mail for
outside waits; when the link returns, every deferred message leaves within
the probe interval, not after its back-off (an hour here)."""

import time

import pytest

from conftest import ALICE, BOB, populate
from obtest import make_message
from outbound import Internet


@pytest.fixture
def net():
    n = Internet()
    yield n
    n.close()


def test_link_down_then_back(onebox_factory, net):
    ob = populate(onebox_factory.make(dns_servers=net.dns.address))
    net.configure(ob, retry=3600)
    ob.set("queue_probe_interval", "2")
    ob.set("trusted_networks", "127.0.0.0/8")
    for i, dom in enumerate(("one.example", "two.example")):
        net.dns.mx(dom, 10, "mx." + dom)
        net.dns.a("mx." + dom, "127.0.0.%d" % (41 + i))   # "the internet": nothing answers yet
    qids = []
    for i in range(4):
        rcpt = "x%d@%s" % (i, "one.example" if i % 2 else "two.example")
        r, qid = ob.send(ALICE, [rcpt], make_message(ALICE, rcpt, subject="out-%d" % i))
        assert r.code == 250, r
        qids.append(qid)
    for qid in qids:
        ob.wait_log(r"queued id=%s to=<\S+> relay=\S+ status=deferred" % qid, timeout=10)
    ob.wait_log(r"the link looks down")
    # the office keeps mailing at LAN speed meanwhile
    t0 = time.monotonic()
    r, _ = ob.send(ALICE, [BOB])
    assert r.code == 250 and len(ob.messages(BOB)) == 1 and time.monotonic() - t0 < 2
    # the link comes back: without the watch these would wait an hour
    one, two = net.sink("127.0.0.41"), net.sink("127.0.0.42")
    t0 = time.monotonic()
    one.wait(2, timeout=15)
    two.wait(2, timeout=15)
    took = time.monotonic() - t0
    assert took < 10, "deferred mail took %.1fs after the link came back" % took
    ob.wait_log(r"the link is back")
    ob.wait_log(r"probing the link")
