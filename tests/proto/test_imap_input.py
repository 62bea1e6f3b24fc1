"""IMAP bad input and limits: syntax errors answered BAD with a clear text,
unknown commands, commands in the wrong state, literals ({n} with its
continuation, {n+}, too big), over-long lines, NUL bytes, the error cap,
the idle timeout; never a crash (the daemon's exit status and sanitizer
reports are checked at teardown)."""

import re
import time

import pytest

from conftest import ALICE, ALICE_PW
from obtest import new_user


def test_syntax_errors_are_bad_with_text(shared_imap):
    with shared_imap.imap() as c:
        for line, text in (("a NOOP extra", "Too many arguments"),
                           ('a LOGIN "unclosed', "Missing closing quote"),
                           ("a LOGIN (x y", "Missing )"),
                           ("a LOGIN  x y", "Extra space"),
                           ("a FROBNICATE", "Unknown command"),
                           ("a NAMESPACE", "Log in first"),
                           ("a LOGIN", "Missing arguments")):
            c.send_line(line)
            r = c.read_line()
            assert r.startswith("a BAD ") and text in r, (line, r)
        c.send_line(" NOOP")
        assert c.read_line().startswith("* BAD ")
        c.send_line("* NOOP")
        assert c.read_line().startswith("* BAD ")
        c.ok("NOOP")


def test_nul_and_control_characters(shared_imap):
    with shared_imap.imap() as c:
        c.send(b"a LOGIN x\x00y z\r\n")
        assert c.read_line().startswith("a BAD ")
        c.send(b'a LOGIN "x\x01" z\r\n')
        r = c.read_line()
        assert r.startswith("a NO") or r.startswith("a BAD"), r
        c.ok("NOOP")


def test_sync_literal_gets_continuation(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap() as c:
        c.send_line("a LOGIN {%d}" % len(user))
        assert c.read_line().startswith("+ ")
        c.send_line(user + " {10}")
        assert c.read_line().startswith("+ ")
        c.send_line("Pop3-pw-7#")
        _, r = c.tagged("a")
        assert r.startswith("a OK"), r


def test_nonsync_literal_needs_no_continuation(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap() as c:
        c.send(("a LOGIN {%d+}\r\n%s {10+}\r\nPop3-pw-7#\r\n" % (len(user), user)).encode())
        _, r = c.tagged("a")
        assert r.startswith("a OK"), r


def test_literal_with_spaces_quotes_and_braces(onebox_factory):
    ob = onebox_factory.make_imap()
    pw = 'a "b" {3}\\ c'
    ob.add_user("odd@local.test", pw)
    with ob.imap() as c:
        c.send(("a LOGIN odd@local.test {%d+}\r\n" % len(pw)).encode() + pw.encode() + b"\r\n")
        _, r = c.tagged("a")
        assert r.startswith("a OK"), r


def test_sync_literal_too_big_refused_before_data(shared_imap):
    with shared_imap.imap() as c:
        c.send_line("a LOGIN {100000000}")
        r = c.read_line()
        assert r.startswith("a NO [TOOBIG]"), r
        c.ok("NOOP")


def test_nonsync_literal_too_big_closes(shared_imap):
    with shared_imap.imap() as c:
        c.send_line("a LOGIN {100000000+}")
        assert c.read_line().startswith("a BAD [TOOBIG]")
        assert c.read_line().startswith("* BYE")
        assert c.is_closed()


def test_bad_literal_size(shared_imap):
    with shared_imap.imap() as c:
        c.send_line("a LOGIN {99999999999}")
        assert c.read_line().startswith("a BAD Invalid literal")
        c.ok("NOOP")


def test_overlong_line(shared_imap):
    with shared_imap.imap() as c:
        c.send(b"a NOOP " + b"x" * 70000 + b"\r\n")
        assert c.read_line().startswith("* BAD [TOOBIG]")
        c.ok("NOOP")


def test_too_many_errors_close(shared_imap):
    with shared_imap.imap() as c:
        for i in range(19):
            c.send_line("a%d BOGUS" % i)
            assert c.read_line().startswith("a%d BAD" % i)
        c.send_line("z BOGUS")
        assert c.read_line().startswith("z BAD")
        assert c.read_line().startswith("* BYE")
        assert c.is_closed()


def test_pipelined_commands(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap() as c:
        c.send(("a LOGIN %s Pop3-pw-7#\r\nb NOOP\r\nc NAMESPACE\r\nd LOGOUT\r\n" % user).encode())
        _, r = c.tagged("a")
        assert r.startswith("a OK")
        assert c.read_line() == "b OK NOOP completed"
        c.tagged("c")
        _, r = c.tagged("d")
        assert r.startswith("d OK")


def test_deeply_nested_list(shared_imap):
    with shared_imap.imap() as c:
        _, r = c.cmd("ID " + "(" * 50 + ")" * 50)
        assert " BAD " in r and "nested" in r, r


def test_authenticate_garbage(shared_imap):
    with shared_imap.imap() as c:
        c.send_line("a AUTHENTICATE PLAIN")
        assert c.read_line().startswith("+")
        c.send_line("!!!not base64!!!")
        r = c.read_line()
        assert r.startswith("a BAD"), r
        c.send_line("b AUTHENTICATE PLAIN")
        assert c.read_line().startswith("+")
        c.send(b"x" * 70000 + b"\r\n")
        r = c.read_line()
        assert r.startswith("b BAD"), r
        c.ok("NOOP")


@pytest.mark.slow
def test_idle_timeout(onebox_factory):
    ob = onebox_factory.make_imap()
    ob.set("imap_idle_timeout", "10")
    with ob.imap(ALICE, ALICE_PW) as c:
        t0 = time.monotonic()
        r = c.read_line(timeout=20)
        assert r.startswith("* BYE") and "inactivity" in r, r
        assert 9 <= time.monotonic() - t0 < 15
        assert c.is_closed()
