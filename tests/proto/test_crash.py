"""Durability: kill -9 of every onebox process during a burst of 1,000
messages; after a restart every message that got a 250 is in a Maildir
exactly once, and no partial file is visible in new/ or cur/ (issue §7).

20 sender threads share a counter of message numbers; each message has a
unique Message-ID and ends with a marker line, so a truncated file is seen.
Every 10th message goes to an alias of alice + bob (one hard-linked file).
A killer thread kill -9's the master and all its children three times at
random points of the burst and restarts the daemon each time.  Senders never
retry: a message without a 250 is only recorded as not accepted (it may or
may not be there, but never twice).
"""

import os
import random
import re
import threading
import time

import pytest

from conftest import ALICE, BOB
from obtest import SMTPRaw

N_MESSAGES = int(os.environ.get("ONEBOX_CRASH_MESSAGES", "1000"))
N_SENDERS = 20
N_KILLS = 3

MSGID_RE = re.compile(rb"^Message-ID: <crash-(\d+)@test\.onebox>$", re.M | re.I)
END_RE = re.compile(rb"\nEND-OF-MESSAGE (\d+)\n\Z")


def build(n, rcpt):
    body = "".join("line %d of message %d, some text to make it longer\r\n" % (i, n) for i in range(40))
    return ("From: <sender%d@example.org>\r\nTo: <%s>\r\nSubject: crash %d\r\n"
            "Message-ID: <crash-%d@test.onebox>\r\n\r\n%sEND-OF-MESSAGE %d\r\n" % (
                n % N_SENDERS, rcpt, n, n, body, n)).encode()


def check_mailbox(ob, addr):
    """Return {n: count} for addr's INBOX; assert every file is complete."""
    counts = {}
    for path in ob.message_files(addr):
        with open(path, "rb") as f:
            raw = f.read()
        m = MSGID_RE.search(raw)
        assert m, "file without our Message-ID (partial or foreign): %s: %r" % (path, raw[:300])
        n = int(m.group(1))
        e = END_RE.search(raw)
        assert e and int(e.group(1)) == n, "truncated or corrupt message %d in %s (%d bytes): ...%r" % (
            n, path, len(raw), raw[-120:])
        s = re.search(r",S=(\d+)", os.path.basename(path))
        if s:
            assert int(s.group(1)) == len(raw), "size in name != file size: %s" % path
        counts[n] = counts.get(n, 0) + 1
    return counts


@pytest.mark.slow
def test_kill9_during_burst(onebox):
    ob = onebox
    ob.cli("alias", "add", "both@local.test", ALICE, BOB)
    ob.set("smtp_max_connections_per_ip", "200")    # 20 senders + the harness's probes
    lock = threading.Lock()
    next_n = [0]
    done = [0]
    accepted = {}                  # n -> rcpt
    errors = []

    def take():
        with lock:
            n = next_n[0]
            if n >= N_MESSAGES:
                return None
            next_n[0] += 1
            return n

    def sender():
        c = None
        while True:
            n = take()
            if n is None:
                break
            rcpt = "both@local.test" if n % 10 == 0 else (ALICE if n % 2 else BOB)
            ok = False
            try:
                if c is None:
                    host, port = ob.addr("smtp")
                    c = SMTPRaw(host, port, timeout=20)
                    if c.banner.code != 220:
                        raise ConnectionError(str(c.banner))
                    c.ehlo()
                if c.cmd("MAIL FROM:<sender@example.org>").code == 250 and \
                        c.cmd("RCPT TO:<%s>" % rcpt).code == 250:
                    r = c.data(build(n, rcpt))
                    ok = r.code == 250
                else:
                    c.cmd("RSET")
            except Exception:          # noqa: BLE001 - a crash is expected here
                if c is not None:
                    c.close()
                c = None
                time.sleep(0.05)
            with lock:
                done[0] += 1
                if ok:
                    accepted[n] = rcpt
        if c is not None:
            try:
                c.cmd("QUIT")
            except Exception:          # noqa: BLE001
                pass
            c.close()

    kills = []

    def killer():
        marks = sorted(random.uniform(lo, hi) * N_MESSAGES
                       for lo, hi in ((0.1, 0.3), (0.4, 0.6), (0.7, 0.85)))[:N_KILLS]
        try:
            for mark in marks:
                while done[0] < mark:
                    time.sleep(0.001)
                time.sleep(random.uniform(0, 0.03))
                victims = ob.pids()
                ob.kill9_all()
                kills.append((done[0], len(victims)))
                time.sleep(random.uniform(0, 0.2))
                ob.start(timeout=30)
        except Exception as e:         # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=sender, name="sender%d" % i) for i in range(N_SENDERS)]
    kt = threading.Thread(target=killer, name="killer")
    t0 = time.monotonic()
    kt.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    kt.join(120)
    took = time.monotonic() - t0
    assert not errors, "killer thread failed: %s\nlog:\n%s" % (errors, ob.log_tail())
    assert len(kills) == N_KILLS, "only %d kills happened: %s" % (len(kills), kills)
    assert all(nv >= 2 for _, nv in kills), "kill -9 hit fewer than 2 processes: %s" % kills
    assert len(accepted) >= N_MESSAGES // 4, "only %d of %d messages accepted in %.1fs" % (
        len(accepted), N_MESSAGES, took)

    # a clean stop, then a restart: what got a 250 must all be there, once
    ob.stop()
    ob.start()
    ob.stop()
    boxes = {ALICE: check_mailbox(ob, ALICE), BOB: check_mailbox(ob, BOB)}
    for box, counts in boxes.items():
        dups = {n: k for n, k in counts.items() if k > 1}
        assert not dups, "%s: messages delivered more than once: %s" % (box, sorted(dups)[:20])
    lost = []
    for n, rcpt in accepted.items():
        wanted = [ALICE, BOB] if rcpt == "both@local.test" else [rcpt]
        for box in wanted:
            if boxes[box].get(n, 0) != 1:
                lost.append((n, box))
    assert not lost, "%d accepted messages missing after kill -9 (first: %s); accepted %d, kills %s" % (
        len(lost), lost[:10], len(accepted), kills)
    print("crash test: %d/%d accepted in %.1fs, kills at %s" % (len(accepted), N_MESSAGES, took, kills))
