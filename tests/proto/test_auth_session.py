"""Login handling in the SMTP and POP3 sessions: the failure delay timed
from the request to authd, credentials that are refused without asking
authd, failed and throttled logins counted towards the session's error cap,
and credentials wiped from the services' memory.

Clear-text listeners (plaintext_auth_listen) keep the tests short; what is
tested does not depend on TLS.
"""

import base64
import os
import re
import secrets
import signal
import time

import pytest

from conftest import ALICE, ALICE_PW, populate
from obtest import POP3Raw, service_pid

LISTENERS = {r: ["127.0.0.1:0"] for r in ("smtp", "submission", "pop3")}
IS_ROOT = os.geteuid() == 0


def make(factory, **settings):
    ob = populate(factory.make(listeners=LISTENERS,
                               conf_extra={"plaintext_auth_listen": "127.0.0.1"}))
    for k, v in settings.items():
        ob.set(k, v)
    return ob


def smtp(ob):
    c = ob.raw("submission")
    c.ehlo()
    return c


def pop3(ob):
    host, port = ob.addr("pop3")
    c = POP3Raw(host, port)
    assert c.greeting.startswith("+OK"), c.greeting
    return c


def b64(text):
    return base64.b64encode(text.encode()).decode()


def authd_asked_only_once(ob, start):
    """authd checked nothing since log offset start but the good login that
    this makes now (its log line is the marker that authd caught up)."""
    with smtp(ob) as c:
        assert c.auth_plain(ALICE, ALICE_PW).code == 235
    ob.wait_log(r"authd\[\d+\]: auth service=smtp .* result=ok", start=start)
    lines = [ln for ln in ob.log()[start:].splitlines() if re.search(r"authd\[\d+\]: auth service=", ln)]
    return len(lines) == 1


# ---- the failure delay ----

