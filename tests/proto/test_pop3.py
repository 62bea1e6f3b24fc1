"""POP3 (issue 3): poplib over STLS and POP3S, curl, fetchmail, openssl
s_client; CAPA and the TLS rules for passwords; AUTH PLAIN; [IN-USE];
DELE/RSET/QUIT; UIDL stability; deliveries during a session; the exact
bytes of RETR and TOP (CRLF, dot-stuffing, octet counts).

Bad input, timeouts, big messages and shutdown are in test_pop3_input.py,
which reuses the helpers here (POP3Raw, pop3_box, new_user, ...).
"""

import base64
import itertools
import os
import poplib
import pwd
import re
import sqlite3
import subprocess
import time

import pytest

from conftest import ALICE, ALICE_PW, populate
from obtest import HOSTNAME, IS_ROOT, Onebox, client_tls_context, make_message

POP3_LISTENERS = {"smtp": ["127.0.0.1:0"], "pop3": ["127.0.0.1:0"], "pop3s": ["127.0.0.1:0"]}
PW = "Pop3-pw-7#"
_users = itertools.count(1)


# ---------------------------------------------------------------- helpers

class POP3Closed(Exception):
    pass


class POP3Raw:
    """Line-level POP3 client; every read has a timeout."""

    def __init__(self, host, port, tls=False, timeout=10, read_greeting=True):
        import socket
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""
        if tls:
            self.wrap_tls()
        self.greeting = self.line() if read_greeting else None

    def wrap_tls(self):
        assert not self.buf, "plaintext bytes buffered across STLS: %r" % self.buf
        self.sock = client_tls_context().wrap_socket(self.sock, server_hostname=HOSTNAME)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self, deadline):
        import socket
        import ssl
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("no answer from server; have %r" % self.buf[-200:])
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(1 << 20)
        except ssl.SSLZeroReturnError:
            chunk = b""
        if not chunk:
            raise POP3Closed("connection closed; partial %r" % self.buf[-200:])
        self.buf += chunk

    def rawline(self, timeout=None):
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\r\n" not in self.buf:
            self._fill(deadline)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def line(self, timeout=None):
        return self.rawline(timeout).decode("utf-8", "replace")

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.line()

    def multi_raw(self, timeout=None):
        """The body of a multi-line answer, as sent (stuffed, CRLF), without
        the final '.' line.  Linear in the size: big messages are fine."""
        deadline = time.monotonic() + (timeout or self.timeout)
        if self.buf.startswith(b".\r\n"):
            self.buf = self.buf[3:]
            return b""
        acc = bytearray(b"\r\n" + self.buf)     # a leading CRLF: "." may come first
        self.buf = b""
        start = 0
        while True:
            end = acc.find(b"\r\n.\r\n", start)
            if end >= 0:
                self.buf = bytes(acc[end + 5:])
                return bytes(acc[2:end + 2])
            start = max(0, len(acc) - 4)
            self._fill(deadline)
            acc += self.buf
            self.buf = b""

    def multi(self, first_cmd, timeout=None):
        """Send a command; returns (first line, [unstuffed lines]) or (line, None) on -ERR."""
        first = self.cmd(first_cmd)
        if not first.startswith("+OK"):
            return first, None
        raw = self.multi_raw(timeout)
        lines = raw.split(b"\r\n")[:-1] if raw else []
        return first, [ln[1:] if ln.startswith(b".") else ln for ln in lines]

    def login(self, user, password):
        r = self.cmd("USER " + user)
        assert r.startswith("+OK"), r
        r = self.cmd("PASS " + password)
        assert r.startswith("+OK"), r
        return r

    def stls(self):
        r = self.cmd("STLS")
        assert r.startswith("+OK"), r
        self.wrap_tls()

    def is_closed(self, timeout=3.0):
        import socket
        import ssl
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except (socket.timeout, TimeoutError):
            return False
        except (ConnectionResetError, ssl.SSLError, OSError):
            return True
        if data:
            self.buf += data
            return self.is_closed(timeout)
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def pop3_box(factory, **kw):
    """A started, populated instance with smtp, pop3 and pop3s listeners."""
    kw.setdefault("listeners", POP3_LISTENERS)
    return populate(factory.make(**kw))


