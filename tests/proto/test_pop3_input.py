"""POP3 bad input and resources (issue 3): unknown commands, wrong
arguments, wrong state, over-long lines, control characters, too many
errors, a client that stops reading, the idle timeout, a 50 MB message
with the process's memory watched, and SIGTERM with open sessions.
Every case must end in a clear -ERR or a clean close: never a crash or a
hang (the teardown checks the daemon exits 0 and the sanitizer reports).
"""

import hashlib
import threading
import time

import pytest

from obtest import NEW_USER_PW as PW, POP3Closed, deliver, new_user, place_message, service_pid


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


def sanitized(pid):
    with open("/proc/%d/maps" % pid) as f:
        return any("libasan" in line or "libubsan" in line for line in f)


def test_unknown_and_malformed_commands(shared_pop3):
    user = new_user(shared_pop3)
    deliver(shared_pop3, user, 2)
    with shared_pop3.pop3(user) as c:
        for line in ("XYZZY", "RETR", "RETR abc", "RETR 0", "RETR -1", "RETR 99999999999",
                     "RETR 3", "TOP 1", "TOP 1 x", "LIST 1 2", "STAT now", "DELE", "UIDL 9",
                     "", "   "):
            r = c.cmd(line)
            assert r.startswith("-ERR "), "%r -> %r" % (line, r)
        assert c.cmd("STAT").startswith("+OK 2 "), "the session must survive bad commands"


def test_commands_in_the_wrong_state(shared_pop3):
    user = new_user(shared_pop3)
    deliver(shared_pop3, user, 1)
    with shared_pop3.pop3() as c:
        for line in ("STAT", "LIST", "UIDL", "RETR 1", "TOP 1 0", "DELE 1", "RSET", "NOOP"):
            r = c.cmd(line)
            assert r.startswith("-ERR"), "%s before login -> %s" % (line, r)
        assert c.cmd("STLS").startswith("-ERR"), "second STLS"
        c.login(user, PW)
        for line in ("USER " + user, "PASS " + PW, "AUTH PLAIN", "STLS", "APOP a b"):
            r = c.cmd(line)
            assert r.startswith("-ERR"), "%s after login -> %s" % (line, r)
        assert c.cmd("STAT").startswith("+OK 1 ")


def test_control_characters_and_nul(shared_pop3):
    with shared_pop3.pop3() as c:
        assert c.cmd("CAPA\0X").startswith("-ERR")
        assert c.cmd("NOOP\x01").startswith("-ERR")
        c.send(b"RETR \xff\xfe\r\n")
        assert c.line().startswith("-ERR")
        first, caps = c.multi("CAPA")
        assert first.startswith("+OK")


@pytest.mark.parametrize("size", [5000, 300000, 3000000])
def test_over_long_line(shared_pop3, size):
    with shared_pop3.pop3() as c:
        c.send("NOOP " + "x" * size + "\r\n")
        r = c.line(timeout=20)
        assert r == "-ERR Line too long", r
        first, caps = c.multi("CAPA")
        assert first.startswith("+OK"), "the session must go on after an over-long line"
        assert b"TOP" in caps


def test_too_many_errors_closes(shared_pop3):
    with shared_pop3.pop3() as c:
        closed = False
        for i in range(40):
            try:
                r = c.cmd("BOGUS %d" % i)
            except (POP3Closed, ConnectionError):
                closed = True
                break
            if "Too many" in r:
                closed = c.is_closed()
                break
            assert r.startswith("-ERR")
        assert closed, "the server kept a client sending only bad commands"


def test_bare_lf_and_lowercase_accepted(shared_pop3):
    user = new_user(shared_pop3)
    with shared_pop3.pop3() as c:
        c.send("user %s\npass %s\nstat\n" % (user, PW))
        assert c.line().startswith("+OK")
        assert c.line().startswith("+OK")
        assert c.line().startswith("+OK 0 0")


def test_client_that_stops_reading_does_not_block_others(onebox_factory):
    """A client pipelines RETRs of a 5 MB message and never reads: the
    process's memory stays bounded and other sessions are served."""
    ob = onebox_factory.make_pop3()
    user, other = new_user(ob), new_user(ob)
    deliver(ob, user, 1)
    deliver(ob, other, 1)
    place_message(ob, user, (b"X" * 998 + b"\n") * 5000)
    pid = service_pid(ob, "pop3d")
    base = rss_kb(pid)
    hog = ob.pop3(user)
    hog.sock.setsockopt(__import__("socket").SOL_SOCKET, __import__("socket").SO_RCVBUF, 4096)
    hog.send("RETR 2\r\n" * 200)
    time.sleep(1.0)
    with ob.pop3(other) as c:
        assert c.cmd("STAT").startswith("+OK 1 ")
        first, lines = c.multi("RETR 1")
        assert first.startswith("+OK") and lines
        assert c.cmd("QUIT").startswith("+OK")
    grown = rss_kb(pid) - base
    assert grown < (40 if sanitized(pid) else 8) * 1024, "pop3d grew by %d KB for a client that does not read" % grown
    hog.close()
    ob.wait_log(r"pop3 disconnect address=127\.0\.0\.1 user=%s" % user.replace(".", r"\."), timeout=10)


