"""Limits: each answered clearly, never a crash or a hang (issue §4)."""

import time

import pytest

from conftest import ALICE, BOB
from obtest import SMTPClosed, make_message


def test_size_at_mail(onebox):
    onebox.set("max_message_size", "100K")
    with onebox.raw() as c:
        r = c.ehlo()
        size = [line for line in r.lines if line[4:].upper().startswith("SIZE")]
        assert size and size[0].split()[-1] == str(100 * 1024), "EHLO SIZE: %s" % r
        r = c.cmd("MAIL FROM:<a@example.org> SIZE=%d" % (200 * 1024))
        assert r.code == 552 and r.enhanced == "5.3.4", r
        r = c.cmd("MAIL FROM:<a@example.org> SIZE=1000")
        assert r.code == 250, r


def test_size_after_data(onebox):
    onebox.set("max_message_size", "100K")
    with onebox.raw() as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@example.org>").code == 250
        assert c.cmd("RCPT TO:<%s>" % ALICE).code == 250
        body = ("x" * 76 + "\n") * 2000          # ~150 KB
        r = c.data(make_message(body=body))
        assert r.code == 552 and r.enhanced == "5.3.4", r
        # the session goes on, and a small message still passes
        assert c.cmd("MAIL FROM:<a@example.org>").code == 250
        assert c.cmd("RCPT TO:<%s>" % ALICE).code == 250
        assert c.data(make_message()).code == 250
    assert len(onebox.messages(ALICE)) == 1


def test_too_many_recipients(onebox):
    onebox.set("max_recipients", "3")
    rcpts = [ALICE, BOB, "alice@LOCAL.test", "bob@local.TEST"]
    with onebox.raw() as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@example.org>").code == 250
        for rc in rcpts[:3]:
            assert c.cmd("RCPT TO:<%s>" % rc).code == 250
        r = c.cmd("RCPT TO:<%s>" % rcpts[3])
        assert r.code == 452 and r.enhanced == "4.5.3", r
        assert c.data(make_message()).code == 250


def test_long_command_line(shared):
    with shared.raw() as c:
        c.ehlo()
        r = c.cmd("NOOP " + "x" * 5000)
        assert r.code == 500 and r.enhanced == "5.5.2", r
        assert c.cmd("NOOP").code == 250, "session must continue after an over-long line"
        r = c.cmd("MAIL FROM:<%s@example.org>" % ("a" * 4200))
        assert r.code == 500, r
        assert c.cmd("MAIL FROM:<a@example.org>").code == 250


def test_huge_line_no_newline(shared):
    """1 MB without a line end: refused or the connection closed, no hang, no crash."""
    with shared.raw() as c:
        c.ehlo()
        try:
            c.send(b"x" * (1024 * 1024) + b"\r\n")
            r = c.reply(timeout=15)
            assert r.code in (421, 500), r
        except (SMTPClosed, ConnectionResetError, BrokenPipeError):
            pass
    with shared.raw() as c:                     # the server is still fine
        c.ehlo()


def test_long_data_line(shared):
    with shared.raw() as c:
        c.ehlo()
        assert c.cmd("MAIL FROM:<a@example.org>").code == 250
        assert c.cmd("RCPT TO:<%s>" % BOB).code == 250
        r = c.data(make_message(body="y" * 20000 + "\n"))
        assert r.code == 250 or 500 <= r.code < 600, r
        assert c.cmd("NOOP").code == 250


def test_commands_before_mail(onebox):
    onebox.set("smtp_max_commands_before_mail", "5")
    with onebox.raw() as c:
        c.ehlo()
        for i in range(20):
            try:
                r = c.cmd("NOOP" if i % 2 else "RSET")
            except SMTPClosed:
                raise AssertionError("closed without a 421 after %d commands" % i)
            if r.code == 421:
                break
            assert r.code == 250, r
        else:
            raise AssertionError("20 commands before MAIL without a 421")
        assert r.enhanced == "4.7.0", r
        assert i <= 6, "limit 5 but the 421 came at command %d" % (i + 1)
        assert c.is_closed(), "not closed after 421"


def test_mail_rset_loop_is_cut(onebox):
    """MAIL/RSET (and failed RCPTs) count too: only a delivered message
    resets the count."""
    onebox.set("smtp_max_commands_before_mail", "6")
    with onebox.raw() as c:
        c.ehlo()
        for i in range(40):
            try:
                r = c.cmd("MAIL FROM:<a@example.org>" if i % 2 == 0 else "RSET")
            except SMTPClosed:
                raise AssertionError("closed without a 421 after %d commands" % i)
            if r.code == 421:
                break
            assert r.code == 250, r
        else:
            raise AssertionError("40 MAIL/RSET commands without a 421")
        assert r.enhanced == "4.7.0", r
        assert i <= 6, "limit 6 (EHLO included) but the 421 came at command %d" % (i + 2)
        assert c.is_closed(), "not closed after 421"


