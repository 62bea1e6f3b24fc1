"""kill -9 of the queue runner during a queue run loses nothing.

Messages for outside are accepted (250: durable in the queue), queued is
killed with SIGKILL while it delivers them to a slow sink, the master
starts it again, and every message must reach the sink at least once.  A
message the sink had taken just before the kill may come twice (its
envelope had not been updated yet): duplicates are counted and reported,
never a loss.
"""

import asyncio
import os
import re
import signal
import time

import pytest

from conftest import ALICE, populate
from obtest import make_message, service_pid
from outbound import Internet, Sink

N = int(os.environ.get("ONEBOX_OUTBOUND_CRASH_MESSAGES", "150"))


class SlowSink(Sink):
    """Takes 300 ms per message, so the kill lands in the middle of the run."""

    def __init__(self, ip, port):
        super().__init__(ip, port)
        handler = self.controller.handler
        orig = handler.handle_DATA

        async def slow(server, session, envelope):
            await asyncio.sleep(0.3)
            return await orig(server, session, envelope)
        handler.handle_DATA = slow


@pytest.mark.slow
def test_kill9_queued_mid_run(onebox_factory):
    net = Internet()
    try:
        ob = populate(onebox_factory.make(dns_servers=net.dns.address))
        net.configure(ob)
        ob.set("trusted_networks", "127.0.0.0/8")
        net.dns.mx("crash.example", 10, "mx.crash.example")
        net.dns.a("mx.crash.example", "127.0.0.30")
        sink = SlowSink("127.0.0.30", net.port)
        net.sinks.append(sink)
        subjects = ["crash-%04d" % i for i in range(N)]
        for s in subjects:
            r, qid = ob.send(ALICE, ["r@crash.example"], make_message(ALICE, "r@crash.example", subject=s))
            assert r.code == 250, r
        sink.wait(N // 5, timeout=30)
        victim = service_pid(ob, "queued")
        before = len(sink.messages)
        os.kill(victim, signal.SIGKILL)
        got = sink.wait(N, timeout=90)
        seen = {}
        for _, _, content, _ in got:
            m = re.search(rb"^Subject: (crash-\d+)", content, re.M)
            assert m, content[:500]
            seen[m.group(1).decode()] = seen.get(m.group(1).decode(), 0) + 1
        deadline = time.time() + 30
        while os.listdir(os.path.join(ob.data_dir, "queue", "env")) and time.time() < deadline:
            time.sleep(0.1)
        missing = [s for s in subjects if s not in seen]
        dups = sum(n - 1 for n in seen.values())
        print("\nqueued killed after %d of %d deliveries; %d duplicates, %d missing"
              % (before, N, dups, len(missing)))
        assert missing == [], "lost after kill -9: %s" % missing[:20]
        assert os.listdir(os.path.join(ob.data_dir, "queue", "env")) == [], "queue not empty"
        assert service_pid(ob, "queued") != victim
    finally:
        net.close()
