"""POP3 (issue 3): poplib over STLS and POP3S, curl, fetchmail, openssl
s_client; CAPA and the TLS rules for passwords; AUTH PLAIN; [IN-USE];
DELE/RSET/QUIT; UIDL stability; deliveries during a session; the exact
bytes of RETR and TOP (CRLF, dot-stuffing, octet counts).

Bad input, timeouts, big messages and shutdown are in test_pop3_input.py.
The client (POP3Raw, Onebox.pop3) and helpers (new_user, deliver,
place_message) are in obtest.py, the fixtures (shared_pop3, pop3_onebox,
onebox_factory.make_pop3) in conftest.py.
"""

import base64
import os
import poplib
import pwd
import re
import sqlite3
import subprocess
import time

import pytest

from obtest import IS_ROOT, NEW_USER_PW as PW, client_tls_context, deliver, new_user, place_message



# ---------------------------------------------------------------- helpers

def pop3_after_start(ob, user, password=PW, timeout=10):
    """pop3() right after a (re)start: authd may not listen yet on its
    socket when the listeners already answer (a [SYS/TEMP] then)."""
    deadline = time.monotonic() + timeout
    while True:
        c = ob.pop3()
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


def crlf(data):
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


# ---------------------------------------------------------------- CAPA, TLS, login

def test_greeting_and_capa_before_and_after_stls(shared_pop3):
    with shared_pop3.pop3(tls="none") as c:
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


def test_passwords_refused_without_tls(shared_pop3):
    user = new_user(shared_pop3)
    with shared_pop3.pop3(tls="none") as c:
        r = c.cmd("USER " + user)
        assert r.startswith("-ERR [AUTH]"), r
        r = c.cmd("PASS " + PW)
        assert r.startswith("-ERR [AUTH]"), r
        tok = base64.b64encode(("\0%s\0%s" % (user, PW)).encode()).decode()
        r = c.cmd("AUTH PLAIN " + tok)
        assert r.startswith("-ERR [AUTH]"), r
        assert c.cmd("STAT").startswith("-ERR")
    assert "PASS" + PW not in shared_pop3.log() and PW not in shared_pop3.log(), "password in the log"


def test_poplib_stls(shared_pop3):
    user = new_user(shared_pop3)
    deliver(shared_pop3, user, 3)
    files = sorted(shared_pop3.messages(user))
    p = poplib.POP3("127.0.0.1", shared_pop3.port("pop3"), timeout=10)
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


def test_poplib_pop3s_and_auth_plain(shared_pop3):
    user = new_user(shared_pop3)
    deliver(shared_pop3, user, 1)
    p = poplib.POP3_SSL("127.0.0.1", shared_pop3.port("pop3s"), context=client_tls_context(), timeout=10)
    try:
        assert p.getwelcome().startswith(b"+OK")
        tok = base64.b64encode(("\0%s\0%s" % (user, PW)).encode()).decode()
        assert p._shortcmd("AUTH PLAIN " + tok).startswith(b"+OK")
        assert p.stat()[0] == 1
        p.quit()
    finally:
        p.close()


def test_auth_plain_continuation_and_cancel(shared_pop3):
    user = new_user(shared_pop3)
    tok = base64.b64encode(("\0%s\0%s" % (user, PW)).encode()).decode()
    with shared_pop3.pop3() as c:
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



def test_auth_login(shared_pop3):
    user = new_user(shared_pop3)
    b64 = lambda t: base64.b64encode(t.encode()).decode()
    with shared_pop3.pop3() as c:
        assert c.cmd("AUTH LOGIN") == "+ VXNlcm5hbWU6"
        assert c.cmd(b64(user)) == "+ UGFzc3dvcmQ6"
        assert c.cmd(b64(PW)).startswith("+OK"), "AUTH LOGIN"
        assert c.cmd("STAT").startswith("+OK")
    with shared_pop3.pop3() as c:
        assert c.cmd("AUTH LOGIN " + b64(user)) == "+ UGFzc3dvcmQ6"
        assert c.cmd("*").startswith("-ERR")
        assert c.cmd("AUTH PLAIN " + b64("someone@else\0%s\0%s" % (user, PW))).startswith("-ERR [AUTH]"), \
            "an authzid other than the user must be refused"