@pytest.mark.slow
def test_idle_timeout(onebox_factory):
    ob = onebox_factory.make_pop3()
    ob.set("pop3_idle_timeout", "30")
    user = new_user(ob)
    deliver(ob, user, 1)
    place_message(ob, user, (b"Y" * 998 + b"\n") * 20000)     # 20 MB
    idle = ob.pop3(user="")
    stuck = ob.pop3(user)
    stuck.sock.setsockopt(__import__("socket").SOL_SOCKET, __import__("socket").SO_RCVBUF, 4096)
    stuck.send("RETR 2\r\n")
    t = time.monotonic()
    assert idle.line(timeout=45) == "-ERR Disconnected for inactivity"
    assert idle.is_closed()
    assert 25 < time.monotonic() - t < 45
    # the client that stopped reading is cut off as well (no goodbye possible)
    ob.wait_log(r"pop3 timeout address=127\.0\.0\.1 state=sending", timeout=15)
    idle.close()
    stuck.close()
    with ob.pop3(user) as c:
        assert c.cmd("STAT").startswith("+OK 2 "), "the mailbox lock must be released"


@pytest.mark.slow
def test_50mb_message_streamed_with_bounded_memory(onebox_factory):
    ob = onebox_factory.make_pop3()
    user = new_user(ob)
    deliver(ob, user, 1)
    line = b"0123456789" * 7 + b"\n"
    data = b"Subject: big\n\n" + b"".join(
        (b"." if i % 97 == 0 else b"") + line for i in range(50 * 1024 * 1024 // len(line)))
    place_message(ob, user, data)
    want = data.replace(b"\n.", b"\n..").replace(b"\n", b"\r\n")
    pid = service_pid(ob, "pop3d")
    base = rss_kb(pid)
    peak = [base]
    done = threading.Event()

    def sample():
        while not done.is_set():
            try:
                peak[0] = max(peak[0], rss_kb(pid))
            except (OSError, AssertionError):
                return
            time.sleep(0.01)

    th = threading.Thread(target=sample)
    th.start()
    try:
        with ob.pop3(user, timeout=120) as c:
            size = int(c.cmd("LIST 2").split()[2])
            assert size == len(data) + data.count(b"\n")
            assert c.cmd("RETR 2").startswith("+OK")
            got = c.multi_raw(timeout=120)
            assert c.cmd("QUIT").startswith("+OK")
    finally:
        done.set()
        th.join()
    assert len(got) == len(want)
    assert hashlib.sha256(got).digest() == hashlib.sha256(want).digest()
    grown = peak[0] - base
    # Under AddressSanitizer freed memory (OpenSSL's record buffers among it)
    # sits in a quarantine of up to 256 MB before reuse, so only the issue's
    # own bound holds there: the process must not grow by the message's size.
    bound = 40 * 1024 if sanitized(pid) else 10 * 1024
    assert grown < bound, "pop3d grew by %d KB while sending a 50 MB message" % grown


def test_disconnect_during_retr(shared_pop3):
    user = new_user(shared_pop3)
    deliver(shared_pop3, user, 1)
    place_message(shared_pop3, user, (b"Z" * 998 + b"\n") * 3000)
    for _ in range(3):
        c = shared_pop3.pop3(user)
        c.send("RETR 2\r\n")
        c.rawline()
        c.sock.recv(10000)
        c.close()
    with shared_pop3.pop3(user) as c:
        assert c.cmd("STAT").startswith("+OK 2 ")


def test_sigterm_with_open_sessions_expunges_nothing(onebox_factory):
    ob = onebox_factory.make_pop3()
    user, user2 = new_user(ob), new_user(ob)
    deliver(ob, user, 2)
    deliver(ob, user2, 1)
    a = ob.pop3(user)
    assert a.cmd("DELE 1").startswith("+OK")
    b = ob.pop3()                     # not logged in
    ob.stop()                        # exit status 0 checked
    for c in (a, b):
        try:
            r = c.line(timeout=5)
            assert r.startswith("-ERR [SYS/TEMP]"), r
        except (POP3Closed, ConnectionError):
            pass
        c.close()
    assert len(ob.message_files(user)) == 2, "a session without QUIT must not expunge"


@pytest.mark.slow
def test_reset_during_failed_login_delay_costs_no_cpu(onebox_factory):
    """RST while the "-ERR [AUTH]" answer is held back (input paused): no spin."""
    import socket
    import struct
    ob = onebox_factory.make_pop3(conf_extra={"plaintext_auth_listen": "127.0.0.1"})
    ob.set("auth_fail_delay_ms", "3000")
    user = new_user(ob)
    pid = service_pid(ob, "pop3d")
    c = ob.pop3(tls="none")
    assert c.cmd("USER " + user).startswith("+OK")
    c.send("PASS wrong\r\n")
    ob.wait_log(r"pop3 auth address=127\.0\.0\.1 result=failed")
    c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.sock.close()
    time.sleep(0.2)
    with open("/proc/%d/stat" % pid) as f:
        before = sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:13])
    time.sleep(2)
    with open("/proc/%d/stat" % pid) as f:
        used = sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:13]) - before
    assert used < 20, "pop3d used %d ticks in 2 s after a reset during the fail delay" % used
    ob.wait_log(r"pop3 disconnect address=127\.0\.0\.1", timeout=5)