def test_many_messages_in_one_session_are_not_cut(onebox):
    """Each delivered message resets the count; accepted recipients of the
    open transaction do not use it up."""
    onebox.set("smtp_max_commands_before_mail", "5")
    rcpts = [BOB] * 8
    with onebox.raw() as c:
        c.ehlo()
        for i in range(12):
            assert c.cmd("MAIL FROM:<a@example.org>").code == 250
            for rc in rcpts[: 1 + i % 8]:
                r = c.cmd("RCPT TO:<%s>" % rc)
                assert r.code == 250, "message %d: %s" % (i, r)
            r = c.data(make_message(to=BOB, subject="m%d" % i))
            assert r.code == 250, "message %d: %s" % (i, r)
            assert c.cmd("NOOP").code == 250
        assert c.cmd("QUIT").code == 221


def test_too_many_errors(onebox):
    onebox.set("smtp_max_errors", "3")
    with onebox.raw() as c:
        c.ehlo()
        for i in range(20):
            r = c.cmd("BOGUS%d" % i)
            if r.code == 421:
                break
            assert r.code == 500, r
        else:
            raise AssertionError("20 errors without a 421")
        assert r.enhanced == "4.7.0", r
        assert i <= 4, "limit 3 but the 421 came at error %d" % (i + 1)
        assert c.is_closed()


@pytest.mark.slow
def test_idle_timeout(onebox):
    onebox.set("smtp_idle_timeout", "5")
    with onebox.raw() as c:
        c.ehlo()
        t0 = time.monotonic()
        r = c.reply(timeout=15)
        took = time.monotonic() - t0
        assert r.code == 421 and r.enhanced == "4.4.2", r
        assert 4 <= took <= 9, "idle timeout 5 s took %.1f s" % took
        assert c.is_closed()


@pytest.mark.slow
def test_idle_timeout_in_data(onebox):
    onebox.set("smtp_idle_timeout", "5")
    with onebox.raw() as c:
        c.ehlo()
        c.cmd("MAIL FROM:<a@example.org>")
        c.cmd("RCPT TO:<%s>" % ALICE)
        assert c.cmd("DATA").code == 354
        c.send("Subject: half\r\n\r\nsome text\r\n")
        r = c.reply(timeout=15)
        assert r.code == 421, r
    assert onebox.messages(ALICE) == [], "a message cut by a timeout was delivered"


@pytest.mark.slow
def test_session_timeout(onebox):
    onebox.set("smtp_session_timeout", "10")
    onebox.set("smtp_idle_timeout", "5")
    onebox.set("smtp_max_commands_before_mail", "1000")
    with onebox.raw() as c:
        c.ehlo()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 20:
            try:
                r = c.cmd("NOOP")
            except SMTPClosed:
                raise AssertionError("closed without 421 at %.1f s" % (time.monotonic() - t0))
            if r.code == 421:
                break
            assert r.code == 250
            time.sleep(1)
        else:
            raise AssertionError("busy session not ended after 20 s (limit 10 s)")
        took = time.monotonic() - t0
        assert 8 <= took <= 14, "session timeout 10 s hit after %.1f s" % took


def _open(ob, n, sources):
    conns = []
    for i in range(n):
        conns.append(ob.raw(source=sources[i % len(sources)]))
    return conns


def test_max_connections_per_ip(onebox):
    onebox.set("smtp_max_connections_per_ip", "3")
    conns = []
    try:
        for i in range(3):
            c = onebox.raw()
            assert c.banner.code == 220
            conns.append(c)
        extra = onebox.raw()
        conns.append(extra)
        assert extra.banner.code == 421 and extra.banner.enhanced == "4.7.0", extra.banner
        assert extra.is_closed()
        other = onebox.raw(source="127.0.0.2")      # another client address is not limited
        conns.append(other)
        assert other.banner.code == 220, other.banner
        conns[0].cmd("QUIT")
        conns[0].close()
        deadline = time.monotonic() + 3
        while True:
            c = onebox.raw()
            conns.append(c)
            if c.banner.code == 220:
                break
            assert time.monotonic() < deadline, "slot not freed after a client left"
            time.sleep(0.1)
    finally:
        for c in conns:
            c.close()


def test_max_connections_total(onebox):
    onebox.set("smtp_max_connections", "3")
    conns = []
    try:
        for i in range(3):
            c = onebox.raw(source="127.0.0.%d" % (2 + i))
            conns.append(c)
            assert c.banner.code == 220, c.banner
        c = onebox.raw(source="127.0.0.9")
        conns.append(c)
        assert c.banner.code == 421 and c.banner.enhanced == "4.7.0", c.banner
    finally:
        for c in conns:
            c.close()