def test_bad_password_then_good(shared_pop3):
    user = new_user(shared_pop3)
    with shared_pop3.pop3() as c:
        assert c.cmd("USER " + user).startswith("+OK")
        assert c.cmd("PASS wrong").startswith("-ERR [AUTH]")
        assert c.cmd("STAT").startswith("-ERR")
        assert c.cmd("PASS " + PW).startswith("-ERR"), "PASS without USER"
        c.login(user, PW)
        assert c.cmd("STAT").startswith("+OK")
    with shared_pop3.pop3() as c:
        assert c.cmd("USER nobody@local.test").startswith("+OK"), "USER must not reveal users"
        assert c.cmd("PASS " + PW).startswith("-ERR [AUTH]")


def test_failed_logins_are_throttled(onebox_factory):
    ob = onebox_factory.make_pop3()
    ob.set("auth_max_failures", "3")
    user = new_user(ob)
    with ob.pop3() as c:
        for _ in range(3):
            c.cmd("USER " + user)
            assert c.cmd("PASS bad").startswith("-ERR [AUTH]")
        c.cmd("USER " + user)
        r = c.cmd("PASS " + PW)
        assert r.startswith("-ERR [SYS/TEMP]"), "throttle: %s" % r
    assert re.search(r"pop3 auth address=127\.0\.0\.1 result=throttled", ob.log())


def test_fail_delay(onebox_factory):
    ob = onebox_factory.make_pop3()
    ob.set("auth_fail_delay_ms", "700")
    user = new_user(ob)
    with ob.pop3() as c:
        c.cmd("USER " + user)
        t = time.monotonic()
        assert c.cmd("PASS bad").startswith("-ERR [AUTH]")
        assert time.monotonic() - t >= 0.6


def test_plaintext_auth_listen(onebox_factory):
    ob = onebox_factory.make_pop3(conf_extra={"plaintext_auth_listen": "127.0.0.1"})
    user = new_user(ob)
    with ob.pop3(tls="none") as c:
        caps = [x.decode() for x in c.multi("CAPA")[1]]
        assert "USER" in caps and "SASL PLAIN LOGIN" in caps, caps
        c.login(user, PW)
        assert c.cmd("QUIT").startswith("+OK")


# ---------------------------------------------------------------- maildrop semantics

def test_in_use(shared_pop3):
    user = new_user(shared_pop3)
    deliver(shared_pop3, user, 1)
    a = shared_pop3.pop3(user)
    try:
        with shared_pop3.pop3() as b:
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
    c = shared_pop3.pop3(user)
    c.close()
    deadline = time.monotonic() + 5
    while True:
        with shared_pop3.pop3() as d:
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


def test_dele_rset_quit(shared_pop3):
    user = new_user(shared_pop3)
    deliver(shared_pop3, user, 4)
    with shared_pop3.pop3(user) as c:
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
    assert len(shared_pop3.message_files(user)) == 4
    with shared_pop3.pop3(user) as c:
        assert c.cmd("STAT").startswith("+OK 4 ")
        assert c.cmd("DELE 2").startswith("+OK")
        assert c.cmd("DELE 3").startswith("+OK")
        r = c.cmd("QUIT")
        assert r.startswith("+OK"), r
        assert c.is_closed()
    assert len(shared_pop3.message_files(user)) == 2
    msgs, gone = index_rows(shared_pop3, user)
    assert [b for _, b in msgs] == [ids["1"], ids["4"]]
    assert len(gone) == 2
    with shared_pop3.pop3(user) as c:
        assert c.cmd("STAT").startswith("+OK 2 ")
        assert list(uidl_map(c).values()) == [ids["1"], ids["4"]]


def test_uidl_stable_across_restart_and_index_rebuild(onebox_factory):
    ob = onebox_factory.make_pop3()
    user = new_user(ob)
    deliver(ob, user, 5)
    with ob.pop3(user) as c:
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
    with ob.pop3(user) as c:
        assert uidl_map(c) == before, "UIDL changed after an index rebuild"
        assert c.cmd("DELE 2").startswith("+OK")
        assert c.cmd("QUIT").startswith("+OK")
    with ob.pop3(user) as c:
        after = uidl_map(c)
    assert sorted(after.values()) == sorted(v for k, v in before.items() if k != "2")


