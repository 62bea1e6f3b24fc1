"""`onebox queue list|show|flush|delete|hold|release` against a running
queue: a destination that refuses connections keeps messages deferred
(retries an hour apart), then the CLI steers them."""

import os
import time

import pytest

from conftest import ALICE, populate
from obtest import make_message
from outbound import Internet


@pytest.fixture
def net():
    n = Internet()
    yield n
    n.close()


def queue_ids(ob):
    return sorted(os.listdir(os.path.join(ob.data_dir, "queue", "env")))


def test_queue_cli(onebox_factory, net):
    ob = populate(onebox_factory.make(dns_servers=net.dns.address))
    net.configure(ob, retry=3600)             # no retry by itself during the test
    ob.set("trusted_networks", "127.0.0.0/8")
    net.dns.mx("later.example", 10, "mx.later.example")
    net.dns.a("mx.later.example", "127.0.0.31")   # nothing listens yet
    qids = []
    for subject in ("to-hold", "to-flush", "to-delete"):
        r, qid = ob.send(ALICE, ["x@later.example"], make_message(ALICE, "x@later.example", subject=subject))
        assert r.code == 250, r
        ob.wait_log(r"queued id=%s to=<x@later\.example> relay=\S+ status=deferred" % qid, timeout=10)
        qids.append(qid)
    held, flushed, deleted = qids

    out = ob.cli("queue", "list").stdout
    assert "3 messages in the queue" in out, out
    for q in qids:
        assert q in out
    assert "deferred  <x@later.example>  451 4.4.1" in out, out
    out = ob.cli("queue", "show", flushed).stdout
    assert "Subject: to-flush" in out and "attempts=1" in out and "from=<%s>" % ALICE in out, out

    assert "held" in ob.cli("queue", "hold", held).stdout
    assert held not in queue_ids(ob)
    assert "held" in ob.cli("queue", "list").stdout
    assert ob.cli("queue", "hold", held, check=False).returncode == 1        # already held
    assert ob.cli("queue", "delete", deleted).returncode == 0
    assert queue_ids(ob) == [flushed]
    assert not os.path.exists(os.path.join(ob.data_dir, "queue", "msg", deleted))

    sink = net.sink("127.0.0.31")              # the destination comes back
    ob.cli("queue", "flush", flushed)
    got = sink.wait(1, timeout=10)
    assert b"Subject: to-flush" in got[0][2]
    time.sleep(1.5)                            # the held one stays put
    assert len(sink.messages) == 1
    assert ob.cli("queue", "flush", held, check=False).returncode == 1     # release it first
    ob.cli("queue", "release", held)
    got = sink.wait(2, timeout=10)
    assert b"Subject: to-hold" in got[1][2]
    assert not any(b"Subject: to-delete" in m[2] for m in sink.messages)
    ob.wait_log(r"queued id=%s removed" % held)
    assert "0 messages in the queue" in ob.cli("queue", "list").stdout


def test_queue_cli_bad_ids(onebox):
    for verb in ("show", "delete", "hold", "release", "flush"):
        p = onebox.cli("queue", verb, "0123456789abcdef", check=False)
        assert p.returncode == 1 and "no such message" in p.stderr, (verb, p.stderr)
        p = onebox.cli("queue", verb, "../../etc/passwd", check=False)
        assert p.returncode == 1 and "not a queue id" in p.stderr, (verb, p.stderr)
    assert onebox.cli("queue", "list", "extra", check=False).returncode == 2


def test_restart_keeps_backoff(onebox_factory, net):
    """queued rereads each message's next attempt time at start: a restart
    is not a retry storm (flush is the way to say "now")."""
    ob = populate(onebox_factory.make(dns_servers=net.dns.address))
    net.configure(ob, retry=3600)
    ob.set("trusted_networks", "127.0.0.0/8")
    net.dns.mx("later.example", 10, "mx.later.example")
    net.dns.a("mx.later.example", "127.0.0.36")
    r, qid = ob.send(ALICE, ["x@later.example"])
    ob.wait_log(r"queued id=%s to=<x@later\.example> relay=\S+ status=deferred" % qid, timeout=10)
    start = len(ob.log())                      # the log is appended to across restarts
    ob.restart()
    time.sleep(2)
    assert "queued id=%s attempt=" % qid not in ob.log()[start:], "retried at restart"
    ob.cli("queue", "flush", qid)
    ob.wait_log(r"queued id=%s attempt=2 " % qid, start=start)
