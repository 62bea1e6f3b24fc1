"""IMAP APPEND: message literal streamed into the folder (CR LF stored as
LF, exact bytes back through FETCH), flags and date, {n} and {n+},
[TRYCREATE], max_message_size ([TOOBIG] before the data), quota
([OVERQUOTA]), bare CR kept, imaplib."""

import imaplib
import re
import os
import time

from obtest import new_user

PW = "Pop3-pw-7#"
MSG = b"From: a@example.org\r\nSubject: appended\r\n\r\nHello\r\nworld\r\n"


def files(ob, user, folder=""):
    d = os.path.join(ob.maildir(user), folder)
    return [os.path.join(d, s, f) for s in ("new", "cur") for f in sorted(os.listdir(os.path.join(d, s)))]


def test_append_sync_literal_and_fetch_back(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap(user) as c:
        c.send_line('a APPEND Drafts (\\Draft \\Seen) "05-Mar-2024 10:20:30 +0100" {%d}' % len(MSG))
        assert c.read_line().startswith("+ ")
        c.send(MSG + b"\r\n")
        _, r = c.tagged("a")
        assert re.match(r"a OK \[APPENDUID \d+ \d+\] APPEND completed$", r), r
        (path,) = files(shared_imap, user, ".Drafts")
        assert path.endswith(":2,DS") and "/cur/" in path
        assert open(path, "rb").read() == MSG.replace(b"\r\n", b"\n")
        assert int(os.stat(path).st_mtime) == 1709630430
        c.ok("SELECT Drafts")
        got = c.ok("FETCH 1 (FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])")[0]
        assert 'FLAGS (\\Seen \\Draft) INTERNALDATE "05-Mar-2024 09:20:30 +0000" RFC822.SIZE %d' % len(MSG) in got
        assert got.endswith(MSG.decode() + ")")


def test_append_with_keywords(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap(user) as c:
        c.send(b"a APPEND INBOX (\\Seen $Forwarded) {%d+}\r\n" % len(MSG) + MSG + b"\r\n")
        _, r = c.tagged("a")
        assert " OK " in r, r
        (path,) = files(shared_imap, user)
        assert path.endswith(":2,Sa"), path
        c.ok("SELECT INBOX")
        assert c.ok("FETCH 1 FLAGS") == ["* 1 FETCH (FLAGS (\\Seen $Forwarded))"]


def test_append_nonsync_and_plain(shared_imap):
    user = new_user(shared_imap)
    with shared_imap.imap(user) as c:
        c.send(b"a APPEND INBOX {%d+}\r\n" % len(MSG) + MSG + b"\r\n")
        _, r = c.tagged("a")
        assert re.match(r"a OK \[APPENDUID \d+ \d+\] APPEND completed$", r), r
        (path,) = files(shared_imap, user)
        assert "/new/" in path
        assert c.ok("SELECT INBOX")[2] == "* 1 EXISTS"


def test_append_refusals(onebox_factory):
    ob = onebox_factory.make_imap()
    ob.set("max_message_size", "10K")
    with ob.imap("alice@local.test", "Alice-pw-1!") as c:
        c.send_line("a APPEND Nope {5}")
        assert c.read_line().startswith("a NO [TRYCREATE]")
        c.send_line("b APPEND INBOX {20000}")
        assert c.read_line().startswith("b NO [TOOBIG]")
        c.send(b"c APPEND INBOX {20000+}\r\n" + b"x" * 20000 + b"\r\n")
        assert c.read_line().startswith("c NO [TOOBIG]")
        c.send_line('d APPEND INBOX (\\Recent) {5}')
        assert c.read_line().startswith("d BAD")
        c.send_line('e APPEND INBOX "bad date" {5}')
        assert c.read_line().startswith("e BAD")
        c.send_line('f APPEND INBOX')
        assert c.read_line().startswith("f BAD")
        c.send(b"g APPEND INBOX {3+}\r\nabc extra\r\n")
        assert c.read_line().startswith("g BAD")
        c.ok("NOOP")
    assert ob.messages("alice@local.test") == []


def test_append_over_quota(onebox_factory):
    ob = onebox_factory.make_imap()
    ob.add_user("q@local.test", PW, quota="1K")
    with ob.imap("q@local.test") as c:
        c.send_line("a APPEND INBOX {2000}")
        assert c.read_line().startswith("a NO [OVERQUOTA]")
        c.send(b"b APPEND INBOX {%d+}\r\n" % len(MSG) + MSG + b"\r\n")
        assert re.match(r"b OK \[APPENDUID \d+ 1\] APPEND completed$", c.tagged("b")[1])


def test_append_bare_cr_kept_and_big(shared_imap):
    user = new_user(shared_imap)
    big = b"Subject: big\r\n\r\n" + (b"y" * 998 + b"\r\n") * 3000 + b"odd\rcr\r\n"
    with shared_imap.imap(user) as c:
        c.send(b"a APPEND INBOX {%d+}\r\n" % len(big) + big + b"\r\n")
        _, r = c.tagged("a", timeout=30)
        assert re.match(r"a OK \[APPENDUID \d+ \d+\] APPEND completed$", r), r
        (path,) = files(shared_imap, user)
        assert open(path, "rb").read() == big.replace(b"\r\n", b"\n")


def test_imaplib_append(shared_imap):
    user = new_user(shared_imap)
    c = shared_imap.imaplib()
    c.login(user, PW)
    typ, _ = c.append("Sent", "(\\Seen)", imaplib.Time2Internaldate(time.time()), MSG)
    assert typ == "OK"
    c.select("Sent")
    typ, data = c.fetch("1", "(BODY.PEEK[])")
    assert data[0][1] == MSG
    c.logout()