def test_delivery_during_session(shared_pop3):
    user = new_user(shared_pop3)
    deliver(shared_pop3, user, 2)
    with shared_pop3.pop3(user) as c:
        assert c.cmd("STAT").startswith("+OK 2 ")
        deliver(shared_pop3, user, 1, subject="late")
        assert c.cmd("STAT").startswith("+OK 2 "), "the list changed during the session"
        assert len(c.multi("LIST")[1]) == 2
        assert c.cmd("RETR 3").startswith("-ERR")
        assert c.cmd("DELE 1").startswith("+OK")
        assert c.cmd("QUIT").startswith("+OK")
    with shared_pop3.pop3(user) as c:
        assert c.cmd("STAT").startswith("+OK 2 ")
        first, lines = c.multi("RETR 2")
        assert b"Subject: late 0" in lines


# ---------------------------------------------------------------- RETR / TOP bytes

TRICKY = (b"Subject: dots\n\n.\n..\n.leading dot\nnormal\n.\n\nlast line without newline")


def test_retr_crlf_and_dot_stuffing_exact(shared_pop3):
    user = new_user(shared_pop3)
    deliver(shared_pop3, user, 1)            # creates the Maildir as the service user
    place_message(shared_pop3, user, TRICKY)
    with shared_pop3.pop3(user) as c:
        listed = int(c.cmd("LIST 2").split()[2])
        assert c.cmd("RETR 2").startswith("+OK")
        raw = c.multi_raw()
    want = (b"Subject: dots\r\n\r\n..\r\n...\r\n..leading dot\r\nnormal\r\n..\r\n\r\n"
            b"last line without newline\r\n")
    assert raw == want
    assert listed == len(TRICKY) + TRICKY.count(b"\n")


def test_top(shared_pop3):
    user = new_user(shared_pop3)
    deliver(shared_pop3, user, 1)
    place_message(shared_pop3, user, b"A: 1\nB: 2\n\n.one\ntwo\nthree\n")
    with shared_pop3.pop3(user) as c:
        c.cmd("TOP 2 0")
        assert c.multi_raw() == b"A: 1\r\nB: 2\r\n\r\n"
        c.cmd("TOP 2 2")
        assert c.multi_raw() == b"A: 1\r\nB: 2\r\n\r\n..one\r\ntwo\r\n"
        c.cmd("TOP 2 99999")
        assert c.multi_raw() == b"A: 1\r\nB: 2\r\n\r\n..one\r\ntwo\r\nthree\r\n"
        assert c.cmd("TOP 2").startswith("-ERR")
        assert c.cmd("TOP 9 1").startswith("-ERR")
        assert c.cmd("NOOP") == "+OK"


def test_pipelined_commands(shared_pop3):
    user = new_user(shared_pop3)
    deliver(shared_pop3, user, 3)
    with shared_pop3.pop3(user) as c:
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


def test_curl_pop3_and_pop3s(shared_pop3):
    user = new_user(shared_pop3)
    deliver(shared_pop3, user, 2, body="curl body\n")
    url = "pop3://127.0.0.1:%d/" % shared_pop3.port("pop3")
    p = curl("--ssl-reqd", "-u", "%s:%s" % (user, PW), url)
    assert p.returncode == 0, p.stderr
    assert re.findall(rb"^\d+ \d+", p.stdout, re.M) and len(p.stdout.splitlines()) == 2, p.stdout
    p = curl("--ssl-reqd", "-u", "%s:%s" % (user, PW), url + "2")
    assert p.returncode == 0 and b"curl body" in p.stdout and b"Subject: pop3 test 1" in p.stdout, p
    p = curl("-u", "%s:%s" % (user, PW), "pop3s://127.0.0.1:%d/1" % shared_pop3.port("pop3s"))
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