def new_user(ob, password=PW):
    """A fresh mailbox on ob (so tests on a shared instance do not meet)."""
    addr = "p%d@local.test" % next(_users)
    ob.add_user(addr, password)
    return addr


def deliver(ob, rcpt, n=1, body=None, subject="pop3 test"):
    """n messages over SMTP; waits until they are in the Maildir."""
    have = len(ob.message_files(rcpt))
    for i in range(n):
        ob.send("sender@example.org", rcpt,
                make_message(to=rcpt, subject="%s %d" % (subject, i),
                             body=body if body is not None else "Message %d.\n" % i))
    got = ob.wait_messages(rcpt, have + n)
    assert len(got) >= have + n, "delivery of %d messages to %s incomplete" % (n, rcpt)


def place_message(ob, rcpt, data):
    """Put data (LF line ends) straight into rcpt's new/ as a delivered file
    would be named; returns the unique base.  For big or many messages."""
    md = ob.maildir(rcpt)
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(md, sub), exist_ok=True)
    place_message.n += 1
    t = time.time()
    base = "%d.M%06dP%dQ%d.placed" % (int(t), int((t - int(t)) * 1e6), os.getpid(),
                                      place_message.n)
    name = "%s,S=%d,W=%d" % (base, len(data), len(data) + data.count(b"\n"))
    tmp = os.path.join(md, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(data)
    if IS_ROOT:
        pw = pwd.getpwnam(ob.user)
        for p in (md, os.path.dirname(md), os.path.join(md, "tmp"), os.path.join(md, "new"),
                  os.path.join(md, "cur"), tmp):
            os.chown(p, pw.pw_uid, pw.pw_gid)
    os.rename(tmp, os.path.join(md, "new", name))
    return base


place_message.n = 0


def pop3(ob, user=None, password=PW, tls="stls", **kw):
    """POP3Raw to ob, TLS up (stls / pop3s / none), logged in if user is given."""
    c = POP3Raw("127.0.0.1", ob.port("pop3s" if tls == "pop3s" else "pop3"),
                tls=tls == "pop3s", **kw)
    assert c.greeting.startswith("+OK"), c.greeting
    if tls == "stls":
        c.stls()
    if user:
        c.login(user, password)
    return c


def pop3_after_start(ob, user, password=PW, timeout=10):
    """pop3() right after a (re)start: authd may not listen yet on its
    socket when the listeners already answer (a [SYS/TEMP] then)."""
    deadline = time.monotonic() + timeout
    while True:
        c = pop3(ob)
        c.cmd("USER " + user)
        r = c.cmd("PASS " + password)
        if r.startswith("+OK"):
            return c
        c.close()
        assert r.startswith("-ERR [SYS/TEMP]") and time.monotonic() < deadline, r
        time.sleep(0.1)


def uidl_map(c):
    first, lines = c.multi("UIDL")
    assert first.startswith("+OK"), first
    return dict(ln.decode().split(" ", 1) for ln in lines)


def pop3d_pid(ob):
    for pid in ob.child_pids():
        try:
            with open("/proc/%d/comm" % pid) as f:
                if f.read().strip() == "pop3d":
                    return pid
        except OSError:
            pass
    raise AssertionError("no pop3d process")


def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


@pytest.fixture(scope="module")
def box(request):
    """One instance for the tests of a module that use their own users."""
    from conftest import _Instances
    inst = _Instances()
    ob = pop3_box(inst, name="pop3")
    yield ob
    inst.teardown()


# ---------------------------------------------------------------- CAPA, TLS, login

def test_greeting_and_capa_before_and_after_stls(box):
    with pop3(box, tls="none") as c:
        assert c.greeting.startswith("+OK")
        first, caps = c.multi("CAPA")
        caps = [x.decode().upper() for x in caps]
        assert first.startswith("+OK")
        for want in ("TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE", "PIPELINING", "STLS"):
            assert want in caps, caps
        assert "USER" not in caps and not any(x.startswith("SASL") for x in caps), \
            "passwords offered before TLS: %s" % caps
        c.stls()
        caps = [x.decode().upper() for x in c.multi("CAPA")[1]]
        assert "USER" in caps and "SASL PLAIN LOGIN" in caps and "STLS" not in caps, caps


def test_passwords_refused_without_tls(box):
    user = new_user(box)
    with pop3(box, tls="none") as c:
        r = c.cmd("USER " + user)
        assert r.startswith("-ERR [AUTH]"), r
        r = c.cmd("PASS " + PW)
        assert r.startswith("-ERR [AUTH]"), r
        tok = base64.b64encode(("\0%s\0%s" % (user, PW)).encode()).decode()
        r = c.cmd("AUTH PLAIN " + tok)
        assert r.startswith("-ERR [AUTH]"), r
        assert c.cmd("STAT").startswith("-ERR")
    assert "PASS" + PW not in box.log() and PW not in box.log(), "password in the log"


def test_poplib_stls(box):
    user = new_user(box)
    deliver(box, user, 3)
    files = sorted(box.messages(user))
    p = poplib.POP3("127.0.0.1", box.port("pop3"), timeout=10)
    try:
        p.stls(client_tls_context())
        p.user(user)
        assert p.pass_(PW).startswith(b"+OK")
        count, octets = p.stat()
        assert count == 3
        resp, listing, _ = p.list()
        sizes = [int(x.split()[1]) for x in listing]
        assert sum(sizes) == octets
        got = []
        for i in range(1, 4):
            resp, lines, n = p.retr(i)
            body = b"\r\n".join(lines) + b"\r\n"
            assert len(body) == sizes[i - 1], "LIST size %d != RETR octets %d" % (
                sizes[i - 1], len(body))
            got.append(body)
        assert sorted(got) == sorted(crlf(f) for f in files)
        assert p.quit().startswith(b"+OK")
    finally:
        p.close()


def test_poplib_pop3s_and_auth_plain(box):
    user = new_user(box)
    deliver(box, user, 1)
    p = poplib.POP3_SSL("127.0.0.1", box.port("pop3s"), context=client_tls_context(), timeout=10)
    try:
        assert p.getwelcome().startswith(b"+OK")
        tok = base64.b64encode(("\0%s\0%s" % (user, PW)).encode()).decode()
        assert p._shortcmd("AUTH PLAIN " + tok).startswith(b"+OK")
        assert p.stat()[0] == 1
        p.quit()
    finally:
        p.close()


def test_auth_plain_continuation_and_cancel(box):
    user = new_user(box)
    tok = base64.b64encode(("\0%s\0%s" % (user, PW)).encode()).decode()
    with pop3(box) as c:
        first, mechs = c.multi("AUTH")
        assert first.startswith("+OK") and mechs == [b"PLAIN", b"LOGIN"], (first, mechs)
        assert c.cmd("AUTH PLAIN") == "+ "
        assert c.cmd("*").startswith("-ERR")
        assert c.cmd("AUTH CRAM-MD5").startswith("-ERR")
        assert c.cmd("AUTH PLAIN") == "+ "
        assert c.cmd("!!notbase64").startswith("-ERR")
        assert c.cmd("AUTH PLAIN") == "+ "
        assert c.cmd(tok).startswith("+OK"), "AUTH PLAIN continuation"
        assert c.cmd("STAT").startswith("+OK 0 0")



def test_auth_login(box):
    user = new_user(box)
    b64 = lambda t: base64.b64encode(t.encode()).decode()
    with pop3(box) as c:
        assert c.cmd("AUTH LOGIN") == "+ VXNlcm5hbWU6"
        assert c.cmd(b64(user)) == "+ UGFzc3dvcmQ6"
        assert c.cmd(b64(PW)).startswith("+OK"), "AUTH LOGIN"
        assert c.cmd("STAT").startswith("+OK")
    with pop3(box) as c:
        assert c.cmd("AUTH LOGIN " + b64(user)) == "+ UGFzc3dvcmQ6"
        assert c.cmd("*").startswith("-ERR")
        assert c.cmd("AUTH PLAIN " + b64("someone@else\0%s\0%s" % (user, PW))).startswith("-ERR [AUTH]"), \
            "an authzid other than the user must be refused"

def test_bad_password_then_good(box):
    user = new_user(box)
    with pop3(box) as c:
        assert c.cmd("USER " + user).startswith("+OK")
        assert c.cmd("PASS wrong").startswith("-ERR [AUTH]")
        assert c.cmd("STAT").startswith("-ERR")
        assert c.cmd("PASS " + PW).startswith("-ERR"), "PASS without USER"
        c.login(user, PW)
        assert c.cmd("STAT").startswith("+OK")
    with pop3(box) as c:
        assert c.cmd("USER nobody@local.test").startswith("+OK"), "USER must not reveal users"
        assert c.cmd("PASS " + PW).startswith("-ERR [AUTH]")


def test_failed_logins_are_throttled(onebox_factory):
    ob = pop3_box(onebox_factory)
    ob.set("auth_max_failures", "3")
    user = new_user(ob)
    with pop3(ob) as c:
        for _ in range(3):
            c.cmd("USER " + user)
            assert c.cmd("PASS bad").startswith("-ERR [AUTH]")
        c.cmd("USER " + user)
        r = c.cmd("PASS " + PW)
        assert r.startswith("-ERR [SYS/TEMP]"), "throttle: %s" % r
    assert re.search(r"pop3 auth address=127\.0\.0\.1 result=throttled", ob.log())


def test_fail_delay(onebox_factory):
    ob = pop3_box(onebox_factory)
    ob.set("auth_fail_delay_ms", "700")
    user = new_user(ob)
    with pop3(ob) as c:
        c.cmd("USER " + user)
        t = time.monotonic()
        assert c.cmd("PASS bad").startswith("-ERR [AUTH]")
        assert time.monotonic() - t >= 0.6


def test_plaintext_auth_listen(onebox_factory):
    ob = pop3_box(onebox_factory, conf_extra={"plaintext_auth_listen": "127.0.0.1"})
    user = new_user(ob)
    with pop3(ob, tls="none") as c:
        caps = [x.decode() for x in c.multi("CAPA")[1]]
        assert "USER" in caps and "SASL PLAIN LOGIN" in caps, caps
        c.login(user, PW)
        assert c.cmd("QUIT").startswith("+OK")


# ---------------------------------------------------------------- maildrop semantics

def test_in_use(box):
    user = new_user(box)
    deliver(box, user, 1)
    a = pop3(box, user)
    try:
        with pop3(box) as b:
            b.cmd("USER " + user)
            r = b.cmd("PASS " + PW)
            assert r.startswith("-ERR [IN-USE]"), r
            assert b.cmd("STAT").startswith("-ERR"), "[IN-USE] must leave the session unauthenticated"
            assert a.cmd("QUIT").startswith("+OK")
            assert a.is_closed()
            b.login(user, PW)
            assert b.cmd("STAT").startswith("+OK 1 ")
    finally:
        a.close()
    # a client that just vanishes releases the mailbox too
    c = pop3(box, user)
    c.close()
    deadline = time.monotonic() + 5
    while True:
        with pop3(box) as d:
            d.cmd("USER " + user)
            r = d.cmd("PASS " + PW)
        if r.startswith("+OK") or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert r.startswith("+OK"), r


def index_rows(ob, user):
    db = sqlite3.connect(os.path.join(ob.maildir(user), "onebox-index.db"))
    try:
        msgs = db.execute("SELECT uid, base FROM messages ORDER BY uid").fetchall()
        gone = [r[0] for r in db.execute("SELECT uid FROM expunged")]
    finally:
        db.close()
    return msgs, gone


def test_dele_rset_quit(box):
    user = new_user(box)
    deliver(box, user, 4)
    with pop3(box, user) as c:
        ids = uidl_map(c)
        assert c.cmd("DELE 1").startswith("+OK")
        assert c.cmd("DELE 1").startswith("-ERR"), "double DELE"
        assert c.cmd("RETR 1").startswith("-ERR")
        assert c.cmd("LIST 1").startswith("-ERR")
        assert c.cmd("STAT").startswith("+OK 3 ")
        assert "1" not in uidl_map(c)
        assert c.cmd("RSET").startswith("+OK")
        assert c.cmd("STAT").startswith("+OK 4 ")
        assert c.cmd("DELE 2").startswith("+OK")
        assert c.cmd("DELE 3").startswith("+OK")
    # no QUIT: nothing deleted
    assert len(box.message_files(user)) == 4
    with pop3(box, user) as c:
        assert c.cmd("STAT").startswith("+OK 4 ")
        assert c.cmd("DELE 2").startswith("+OK")
        assert c.cmd("DELE 3").startswith("+OK")
        r = c.cmd("QUIT")
        assert r.startswith("+OK"), r
        assert c.is_closed()
    assert len(box.message_files(user)) == 2
    msgs, gone = index_rows(box, user)
    assert [b for _, b in msgs] == [ids["1"], ids["4"]]
    assert len(gone) == 2
    with pop3(box, user) as c:
        assert c.cmd("STAT").startswith("+OK 2 ")
        assert list(uidl_map(c).values()) == [ids["1"], ids["4"]]


def test_uidl_stable_across_restart_and_index_rebuild(onebox_factory):
    ob = pop3_box(onebox_factory)
    user = new_user(ob)
    deliver(ob, user, 5)
    with pop3(ob, user) as c:
        before = uidl_map(c)
        assert c.cmd("QUIT").startswith("+OK")
    assert len(set(before.values())) == 5
    for v in before.values():
        assert 1 <= len(v) <= 70 and all(0x21 <= ord(ch) <= 0x7e for ch in v), v
    ob.restart()
    with pop3_after_start(ob, user) as c:
        assert uidl_map(c) == before
        c.cmd("QUIT")
    for f in os.listdir(ob.maildir(user)):
        if f.startswith("onebox-index.db"):
            os.unlink(os.path.join(ob.maildir(user), f))
    with pop3(ob, user) as c:
        assert uidl_map(c) == before, "UIDL changed after an index rebuild"
        assert c.cmd("DELE 2").startswith("+OK")
        assert c.cmd("QUIT").startswith("+OK")
    with pop3(ob, user) as c:
        after = uidl_map(c)
    assert sorted(after.values()) == sorted(v for k, v in before.items() if k != "2")


def test_delivery_during_session(box):
    user = new_user(box)
    deliver(box, user, 2)
    with pop3(box, user) as c:
        assert c.cmd("STAT").startswith("+OK 2 ")
        deliver(box, user, 1, subject="late")
        assert c.cmd("STAT").startswith("+OK 2 "), "the list changed during the session"
        assert len(c.multi("LIST")[1]) == 2
        assert c.cmd("RETR 3").startswith("-ERR")
        assert c.cmd("DELE 1").startswith("+OK")
        assert c.cmd("QUIT").startswith("+OK")
    with pop3(box, user) as c:
        assert c.cmd("STAT").startswith("+OK 2 ")
        first, lines = c.multi("RETR 2")
        assert b"Subject: late 0" in lines


# ---------------------------------------------------------------- RETR / TOP bytes

TRICKY = (b"Subject: dots\n\n.\n..\n.leading dot\nnormal\n.\n\nlast line without newline")


def test_retr_crlf_and_dot_stuffing_exact(box):
    user = new_user(box)
    deliver(box, user, 1)            # creates the Maildir as the service user
    place_message(box, user, TRICKY)
    with pop3(box, user) as c:
        listed = int(c.cmd("LIST 2").split()[2])
        assert c.cmd("RETR 2").startswith("+OK")
        raw = c.multi_raw()
    want = (b"Subject: dots\r\n\r\n..\r\n...\r\n..leading dot\r\nnormal\r\n..\r\n\r\n"
            b"last line without newline\r\n")
    assert raw == want
    assert listed == len(TRICKY) + TRICKY.count(b"\n")


def test_top(box):
    user = new_user(box)
    deliver(box, user, 1)
    place_message(box, user, b"A: 1\nB: 2\n\n.one\ntwo\nthree\n")
    with pop3(box, user) as c:
        c.cmd("TOP 2 0")
        assert c.multi_raw() == b"A: 1\r\nB: 2\r\n\r\n"
        c.cmd("TOP 2 2")
        assert c.multi_raw() == b"A: 1\r\nB: 2\r\n\r\n..one\r\ntwo\r\n"
        c.cmd("TOP 2 99999")
        assert c.multi_raw() == b"A: 1\r\nB: 2\r\n\r\n..one\r\ntwo\r\nthree\r\n"
        assert c.cmd("TOP 2").startswith("-ERR")
        assert c.cmd("TOP 9 1").startswith("-ERR")
        assert c.cmd("NOOP") == "+OK"


def test_pipelined_commands(box):
    user = new_user(box)
    deliver(box, user, 3)
    with pop3(box, user) as c:
        c.send("STAT\r\n" + "RETR 1\r\nRETR 2\r\nRETR 3\r\n" * 50 + "UIDL\r\nNOOP\r\n")
        assert c.line().startswith("+OK 3 ")
        for _ in range(150):
            assert c.line().startswith("+OK")
            assert b"Message " in c.multi_raw()
        assert c.line().startswith("+OK")
        assert len(c.multi_raw().split(b"\r\n")) == 4
        assert c.line() == "+OK"


# ---------------------------------------------------------------- real clients

def curl(*args):
    return subprocess.run(["curl", "-s", "-S", "--max-time", "20", "-k"] + list(args),
                          capture_output=True, timeout=30)


def test_curl_pop3_and_pop3s(box):
    user = new_user(box)
    deliver(box, user, 2, body="curl body\n")
    url = "pop3://127.0.0.1:%d/" % box.port("pop3")
    p = curl("--ssl-reqd", "-u", "%s:%s" % (user, PW), url)
    assert p.returncode == 0, p.stderr
    assert re.findall(rb"^\d+ \d+", p.stdout, re.M) and len(p.stdout.splitlines()) == 2, p.stdout
    p = curl("--ssl-reqd", "-u", "%s:%s" % (user, PW), url + "2")
    assert p.returncode == 0 and b"curl body" in p.stdout and b"Subject: pop3 test 1" in p.stdout, p
    p = curl("-u", "%s:%s" % (user, PW), "pop3s://127.0.0.1:%d/1" % box.port("pop3s"))
    assert p.returncode == 0 and b"Subject: pop3 test 0" in p.stdout, p
    # without TLS curl cannot log in (no USER, no SASL offered)
    p = curl("-u", "%s:%s" % (user, PW), url)
    assert p.returncode != 0


def run_fetchmail(ob, user, tmpdir, out):
    rc = os.path.join(tmpdir, "fetchmailrc")
    with open(rc, "w") as f:
        f.write('poll 127.0.0.1 service %d protocol pop3 uidl\n'
                '  user "%s" there with password "%s" is root here\n'
                '  sslproto "tls1.2+" no sslcertck keep\n'
                '  mda "/bin/sh -c \'cat >> %s; echo ==END== >> %s\'"\n'
                % (ob.port("pop3"), user, PW, out, out))
    os.chmod(rc, 0o600)
    env = dict(os.environ, HOME=tmpdir, FETCHMAILHOME=tmpdir)
    return subprocess.run(["fetchmail", "-f", rc, "--idfile", os.path.join(tmpdir, "ids"),
                           "--nodetach", "--nosyslog", "-v"],
                          capture_output=True, text=True, timeout=60, env=env)


def test_fetchmail_keep_fetches_nothing_twice(box, tmp_path):
    user = new_user(box)
    deliver(box, user, 3)
    out = str(tmp_path / "mbox")
    p = run_fetchmail(box, user, str(tmp_path), out)
    assert p.returncode == 0, p.stdout + p.stderr
    assert open(out).read().count("==END==") == 3
    assert len(box.message_files(user)) == 3, "keep: the messages stay on the server"
    p = run_fetchmail(box, user, str(tmp_path), out)
    assert p.returncode == 1, "second run should find no new mail:\n" + p.stdout + p.stderr
    assert open(out).read().count("==END==") == 3
    deliver(box, user, 1, subject="fourth")
    p = run_fetchmail(box, user, str(tmp_path), out)
    assert p.returncode == 0, p.stdout + p.stderr
    text = open(out).read()
    assert text.count("==END==") == 4 and text.count("Subject: fourth 0") == 1


def test_openssl_s_client_starttls_pop3(box):
    user = new_user(box)
    deliver(box, user, 2)
    script = "USER %s\r\nPASS %s\r\nSTAT\r\nQUIT\r\n" % (user, PW)
    p = subprocess.run(["openssl", "s_client", "-starttls", "pop3", "-quiet", "-connect",
                        "127.0.0.1:%d" % box.port("pop3")], input=script.encode(),
                       capture_output=True, timeout=30)
    out = p.stdout.decode()
    assert "+OK 2 " in out and "+OK Bye" in out, out + p.stderr.decode()


def test_stls_discards_pipelined_plaintext(box):
    with pop3(box, tls="none") as c:
        c.send("STLS\r\nCAPA\r\n")
        assert c.line().startswith("+OK")
        c.wrap_tls()
        # the injected CAPA must not be answered; NOOP in AUTHORIZATION is -ERR
        r = c.cmd("NOOP")
        assert r.startswith("-ERR"), "pipelined plaintext command answered after STLS: %s" % r


# ---------------------------------------------------------------- the loop never stalls

@pytest.mark.slow
def test_large_mailbox_login_does_not_stall_others(box):
    """The first login to a big mailbox syncs its index (every file gets a
    UID, new/ moves to cur/).  That runs in a worker thread: another
    session's commands are answered meanwhile without waiting for it."""
    import threading
    big = new_user(box)
    md = box.maildir(big)
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(md, sub), exist_ok=True)
    n = 20000
    t0 = int(time.time()) - 100
    for i in range(n):
        name = "%d.M%06dP1Q%d.big,S=20,W=21" % (t0, i, i)
        with open(os.path.join(md, "new", name), "wb") as f:
            f.write(b"Subject: x\n\nhello\n")
    if IS_ROOT:
        pw = pwd.getpwnam(box.user)
        for root, dirs, files in os.walk(os.path.dirname(md)):
            for x in dirs + files:
                os.chown(os.path.join(root, x), pw.pw_uid, pw.pw_gid)
        os.chown(os.path.dirname(md), pw.pw_uid, pw.pw_gid)

    other = new_user(box)
    c = pop3(box, other)
    login = {}

    def big_login():
        t = time.monotonic()
        b = pop3(box, big, timeout=120)
        login["secs"] = time.monotonic() - t
        login["stat"] = b.cmd("STAT")
        b.cmd("QUIT")
        b.close()

    th = threading.Thread(target=big_login)
    th.start()
    worst = 0.0
    while th.is_alive():
        t = time.monotonic()
        assert c.cmd("NOOP").startswith("+OK")
        worst = max(worst, time.monotonic() - t)
        time.sleep(0.005)
    th.join()
    c.cmd("QUIT")
    c.close()
    assert login["stat"].startswith("+OK %d " % n), login
    # the big login took a while; the other session was never held up by it
    assert worst < max(0.25, login["secs"] / 4), (worst, login["secs"])


def test_login_clears_stale_tmp_files(box):
    """A crash can leave a half-written file in tmp/ (never answered 250):
    opening the mailbox removes those older than 36 hours, not newer ones."""
    user = new_user(box)
    deliver(box, user, 1)
    tmp = os.path.join(box.maildir(user), "tmp")
    old, fresh = os.path.join(tmp, "old.partial"), os.path.join(tmp, "fresh.partial")
    for p in (old, fresh):
        with open(p, "wb") as f:
            f.write(b"half a message")
    t = time.time() - 40 * 3600
    os.utime(old, (t, t))
    with pop3(box, user) as c:
        assert c.cmd("STAT").startswith("+OK 1 ")
        c.cmd("QUIT")
    assert not os.path.exists(old) and os.path.exists(fresh)