def test_fail_delay_timed_from_request(onebox_factory):
    """authd answers late (stopped for 0.8 s): the 535 must still come
    auth_fail_delay_ms after the AUTH, not that long after authd's answer."""
    ob = make(onebox_factory, auth_fail_delay_ms="1200")
    authd = service_pid(ob, "authd")
    with smtp(ob) as c:
        os.kill(authd, signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            c.send_line("AUTH PLAIN " + b64("\0%s\0wrong" % ALICE))
            time.sleep(0.8)
        finally:
            os.kill(authd, signal.SIGCONT)
        r = c.reply(timeout=10)
        took = time.monotonic() - t0
    assert r.code == 535, r
    assert 1.1 < took < 1.7, "535 after %.2f s; want ~1.2 s from the AUTH, not 0.8 + 1.2" % took


def test_pop3_fail_delay_timed_from_request(onebox_factory):
    ob = make(onebox_factory, auth_fail_delay_ms="1200")
    authd = service_pid(ob, "authd")
    with pop3(ob) as c:
        assert c.cmd("USER " + ALICE).startswith("+OK")
        os.kill(authd, signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            c.send_line("PASS wrong")
            time.sleep(0.8)
        finally:
            os.kill(authd, signal.SIGCONT)
        r = c.line(timeout=10)
        took = time.monotonic() - t0
    assert r.startswith("-ERR [AUTH]"), r
    assert 1.1 < took < 1.7, "-ERR after %.2f s; want ~1.2 s" % took


# ---- refused without asking authd ----

@pytest.mark.parametrize("user,pw", [(ALICE, ""), ("", "secret")])
def test_smtp_empty_credentials_refused_at_once(onebox_factory, user, pw):
    ob = make(onebox_factory, auth_fail_delay_ms="3000")
    start = len(ob.log())
    with smtp(ob) as c:
        t0 = time.monotonic()
        r = c.auth_plain(user, pw)
        took = time.monotonic() - t0
        assert r.code == 535 and r.enhanced == "5.7.8", r
        assert c.cmd("NOOP").code == 250
    assert took < 1.0, "refused after %.2f s" % took
    assert authd_asked_only_once(ob, start), "authd was asked"


def test_smtp_login_empty_user_refused(onebox_factory):
    ob = make(onebox_factory, auth_fail_delay_ms="3000")
    start = len(ob.log())
    with smtp(ob) as c:
        assert c.cmd("AUTH LOGIN =").code == 334
        r = c.cmd(b64("secret"))
        assert r.code == 535, r
    assert authd_asked_only_once(ob, start), "authd was asked"


def test_smtp_authzid_other_than_authcid_refused(onebox_factory):
    ob = make(onebox_factory)
    start = len(ob.log())
    with smtp(ob) as c:
        r = c.cmd("AUTH PLAIN " + b64("%s\0%s\0%s" % ("bob@local.test", ALICE, ALICE_PW)))
        assert r.code == 501, r
    assert authd_asked_only_once(ob, start), "authd was asked"


def test_pop3_empty_credentials_refused_at_once(onebox_factory):
    ob = make(onebox_factory, auth_fail_delay_ms="3000")
    start = len(ob.log())
    with pop3(ob) as c:
        t0 = time.monotonic()
        r = c.cmd("AUTH PLAIN " + b64("\0%s\0" % ALICE))
        assert r.startswith("-ERR [AUTH]"), r
        assert time.monotonic() - t0 < 1.0
        assert c.cmd("NOOP").startswith("-ERR")    # still in AUTHORIZATION, still open
    assert authd_asked_only_once(ob, start), "authd was asked"


# ---- the error cap ----

def test_smtp_failed_logins_reach_error_cap(onebox_factory):
    """The failure that reaches the cap is answered like the others, after
    the full delay, and the goodbye follows it (an early 421 would give the
    answer away ahead of the delay)."""
    ob = make(onebox_factory, smtp_max_errors="3", auth_max_failures="100",
              auth_max_failures_per_user="100", auth_fail_delay_ms="600")
    with smtp(ob) as c:
        assert c.auth_plain(ALICE, "bad1").code == 535
        assert c.auth_plain(ALICE, "bad2").code == 535
        t0 = time.monotonic()
        r = c.auth_plain(ALICE, "bad3")
        assert r.code == 535, r
        assert time.monotonic() - t0 >= 0.55
        r = c.reply()
        assert r.code == 421 and "Too many errors" in r.lines[0], r
        assert c.is_closed()


def test_smtp_throttled_logins_reach_error_cap(onebox_factory):
    """A client that keeps trying while throttled is disconnected."""
    ob = make(onebox_factory, smtp_max_errors="5", auth_max_failures="2",
              auth_max_failures_per_user="100")
    with smtp(ob) as c:
        assert c.auth_plain(ALICE, "bad1").code == 535
        assert c.auth_plain(ALICE, "bad2").code == 535
        assert c.auth_plain(ALICE, ALICE_PW).code == 454
        assert c.auth_plain(ALICE, ALICE_PW).code == 454
        assert c.auth_plain(ALICE, ALICE_PW).code == 454     # the fifth error
        r = c.reply()
        assert r.code == 421 and "Too many errors" in r.lines[0], r
        assert c.is_closed()


def test_pop3_failed_logins_reach_error_cap(onebox_factory):
    """POP3_MAX_ERRORS (20) bad commands close the session; failed logins
    are bad commands like the others."""
    ob = make(onebox_factory, auth_max_failures="100", auth_max_failures_per_user="100")
    with pop3(ob) as c:
        for i in range(19):
            assert c.cmd("USER " + ALICE).startswith("+OK")
            assert c.cmd("PASS bad%d" % i).startswith("-ERR [AUTH]")
        assert c.cmd("USER " + ALICE).startswith("+OK")
        r = c.cmd("PASS bad-last")
        assert r.startswith("-ERR [AUTH] Authentication failed"), r
        r = c.line()
        assert r.startswith("-ERR Too many bad commands"), r
        assert c.is_closed()


# ---- credentials wiped from memory ----

def process_memory_has(pid, needles):
    """Which of needles appear in the writable memory of pid (needs root:
    the services are not dumpable).  Read in steps; mappings over 1 GB
    (ASan's shadow) are skipped."""
    found = set()
    step, overlap = 1 << 20, max(len(n) for n in needles)
    with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            m = re.match(r"([0-9a-f]+)-([0-9a-f]+) (\S+)", line)
            if not m or not m.group(3).startswith("rw"):
                continue
            lo, hi = int(m.group(1), 16), int(m.group(2), 16)
            if hi - lo > 1 << 30:
                continue
            for at in range(lo, hi, step):
                try:
                    mem.seek(at)
                    data = mem.read(min(step + overlap, hi - at))
                except OSError:
                    continue
                found |= {n for n in needles if n in data}
    return found


@pytest.mark.skipif(not IS_ROOT, reason="reading a non-dumpable process's memory needs root")
def test_smtp_auth_line_wiped(onebox_factory):
    ob = make(onebox_factory)
    pw = "Wipe-me-" + secrets.token_hex(8)
    tok = b64("\0%s\0%s" % (ALICE, pw))
    with smtp(ob) as c:
        assert c.cmd("AUTH PLAIN " + tok).code == 535
        left = process_memory_has(service_pid(ob, "smtpd"), [tok.encode(), pw.encode()])
        assert not left, "credentials left in smtpd's memory: %s" % left


@pytest.mark.skipif(not IS_ROOT, reason="reading a non-dumpable process's memory needs root")
def test_smtp_refused_auth_line_wiped(onebox_factory):
    """An AUTH line refused before any SASL step (port 25 offers no AUTH)
    is wiped too: a client that sends its credentials there anyway must
    not leave them in smtpd's input buffer."""
    ob = make(onebox_factory)
    pw = "Wipe-me-" + secrets.token_hex(8)
    tok = b64("\0%s\0%s" % (ALICE, pw))
    c = ob.raw("smtp")
    c.ehlo()
    with c:
        assert c.cmd("AUTH PLAIN " + tok).code == 503
        left = process_memory_has(service_pid(ob, "smtpd"), [tok.encode(), pw.encode()])
        assert not left, "credentials left in smtpd's memory: %s" % left


@pytest.mark.skipif(not IS_ROOT, reason="reading a non-dumpable process's memory needs root")
@pytest.mark.parametrize("how", ["pass", "auth"])
def test_pop3_credentials_wiped(onebox_factory, how):
    ob = make(onebox_factory)
    pw = "Wipe-me-" + secrets.token_hex(8)
    tok = b64("\0%s\0%s" % (ALICE, pw))
    with pop3(ob) as c:
        if how == "pass":
            assert c.cmd("USER " + ALICE).startswith("+OK")
            assert c.cmd("PASS " + pw).startswith("-ERR [AUTH]")
        else:
            assert c.cmd("AUTH PLAIN " + tok).startswith("-ERR [AUTH]")
        left = process_memory_has(service_pid(ob, "pop3d"), [tok.encode(), pw.encode()])
        assert not left, "credentials left in pop3d's memory: %s" % left