def test_fetchmail_keep_fetches_nothing_twice(shared_pop3, tmp_path):
    user = new_user(shared_pop3)
    deliver(shared_pop3, user, 3)
    out = str(tmp_path / "mbox")
    p = run_fetchmail(shared_pop3, user, str(tmp_path), out)
    assert p.returncode == 0, p.stdout + p.stderr
    assert open(out).read().count("==END==") == 3
    assert len(shared_pop3.message_files(user)) == 3, "keep: the messages stay on the server"
    p = run_fetchmail(shared_pop3, user, str(tmp_path), out)
    assert p.returncode == 1, "second run should find no new mail:\n" + p.stdout + p.stderr
    assert open(out).read().count("==END==") == 3
    deliver(shared_pop3, user, 1, subject="fourth")
    p = run_fetchmail(shared_pop3, user, str(tmp_path), out)
    assert p.returncode == 0, p.stdout + p.stderr
    text = open(out).read()
    assert text.count("==END==") == 4 and text.count("Subject: fourth 0") == 1


def test_openssl_s_client_starttls_pop3(shared_pop3):
    user = new_user(shared_pop3)
    deliver(shared_pop3, user, 2)
    script = "USER %s\r\nPASS %s\r\nSTAT\r\nQUIT\r\n" % (user, PW)
    p = subprocess.run(["openssl", "s_client", "-starttls", "pop3", "-quiet", "-connect",
                        "127.0.0.1:%d" % shared_pop3.port("pop3")], input=script.encode(),
                       capture_output=True, timeout=30)
    out = p.stdout.decode()
    assert "+OK 2 " in out and "+OK Bye" in out, out + p.stderr.decode()


def test_stls_discards_pipelined_plaintext(shared_pop3):
    with shared_pop3.pop3(tls="none") as c:
        c.send("STLS\r\nCAPA\r\n")
        assert c.line().startswith("+OK")
        c.wrap_tls()
        # the injected CAPA must not be answered; NOOP in AUTHORIZATION is -ERR
        r = c.cmd("NOOP")
        assert r.startswith("-ERR"), "pipelined plaintext command answered after STLS: %s" % r


# ---------------------------------------------------------------- the loop never stalls

@pytest.mark.slow
def test_large_mailbox_login_does_not_stall_others(shared_pop3):
    """The first login to a big mailbox syncs its index (every file gets a
    UID, new/ moves to cur/).  That runs in a worker thread: another
    session's commands are answered meanwhile without waiting for it."""
    import threading
    big = new_user(shared_pop3)
    md = shared_pop3.maildir(big)
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(md, sub), exist_ok=True)
    n = 20000
    t0 = int(time.time()) - 100
    for i in range(n):
        name = "%d.M%06dP1Q%d.big,S=20,W=21" % (t0, i, i)
        with open(os.path.join(md, "new", name), "wb") as f:
            f.write(b"Subject: x\n\nhello\n")
    if IS_ROOT:
        pw = pwd.getpwnam(shared_pop3.user)
        for root, dirs, files in os.walk(os.path.dirname(md)):
            for x in dirs + files:
                os.chown(os.path.join(root, x), pw.pw_uid, pw.pw_gid)
        os.chown(os.path.dirname(md), pw.pw_uid, pw.pw_gid)

    other = new_user(shared_pop3)
    c = shared_pop3.pop3(other)
    login = {}

    def big_login():
        t = time.monotonic()
        b = shared_pop3.pop3(big, timeout=120)
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


def test_login_clears_stale_tmp_files(shared_pop3):
    """A crash can leave a half-written file in tmp/ (never answered 250):
    opening the mailbox removes those older than 36 hours, not newer ones."""
    user = new_user(shared_pop3)
    deliver(shared_pop3, user, 1)
    tmp = os.path.join(shared_pop3.maildir(user), "tmp")
    old, fresh = os.path.join(tmp, "old.partial"), os.path.join(tmp, "fresh.partial")
    for p in (old, fresh):
        with open(p, "wb") as f:
            f.write(b"half a message")
    t = time.time() - 40 * 3600
    os.utime(old, (t, t))
    with shared_pop3.pop3(user) as c:
        assert c.cmd("STAT").startswith("+OK 1 ")
        c.cmd("QUIT")
    assert not os.path.exists(old) and os.path.exists(fresh)
